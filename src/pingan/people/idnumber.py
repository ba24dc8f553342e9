"""The resident identity card number (公民身份号码, GB 11643-1999): 18 characters — a 6-digit
division code, the birth date (YYYYMMDD), a 3-digit sequence whose last digit is odd for men and
even for women, and a check character (ISO 7064 MOD 11-2; 10 is written X).

The division prefix is the code of the place that issued the number, at the time: a number keeps
its code when the division is later renamed, merged or abolished (巢湖地区 342600, gone in 2011,
still heads numbers in use). The national list (``pingan.geo.divisions``) holds today's codes
only, so a prefix is accepted when its province (first two digits) is one of the list's — 81,
82 and 83 included for the residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民
居住证), which use 810000, 820000 and 830000 — and ``division_is_current`` says whether the
six-digit code is still on today's list. A 15-digit number (issued before 1999) is converted:
"19" is inserted before its two-digit year and the check character computed (decision 0023).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pingan.db.enum import LabelledEnum
from pingan.errors import ValidationFailed
from pingan.geo import divisions

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECKS = "10X98765432"
RESIDENCE_PERMIT_PROVINCES = ("81", "82", "83")  # 港澳台居民居住证
FIELD = "id_number"


class Sex(LabelledEnum):
    MALE = "male", "男", "male"
    FEMALE = "female", "女", "female"


@dataclass(frozen=True)
class CitizenId:
    number: str  # 18 characters, X upper-case
    division_code: str  # its first six digits
    division_is_current: bool  # the code is on today's national list
    birth_date: date
    sex: Sex


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return _CHECKS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise(text: str | None) -> str:
    """What a person typed, as stored: no spaces, X upper-case, a 15-digit number as 18 digits
    (not validated: :func:`parse` does that)."""
    number = "".join((text or "").split()).upper()
    if len(number) == 15 and number.isdigit():
        first17 = number[:6] + "19" + number[6:]
        number = first17 + check_character(first17)
    return number


def _refuse(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed(f"证件号码{zh}", en, field=FIELD)


def _province_known(code: str) -> bool:
    return code[:2] in RESIDENCE_PERMIT_PROVINCES or divisions.get_division(code[:2] + "0000") is not None


def parse(text: str | None, *, today: date | None = None) -> CitizenId:
    """The citizen id in ``text`` checked (422 naming the field ``id_number`` otherwise)."""
    number = normalise(text)
    if len(number) != 18:
        raise _refuse("应为 18 位（15 位旧号码自动升位）",
                      "the citizen id must have 18 characters (a 15-digit old one is converted)")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise _refuse("只能由数字组成，末位可为 X", "the citizen id is made of digits, the last may be X")
    if check_character(number[:17]) != number[17]:
        raise _refuse("校验位错误", "the citizen id's check digit is wrong")
    code = number[:6]
    if not _province_known(code):
        raise _refuse(f"的地址码 {code} 不是有效的行政区划", f"the citizen id's division code {code} is no known division")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _refuse("中的出生日期无效", "the citizen id holds an impossible birth date") from None
    if born > (today or date.today()) or born.year < 1890:
        raise _refuse("中的出生日期不合理", "the citizen id holds an implausible birth date")
    return CitizenId(number=number, division_code=code,
                     division_is_current=divisions.get_division(code) is not None, birth_date=born,
                     sex=Sex.MALE if int(number[16]) % 2 else Sex.FEMALE)
