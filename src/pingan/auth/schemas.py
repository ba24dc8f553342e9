from __future__ import annotations

from pydantic import BaseModel, Field

from pingan.org.models import Role


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class MeRead(BaseModel):
    id: int | None
    username: str
    display_name: str
    role: Role
    org_unit_id: int
    permissions: list[str]


class LoginResponse(BaseModel):
    token: str
    csrf_token: str
    user: MeRead
