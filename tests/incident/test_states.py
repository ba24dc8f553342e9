"""The incident's and the assignment's state machines (incident.models, decision 0017): per stage,
each action is allowed or refused by the service exactly as declared, a refusal is a 409 worded
from the enum's labels, and the pages show exactly the buttons the machine allows."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pingan.errors import Forbidden, InvalidTransition
from pingan.incident import service
from pingan.incident.models import (
    ASSIGNMENT_STATES,
    INCIDENT_STAGES,
    Assignment,
    AssignmentStatus,
    Disposition,
    Satisfaction,
    Stage,
    UnitTask,
)
from pingan.incident.schemas import CallCreate

# The rules, written out as the people who run a command centre would say them (the spec the
# declaration in incident.models is checked against).
ALLOWED = {
    Stage.RECEIVED: {"accept", "assign", "close", "add_call"},
    Stage.ACCEPTED: {"assign", "resolve", "close", "add_call"},
    Stage.DISPATCHED: {"assign", "resolve", "close", "add_call"},
    Stage.DEPARTED: {"assign", "resolve", "close", "add_call"},
    Stage.ARRIVED: {"assign", "resolve", "close", "add_call"},
    Stage.RESOLVED: {"close", "add_call"},
    Stage.CLOSED: {"callback"},
}
ACTIONS = ("accept", "assign", "resolve", "close", "callback", "add_call")
BUTTONS = ("accept", "assign", "resolve", "close", "callback")  # the detail page's action cards


@pytest.fixture
def at_stage(db, world, actors, make_incident):
    """at_stage(stage) -> an incident of station A brought to ``stage`` through the service."""
    dispatcher = actors["dispatcher"]

    def _at(stage: Stage):
        incident = make_incident("a")
        if stage == Stage.CLOSED:
            service.close(db=db, actor=dispatcher, incident_id=incident.id, disposition=Disposition.INVALID_CALL)
            return incident
        if stage == Stage.RECEIVED:
            return incident
        if stage == Stage.RESOLVED:
            service.accept(db=db, actor=dispatcher, incident_id=incident.id)
            service.resolve(db=db, actor=dispatcher, incident_id=incident.id)
            return incident
        if stage == Stage.ACCEPTED:
            service.accept(db=db, actor=dispatcher, incident_id=incident.id)
            return incident
        assignment = service.assign_unit(db=db, actor=dispatcher, incident_id=incident.id,
                                         unit_id=world.units["红旗巡1"].id)
        if stage in (Stage.DEPARTED, Stage.ARRIVED):
            service.advance_assignment(db=db, actor=dispatcher, assignment_id=assignment.id,
                                       to=AssignmentStatus.DEPARTED)
        if stage == Stage.ARRIVED:
            service.advance_assignment(db=db, actor=dispatcher, assignment_id=assignment.id,
                                       to=AssignmentStatus.ARRIVED)
        assert incident.stage == stage
        return incident

    return _at


def _try(db, world, actor, incident, name: str):
    """Run action ``name`` in a savepoint that is rolled back: None if it went through, else the error."""
    run = {
        "accept": lambda: service.accept(db=db, actor=actor, incident_id=incident.id),
        "assign": lambda: service.assign_unit(db=db, actor=actor, incident_id=incident.id,
                                              unit_id=world.units["红旗步1"].id),
        "resolve": lambda: service.resolve(db=db, actor=actor, incident_id=incident.id),
        "close": lambda: service.close(db=db, actor=actor, incident_id=incident.id,
                                       disposition=Disposition.HANDLED_ON_SCENE),
        "callback": lambda: service.record_callback(db=db, actor=actor, incident_id=incident.id,
                                                    satisfaction=Satisfaction.SATISFIED),
        "add_call": lambda: service.add_call(db=db, actor=actor, incident_id=incident.id,
                                             data=CallCreate(description="又一次来电")),
    }[name]
    savepoint = db.begin_nested()
    try:
        run()
        return None
    except (InvalidTransition, Forbidden) as exc:
        return exc
    finally:
        savepoint.rollback()


@pytest.mark.parametrize("stage", list(Stage))
def test_each_action_is_allowed_or_refused_by_the_service_as_declared(db, world, actors, at_stage, stage):
    incident = at_stage(stage)
    dispatcher = actors["dispatcher"]
    assert set(INCIDENT_STAGES.allowed_actions(dispatcher, incident)) & set(ACTIONS) == ALLOWED[stage]
    for name in ACTIONS:
        error = _try(db, world, dispatcher, incident, name)
        db.refresh(incident)
        assert incident.stage == stage  # rolled back either way
        if name in ALLOWED[stage]:
            assert error is None, (stage, name, error and error.en)
        else:
            assert isinstance(error, InvalidTransition) and error.status_code == 409, (stage, name)
            assert error.zh.startswith(f"警情当前为「{stage.zh}」，不能"), error.zh
            assert f"An incident that is {stage.en} cannot " in error.en


def test_the_409_is_worded_from_the_labels_of_both(db, world, actors, at_stage):
    dispatcher = actors["dispatcher"]
    closed, resolved, received = at_stage(Stage.CLOSED), at_stage(Stage.RESOLVED), at_stage(Stage.RECEIVED)
    refused = _try(db, world, dispatcher, closed, "accept")
    assert (refused.zh, refused.en) == ("警情当前为「已结警」，不能变为「已签收」",
                                        "An incident that is closed cannot become accepted")
    refused = _try(db, world, dispatcher, resolved, "assign")
    assert (refused.zh, refused.en) == ("警情当前为「处置完毕」，不能再派警",
                                        "An incident that is resolved cannot be dispatched to")
    refused = _try(db, world, dispatcher, received, "callback")
    assert (refused.zh, refused.en) == ("警情当前为「已接警」，不能回访", "An incident that is received cannot get a callback")


def test_a_role_gets_only_the_actions_of_its_permissions(db, world, actors, at_stage):
    incident = at_stage(Stage.ACCEPTED)
    # a station chief does not take calls; a patrol officer and an auditor act on no incident
    assert set(INCIDENT_STAGES.allowed_actions(actors["chief_a"], incident)) & set(ACTIONS) == {
        "assign", "resolve", "close"}
    assert set(INCIDENT_STAGES.allowed_actions(actors["patrol_a"], incident)) == set()
    assert set(INCIDENT_STAGES.allowed_actions(actors["auditor"], incident)) == set()
    assert isinstance(_try(db, world, actors["patrol_a"], incident, "resolve"), Forbidden)


def test_a_duplicate_with_units_on_the_way_cannot_be_merged_away(db, world, actors, at_stage):
    dispatcher = actors["dispatcher"]
    target, on_the_way = at_stage(Stage.RECEIVED), at_stage(Stage.DEPARTED)
    with pytest.raises(InvalidTransition) as refused:
        service.merge_incidents(db=db, actor=dispatcher, target_id=target.id, source_id=on_the_way.id)
    assert refused.value.field == "source_id"
    assert refused.value.zh == "警情当前为「已出警」，不能作为重复警情并入"


def _cards(html: str) -> set[str]:
    return set(re.findall(r'data-action-card="(\w+)"', html))


@pytest.mark.parametrize("stage", list(Stage))
def test_the_detail_page_shows_exactly_the_allowed_actions(client, db, world, actors, sign_in, at_stage, stage):
    incident = at_stage(stage)
    db.flush()
    for user in ("dispatcher", "chief_a", "patrol_a", "auditor"):
        sign_in(user)
        html = client.get(f"/incidents/{incident.id}").text
        allowed = set(INCIDENT_STAGES.allowed_actions(actors[user], incident)) & set(BUTTONS)
        assert _cards(html) == allowed, (stage, user)
        if user == "dispatcher":
            assert allowed == ALLOWED[stage] & set(BUTTONS)


# --- assignments ---------------------------------------------------------------------------------

ASSIGNMENT_ALLOWED = {  # for the dispatcher / for the unit's own patrol officer
    AssignmentStatus.DISPATCHED: ({"depart", "cancel"}, {"depart"}),
    AssignmentStatus.DEPARTED: ({"arrive", "cancel"}, {"arrive"}),
    AssignmentStatus.ARRIVED: ({"clear"}, {"clear"}),
    AssignmentStatus.CLEARED: (set(), set()),
    AssignmentStatus.CANCELLED: (set(), set()),
}


@pytest.mark.parametrize("status", list(AssignmentStatus))
def test_assignment_actions_per_status_and_role(world, actors, status):
    own = UnitTask(status, operator_user_id=world.users["patrol_a"].id)
    dispatcher_may, officer_may = ASSIGNMENT_ALLOWED[status]
    assert set(ASSIGNMENT_STATES.allowed_actions(actors["dispatcher"], own)) == dispatcher_may
    assert set(ASSIGNMENT_STATES.allowed_actions(actors["patrol_a"], own)) == officer_may
    # another unit's officer may do nothing with it, whatever its status
    assert ASSIGNMENT_STATES.allowed_actions(actors["patrol_b"], own) == {}


def test_the_service_refuses_an_assignment_step_from_the_machine(db, world, actors, make_incident):
    incident = make_incident("a")
    assignment = service.assign_unit(db=db, actor=actors["dispatcher"], incident_id=incident.id,
                                     unit_id=world.units["红旗巡1"].id)
    with pytest.raises(InvalidTransition) as refused:
        service.advance_assignment(db=db, actor=actors["patrol_a"], assignment_id=assignment.id,
                                   to=AssignmentStatus.CLEARED)
    assert (refused.value.zh, refused.value.en) == ("派警任务当前为「已派」，不能变为「已完成」",
                                                   "An assignment that is dispatched cannot become cleared")
    with pytest.raises(Forbidden):  # recalling is the dispatcher's
        service.advance_assignment(db=db, actor=actors["patrol_a"], assignment_id=assignment.id,
                                   to=AssignmentStatus.CANCELLED)
    other = service.assign_unit(db=db, actor=actors["dispatcher"], incident_id=incident.id,
                                unit_id=world.units["红旗巡2"].id)
    with pytest.raises(Forbidden) as refused:  # a unit of their station, but not theirs
        service.advance_assignment(db=db, actor=actors["patrol_a"], assignment_id=other.id,
                                   to=AssignmentStatus.DEPARTED)
    assert refused.value.en == "You may only move your own unit's assignments"


def test_the_pages_show_exactly_the_allowed_assignment_buttons(client, db, world, actors, sign_in, make_incident):
    incident = make_incident("a")
    assignment = service.assign_unit(db=db, actor=actors["dispatcher"], incident_id=incident.id,
                                     unit_id=world.units["红旗巡1"].id)
    for to in (None, AssignmentStatus.DEPARTED, AssignmentStatus.ARRIVED):
        if to is not None:
            service.advance_assignment(db=db, actor=actors["dispatcher"], assignment_id=assignment.id, to=to)
        db.flush()
        dispatcher_may, officer_may = ASSIGNMENT_ALLOWED[assignment.status]
        sign_in("patrol_a")
        task = client.get("/patrol/task").text
        assert set(re.findall(r'data-action="(\w+)"', task)) == officer_may
        sign_in("dispatcher")
        html = client.get(f"/incidents/{incident.id}").text
        row = re.search(r'<tr data-assignment-id="%d".*?</tr>' % assignment.id, html, re.S).group(0)
        # the detail page offers recalling (moving a unit on is its officer's, on the patrol page)
        assert set(re.findall(r'data-action="(\w+)"', row)) == dispatcher_may & {"cancel"}
    assert db.scalar(select(Assignment.status).where(Assignment.id == assignment.id)) == AssignmentStatus.ARRIVED
