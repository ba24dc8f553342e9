"""The password and username rules (口令策略): one place, used by every path that sets a password
or names a user (API, pages, CLI, import).

A password is refused when it is shorter than ``MIN_LENGTH``, when it is one of the common
passwords shipped in ``common_passwords.txt`` (compared case-insensitively), when it contains
the username, and — with ``PINGAN_ENV=production`` — when it is the demo's shared password.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from pingan.auth.models import USERNAME_LENGTH
from pingan.config import get_settings
from pingan.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 200
# The demo's shared password (pingan.demo.organisation.DEMO_PASSWORD), refused in production.
DEMO_PASSWORD = "pingan-demo"
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.\-]*")


@functools.cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def normalise_username(username: str) -> str:
    """The stored form of a username: stripped and lower case (the throttle counts this form,
    cut to the column, so that long or case-varied names count against the same account)."""
    return (username or "").replace("\x00", "").strip().lower()


def throttle_key(username: str) -> str:
    return normalise_username(username)[:USERNAME_LENGTH]


def check_username(username: str, *, field: str = "username") -> str:
    """The normalised username, or a 422 naming the field."""
    name = normalise_username(username)
    if not name:
        raise ValidationFailed("用户名不能为空", "The username is required", field=field)
    if len(name) > USERNAME_LENGTH:
        raise ValidationFailed(f"用户名最多 {USERNAME_LENGTH} 个字符", f"The username is at most {USERNAME_LENGTH} characters",
                               field=field)
    if not USERNAME_PATTERN.fullmatch(name):
        raise ValidationFailed("用户名只能包含小写字母、数字、下划线、点和连字符",
                               "The username may hold only letters, digits, '_', '.' and '-'", field=field)
    return name


def is_demo_password_refused(password: str) -> bool:
    """The demo's shared password, in production."""
    return get_settings().env == "production" and password == DEMO_PASSWORD


def check_password(password: str, *, username: str, field: str = "password") -> None:
    """Refuse a weak password with a 422 naming the field."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"密码至少 {MIN_LENGTH} 个字符", f"The password must be at least {MIN_LENGTH} characters",
                               field=field)
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"密码最多 {MAX_LENGTH} 个字符", f"The password is at most {MAX_LENGTH} characters",
                               field=field)
    lowered = password.lower()
    if lowered in common_passwords():
        raise ValidationFailed("密码过于常见，请换一个", "This password is too common; choose another", field=field)
    name = normalise_username(username)
    if name and name in lowered:
        raise ValidationFailed("密码不能包含用户名", "The password must not contain the username", field=field)
    if is_demo_password_refused(password):
        raise ValidationFailed("生产环境不能使用演示密码", "The demo password is not allowed in production", field=field)
