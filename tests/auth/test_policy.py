"""The password policy (auth.policy): length, the shipped common-password list, the username."""

from __future__ import annotations

import pytest

from pingan.auth import policy
from pingan.errors import ValidationFailed


def test_the_shipped_list_has_thousands_of_entries_and_cites_its_sources():
    from pathlib import Path

    text = Path(policy.__file__).with_name("common_passwords.txt").read_text(encoding="utf-8")
    assert "Royce Williams" in text and "Django" in text
    assert len(policy.common_passwords()) > 3000
    assert {"1qaz2wsx3edc", "woaini1314", "qwertyuiop", "password123"} <= policy.common_passwords()


@pytest.mark.parametrize("password, field_text", [
    ("Short-1", "10"),
    ("QWERTYUIOP", "常见"),  # case-insensitive
    ("WoAiNi5201314", "常见"),
    ("zhangwei-Pass-9", "用户名"),
])
def test_weak_passwords_are_refused_naming_the_field(password, field_text):
    with pytest.raises(ValidationFailed) as refused:
        policy.check_password(password, username="ZhangWei", field="new_password")
    assert refused.value.field == "new_password" and field_text in refused.value.zh


def test_a_good_password_passes_and_the_demo_one_only_outside_production(monkeypatch):
    import dataclasses

    from pingan import config

    policy.check_password("Correct-horse-9", username="dispatcher")
    policy.check_password(policy.DEMO_PASSWORD, username="admin")  # development: the demo keeps working
    production = dataclasses.replace(config.get_settings(), env="production")
    monkeypatch.setattr(policy, "get_settings", lambda: production)
    with pytest.raises(ValidationFailed, match="demo password"):
        policy.check_password(policy.DEMO_PASSWORD, username="admin")


def test_usernames_are_normalised_and_refused_past_the_column():
    assert policy.check_username("  Chief_A ") == "chief_a"
    with pytest.raises(ValidationFailed) as refused:
        policy.check_username("a" * 41)
    assert refused.value.field == "username" and "40" in refused.value.zh
    assert policy.throttle_key("A" * 60) == "a" * 40
