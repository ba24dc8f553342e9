from __future__ import annotations

from pydantic import BaseModel, Field

from pingan.auth.models import USERNAME_LENGTH
from pingan.org.models import Role


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=USERNAME_LENGTH)
    password: str = Field(min_length=1, max_length=200)


class MeRead(BaseModel):
    id: int | None
    username: str
    display_name: str
    role: Role
    org_unit_id: int
    permissions: list[str]
    must_change_password: bool = False


class LoginResponse(BaseModel):
    token: str
    csrf_token: str
    user: MeRead


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)
