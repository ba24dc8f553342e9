"""Org rules: building the tree (paths), creating users and units."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pingan.auth.security import hash_password
from pingan.errors import Conflict, ValidationFailed
from pingan.org import repository
from pingan.org.models import DutyUnit, OrgKind, OrgUnit, Role, UnitKind, User


def create_org_unit(
    *, db: Session, code: str, name: str, kind: OrgKind, parent: OrgUnit | None,
    division_code: str | None = None, lat: float | None = None, lon: float | None = None,
) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None,
                   division_code=division_code, lat=lat, lon=lon, path="")
    db.add(unit)
    db.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    db.flush()
    return unit


def create_user(
    *, db: Session, username: str, password: str, display_name: str, role: Role,
    org_unit_id: int, officer_id: int | None = None,
) -> User:
    if len(password) < 8:
        raise ValidationFailed("密码至少 8 位", "Password must be at least 8 characters", field="password")
    if repository.get_user_by_username(db=db, username=username):
        raise Conflict(f"用户名 {username} 已存在", f"Username {username} already exists", field="username")
    user = User(username=username, password_hash=hash_password(password), display_name=display_name,
                role=role, org_unit_id=org_unit_id, officer_id=officer_id)
    db.add(user)
    db.flush()
    return user


def create_unit(
    *, db: Session, call_sign: str, kind: UnitKind, org_unit_id: int,
    lat: float | None = None, lon: float | None = None,
) -> DutyUnit:
    unit = DutyUnit(call_sign=call_sign, kind=kind, org_unit_id=org_unit_id, lat=lat, lon=lon)
    db.add(unit)
    db.flush()
    return unit
