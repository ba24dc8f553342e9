"""The actor: who is acting, with which role, over which org subtree."""

from __future__ import annotations

from dataclasses import dataclass, field

from pingan.auth.permissions import ROLE_PERMISSIONS, Perm
from pingan.errors import Forbidden
from pingan.org.models import Role


class PasswordChangeRequired(Forbidden):
    """An admin reset this user's password: nothing but changing it is allowed (/account/password)."""

    code = "password_change_required"

    def __init__(self) -> None:
        super().__init__("请先修改密码（/account/password）", "Change your password first (/account/password)")


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    display_name: str
    role: Role
    org_unit_id: int
    org_path: str  # '/1/4/' : the actor sees org units whose path starts with this
    language: str = "zh"
    csrf_token: str = ""
    permissions: frozenset[Perm] = field(default=frozenset())
    # a password reset by an admin: until it is changed the actor holds no permission at all
    must_change_password: bool = False

    @classmethod
    def for_user(cls, user, org_path: str, csrf_token: str = "") -> Actor:
        must_change = bool(getattr(user, "must_change_password", False))
        return cls(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role),
            org_unit_id=user.org_unit_id,
            org_path=org_path,
            language=user.language or "zh",
            csrf_token=csrf_token,
            permissions=frozenset() if must_change else ROLE_PERMISSIONS[Role(user.role)],
            must_change_password=must_change,
        )

    @classmethod
    def system(cls, org_unit_id: int, org_path: str, name: str = "system") -> Actor:
        """The actor for CLI commands and jobs: the whole tree below org_path, every permission."""
        return cls(
            user_id=None, username=name, display_name=name, role=Role.ADMIN,
            org_unit_id=org_unit_id, org_path=org_path, permissions=frozenset(Perm),
        )

    def can(self, perm: Perm) -> bool:
        return perm in self.permissions

    def require(self, perm: Perm) -> None:
        if self.must_change_password:
            raise PasswordChangeRequired()
        if perm not in self.permissions:
            raise Forbidden(
                f"当前角色无权执行此操作（{perm}）",
                f"Your role may not do this ({perm})",
            )
