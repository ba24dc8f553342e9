"""The citizen id (GB 11643): check character, division prefix, birth date and sex, old ids."""

from datetime import date

import pytest

from pingan.errors import ValidationFailed
from pingan.people import idnumber
from pingan.people.idnumber import Sex
from tests.people.conftest import citizen_id


def test_a_published_example_checks_and_says_birth_date_and_sex():
    # GB 11643-1999's own example: 11010519491231002X, a woman born on 31 December 1949
    parsed = idnumber.parse("11010519491231002x")
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31) and parsed.sex is Sex.FEMALE
    assert parsed.division_code == "110105" and parsed.division_is_current


def test_an_odd_sequence_is_a_man_and_spaces_are_dropped():
    number = citizen_id(sequence="131")
    parsed = idnumber.parse(f"{number[:6]} {number[6:14]} {number[14:]}")
    assert parsed.sex is Sex.MALE and parsed.number == number


def test_a_wrong_check_digit_is_refused_naming_the_field():
    number = citizen_id()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ValidationFailed) as refused:
        idnumber.parse(wrong)
    assert refused.value.field == "id_number"
    assert refused.value.zh == "证件号码校验位错误" and refused.value.en == "the citizen id's check digit is wrong"


@pytest.mark.parametrize("prefix", ["990101", "000000", "100101"])
def test_an_unknown_division_prefix_is_refused(prefix):
    with pytest.raises(ValidationFailed) as refused:
        idnumber.parse(citizen_id(prefix=prefix))
    assert refused.value.field == "id_number" and prefix in refused.value.zh


def test_a_retired_division_code_is_accepted():
    # 342601: the county-level 巢湖市 of the former 巢湖地区, abolished in 2011: no longer on the list
    parsed = idnumber.parse(citizen_id(prefix="342601", born="19700101"))
    assert parsed.division_code == "342601" and not parsed.division_is_current


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_are_accepted(prefix):
    assert idnumber.parse(citizen_id(prefix=prefix)).division_code == prefix


def test_a_fifteen_digit_old_id_is_converted_to_eighteen():
    parsed = idnumber.parse("110105491231002")
    assert parsed.number == "11010519491231002X" and parsed.birth_date == date(1949, 12, 31)


@pytest.mark.parametrize("text, says", [
    ("4107021985031212", "18 位"), ("41070219850312123", "18 位"), ("41070219850312A23X", "数字"),
])
def test_a_wrong_length_or_character_is_refused(text, says):
    with pytest.raises(ValidationFailed) as refused:
        idnumber.parse(text)
    assert says in refused.value.zh


@pytest.mark.parametrize("born", ["19850230", "20991231", "18000101"])
def test_an_impossible_or_implausible_birth_date_is_refused(born):
    with pytest.raises(ValidationFailed, match="birth date"):
        idnumber.parse(citizen_id(born=born), today=date(2026, 12, 6))
