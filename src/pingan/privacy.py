"""Masking of personal data. Masked is the default everywhere; unmasking is an audited read."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) >= 7:
        # 13812345678 -> 138****5678
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * len(digits)


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(number: str | None) -> str | None:
    """A citizen id: its division's first four digits and the last four (4107**********1234)."""
    if not number:
        return number
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_document(number: str | None) -> str | None:
    """Another document's number (passport, permit): its first character and last three."""
    if not number:
        return number
    if len(number) <= 4:
        return "*" * len(number)
    return number[0] + "*" * (len(number) - 4) + number[-3:]
