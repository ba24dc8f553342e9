"""geo.service against the database: match_address, grid_at, locate, index refresh."""

import pytest

from pingan.auth.actor import Actor
from pingan.errors import ValidationFailed
from pingan.geo import service
from pingan.geo.models import Grid, ZoneClass
from pingan.geo.spatial import haversine_m
from pingan.org.system import org_path_of
from tests.geo.conftest import HONGQI, add_address


def actor_for(db, world, username):
    user = world.users[username]
    return Actor.for_user(user, org_path_of(db=db, org_unit_id=user.org_unit_id))


def test_match_address_ranks_the_registry(db, registry):
    dispatcher = actor_for(db, registry.world, "dispatcher")
    results = service.match_address(db=db, actor=dispatcher, text="紅旗區平原路123號5-2-301")
    assert results[0].address_id == registry["5-2-301"].id
    assert results[0].full_text == registry["5-2-301"].full_text
    assert results[0].grid_id == registry.world.grids["a"].id
    assert (results[0].lat, results[0].lon) == (registry["5-2-301"].lat, registry["5-2-301"].lon)
    assert results[0].score >= 0.6
    assert len(service.match_address(db=db, actor=dispatcher, text="平原路123号", limit=3)) == 3
    assert service.match_address(db=db, actor=dispatcher, text="   ") == []


def test_match_address_is_filtered_to_the_jurisdiction(db, registry):
    chief_b = actor_for(db, registry.world, "chief_b")
    chief_a = actor_for(db, registry.world, "chief_a")
    assert service.match_address(db=db, actor=chief_b, text="红旗区平原路123号5-2-301") == []
    only_b = service.match_address(db=db, actor=chief_b, text="人民路9号")
    assert [c.address_id for c in only_b] == [registry["人民路9号-卫滨"].id]
    assert service.match_address(db=db, actor=chief_a, text="卫滨区胜利路8号") == []
    # an address with no grid yet is seen from the bureau only
    assert service.match_address(db=db, actor=chief_a, text="红旗区纬七路77号") == []
    dispatcher = actor_for(db, registry.world, "dispatcher")
    assert service.match_address(db=db, actor=dispatcher, text="红旗区纬七路77号")[0].address_id == \
        registry["无网格"].id


def test_the_index_sees_an_address_added_in_the_same_transaction(db, registry):
    dispatcher = actor_for(db, registry.world, "dispatcher")
    assert service.match_address(db=db, actor=dispatcher, text="红旗区建设路66号") == []
    new = add_address(db, code="T0009999", full_text=f"{HONGQI}建设路66号", county="410702",
                      division="410702001001", grid=registry.world.grids["a"], lat=35.309, lon=113.909,
                      road="建设路", house_no="66号")
    db.flush()
    found = service.match_address(db=db, actor=dispatcher, text="红旗区建设路66号")
    assert found[0].address_id == new.id and found[0].score >= 0.6


def test_grid_at_inside_outside_and_far(db, world):
    a, b = world.grids["a"], world.grids["b"]
    assert service.grid_at(db=db, lat=35.305, lon=113.905).id == a.id
    assert service.grid_at(db=db, lat=35.305, lon=113.855).id == b.id
    # just east of grid a, in no polygon: nearest centroid within 3 km
    outside = service.grid_at(db=db, lat=35.305, lon=113.925)
    assert outside.id == a.id
    assert haversine_m(35.305, 113.925, a.centroid_lat, a.centroid_lon) < 3000
    assert service.grid_at(db=db, lat=36.5, lon=115.0) is None
    with pytest.raises(ValidationFailed) as err:
        service.grid_at(db=db, lat=95, lon=113.9)
    assert err.value.field == "lat"


def test_the_grid_index_notices_a_new_grid(db, world):
    from tests.factories import make_grid

    assert service.grid_at(db=db, lat=35.505, lon=113.705) is None
    g = make_grid(db, code="G-NEW", name="新网格", zone=ZoneClass.URBAN, org_unit=world.org["station_b"],
                  lon=113.70, lat=35.50)
    assert service.grid_at(db=db, lat=35.505, lon=113.705).id == g.id


