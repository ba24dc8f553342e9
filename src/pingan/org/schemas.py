from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from pingan.auth.models import USERNAME_LENGTH
from pingan.db.types import MAX_ID
from pingan.org.models import OrgKind, Role, UnitKind, UnitStatus


class OrgUnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: OrgKind
    parent_id: int | None
    division_code: str | None


class DutyUnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    call_sign: str
    kind: UnitKind
    org_unit_id: int
    status: UnitStatus
    lat: float | None
    lon: float | None
    position_at: datetime | None


# --- users (用户管理) ---------------------------------------------------------------------------


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    org_unit_id: int
    is_active: bool
    must_change_password: bool
    password_changed_at: datetime | None
    disabled_at: datetime | None
    created_at: datetime


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=USERNAME_LENGTH)
    display_name: str = Field(min_length=1, max_length=40)
    role: Role
    org_unit_id: int = Field(ge=1, le=MAX_ID)
    # omitted: a one-time password is made, shown once in the answer, and must be changed at first login
    password: str | None = Field(default=None, min_length=1, max_length=200)


class UserCreated(BaseModel):
    user: UserRead
    one_time_password: str | None


class UserUpdate(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=40)
    role: Role | None = None
    org_unit_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class PasswordReset(BaseModel):
    user: UserRead
    one_time_password: str


class SessionsEnded(BaseModel):
    sessions_ended: int


class LoginLockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    created_at: datetime
    expires_at: datetime
    failures: int
    addresses: int


class LockLift(BaseModel):
    username: str = Field(min_length=1, max_length=USERNAME_LENGTH)
