"""Org rules: building the tree (paths), creating and managing users, creating units."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from pingan.auth import policy
from pingan.auth import service as auth_service
from pingan.auth.actor import Actor
from pingan.auth.security import hash_password
from pingan.db.types import utcnow
from pingan.errors import Conflict, ValidationFailed, not_found
from pingan.org import repository, system
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
    org_unit_id: int, officer_id: int | None = None, must_change_password: bool = False,
) -> User:
    """A new user. The username is normalised (lower case) and checked, the password checked
    against the policy (auth.policy); every path that creates a user comes through here."""
    username = policy.check_username(username)
    policy.check_password(password, username=username)
    display_name = _display_name(display_name or username)
    if system.get_user_by_username(db=db, username=username):
        raise Conflict(f"用户名 {username} 已存在", f"Username {username} already exists", field="username")
    user = User(username=username, password_hash=hash_password(password), display_name=display_name,
                role=role, org_unit_id=org_unit_id, officer_id=officer_id,
                must_change_password=must_change_password)
    db.add(user)
    db.flush()
    return user


def _display_name(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 40 or any(ord(c) < 32 for c in value):
        raise ValidationFailed("姓名须为 1–40 个字符，且不含控制字符",
                               "The display name must be 1-40 characters without control characters",
                               field="display_name")
    return value


def create_unit(
    *, db: Session, call_sign: str, kind: UnitKind, org_unit_id: int,
    lat: float | None = None, lon: float | None = None,
) -> DutyUnit:
    unit = DutyUnit(call_sign=call_sign, kind=kind, org_unit_id=org_unit_id, lat=lat, lon=lon)
    db.add(unit)
    db.flush()
    return unit


# --- user management by an admin, inside their jurisdiction (用户管理) ---------------------------
# Every change is a flush of the auditable app_user row (password_hash is never logged:
# User.__audit_exclude__); ending sessions writes its own audit row (auth.service.end_sessions).

_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


def one_time_password() -> str:
    """A random password for a reset or a new account: 3 groups of 5, no look-alike characters."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(3))


def _user_in(db: Session, actor: Actor, user_id: int) -> User:
    user = repository.get_user_in(db=db, actor=actor, user_id=user_id)
    if user is None:
        raise not_found(User)
    return user


def _org_unit_in(db: Session, actor: Actor, org_unit_id: int) -> OrgUnit:
    unit = repository.get_org_unit(db=db, actor=actor, org_unit_id=org_unit_id)
    if unit is None:
        raise not_found(OrgUnit, field="org_unit_id", error=ValidationFailed)
    return unit


def _not_self(actor: Actor, user: User, zh: str, en: str) -> None:
    if actor.user_id == user.id:
        raise Conflict(zh, en)


def get_user(*, db: Session, actor: Actor, user_id: int) -> User:
    return _user_in(db, actor, user_id)


def add_user(
    *, db: Session, actor: Actor, username: str, display_name: str, role: Role, org_unit_id: int,
    password: str | None = None,
) -> tuple[User, str | None]:
    """An admin creates a user in their jurisdiction. Without a password, a one-time password is
    made (returned once) and must be changed at the first login."""
    _org_unit_in(db, actor, org_unit_id)
    generated = None
    if password is None:
        generated = password = one_time_password()
    user = create_user(db=db, username=username, password=password, display_name=display_name, role=role,
                       org_unit_id=org_unit_id, must_change_password=generated is not None)
    return user, generated


def update_user(
    *, db: Session, actor: Actor, user_id: int, display_name: str | None = None, role: Role | None = None,
    org_unit_id: int | None = None,
) -> User:
    """Assign a role or a unit, or rename: within the admin's jurisdiction (the new unit too)."""
    user = _user_in(db, actor, user_id)
    if role is not None and role != user.role:
        _not_self(actor, user, "不能修改自己的角色", "You cannot change your own role")
        user.role = role
    if org_unit_id is not None and org_unit_id != user.org_unit_id:
        _not_self(actor, user, "不能修改自己的所属单位", "You cannot move yourself to another unit")
        user.org_unit_id = _org_unit_in(db, actor, org_unit_id).id
    if display_name is not None:
        user.display_name = _display_name(display_name)
    db.flush()
    return user


def disable_user(*, db: Session, actor: Actor, user_id: int) -> User:
    """停用: the user can no longer log in, and every session of theirs ends now."""
    user = _user_in(db, actor, user_id)
    _not_self(actor, user, "不能停用自己的账号", "You cannot disable your own account")
    if user.is_active:
        user.is_active = False
        user.disabled_at = utcnow()
        db.flush()
    auth_service.end_sessions(db=db, user_id=user.id)
    return user


def enable_user(*, db: Session, actor: Actor, user_id: int) -> User:
    """重新启用."""
    user = _user_in(db, actor, user_id)
    if not user.is_active:
        user.is_active = True
        user.disabled_at = None
        db.flush()
    return user


def reset_password(*, db: Session, actor: Actor, user_id: int) -> tuple[User, str]:
    """重置密码: a one-time password (returned once, to be shown to the admin once), to be changed
    at the next login; every session of the user ends."""
    user = _user_in(db, actor, user_id)
    _not_self(actor, user, "不能重置自己的密码，请使用“修改密码”", "Change your own password at /account/password instead")
    password = one_time_password()
    auth_service.set_password(db=db, user=user, password=password, must_change=True)
    auth_service.end_sessions(db=db, user_id=user.id)
    return user, password


def end_user_sessions(*, db: Session, actor: Actor, user_id: int) -> int:
    """强制下线: end every session of a user."""
    user = _user_in(db, actor, user_id)
    return auth_service.end_sessions(db=db, user_id=user.id)