def test_haversine():
    assert haversine_m(35.0, 113.0, 35.0, 113.0) == 0
    assert haversine_m(0, 0, 0, 1) == pytest.approx(111_195, rel=1e-3)
    assert haversine_m(35.30, 113.90, 35.31, 113.90) == pytest.approx(1112, rel=1e-2)


def test_locate_by_address_id_wins(db, registry):
    dispatcher = actor_for(db, registry.world, "dispatcher")
    target = registry["胜利路8号"]
    loc = service.locate(db=db, actor=dispatcher, text="平原路123号", lat=35.305, lon=113.905,
                         address_id=target.id)
    assert loc.address_id == target.id and loc.full_text == target.full_text
    assert (loc.lat, loc.lon) == (target.lat, target.lon)
    grid_b = registry.world.grids["b"]
    assert loc.grid_id == grid_b.id and loc.zone_class == ZoneClass.SUBURBAN
    assert loc.org_unit_id == grid_b.org_unit_id and loc.division_code == "410703001001"
    assert loc.candidates  # the text is still matched for the call-taker


def test_locate_by_point(db, registry):
    dispatcher = actor_for(db, registry.world, "dispatcher")
    loc = service.locate(db=db, actor=dispatcher, lat=35.305, lon=113.905)
    grid_a: Grid = registry.world.grids["a"]
    assert loc.address_id is None and (loc.lat, loc.lon) == (35.305, 113.905)
    assert loc.grid_id == grid_a.id and loc.zone_class == ZoneClass.CENTRE
    assert loc.org_unit_id == registry.world.org["office_a"].id and loc.division_code == "410702001001"
    far = service.locate(db=db, actor=dispatcher, lat=30.0, lon=100.0)
    assert far.grid_id is None and far.zone_class is None and far.lat == 30.0
    with pytest.raises(ValidationFailed) as err:
        service.locate(db=db, actor=dispatcher, lat=35.3)
    assert err.value.field == "lon"


def test_locate_by_text_accepts_only_a_confident_match(db, registry):
    dispatcher = actor_for(db, registry.world, "dispatcher")
    loc = service.locate(db=db, actor=dispatcher, text="新乡红旗平原路123号5号楼2单元301室")
    room = registry["5-2-301"]
    assert loc.address_id == room.id and loc.score >= 0.6
    assert (loc.lat, loc.lon) == (room.lat, room.lon)
    assert loc.grid_id == registry.world.grids["a"].id and loc.zone_class == ZoneClass.CENTRE
    assert loc.division_code == "410702001001" and loc.candidates[0].address_id == room.id

    unsure = service.locate(db=db, actor=dispatcher, text="人民路9号")  # two districts have it
    assert unsure.address_id is None and unsure.lat is None and unsure.grid_id is None
    assert len(unsure.candidates) >= 2 and unsure.candidates[0].score < 0.6

    nothing = service.locate(db=db, actor=dispatcher, text="火星基地")
    assert nothing.address_id is None and nothing.candidates == []


def test_locate_rejects_an_address_outside_the_jurisdiction(db, registry):
    chief_b = actor_for(db, registry.world, "chief_b")
    with pytest.raises(ValidationFailed) as err:
        service.locate(db=db, actor=chief_b, address_id=registry["5-2-301"].id)
    assert err.value.field == "address_id" and "辖区" in err.value.zh


def test_parse_combines_divisions_and_candidates(db, registry):
    dispatcher = actor_for(db, registry.world, "dispatcher")
    result = service.parse("湖北襄樊", db=db, actor=dispatcher)
    assert result["division"]["city"]["code"] == "420600" and "襄樊" in result["division"]["note"]
    assert result["candidates"] == []
    result = service.parse("红旗区平原路123号5-2-301", db=db, actor=dispatcher)
    assert result["division"]["county"]["code"] == "410702"
    assert result["candidates"][0]["address_id"] == registry["5-2-301"].id
    with pytest.raises(ValidationFailed):
        service.parse("  ")
