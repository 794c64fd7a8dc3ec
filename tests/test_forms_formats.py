"""The formats of the form subset: dates and times as browsers send them, 手机号, 身份证号 and
统一社会信用代码 with their check characters, and the Chinese message each failure gets."""
import pytest

from forms.formats import FORMATS, format_checker, is_id_card, is_uscc
from forms.messages import FORMAT_MESSAGES

VALID = {
    "date": ["2026-11-20", "2024-02-29"],
    "date-time": ["2026-11-20T10:00", "2026-11-20T10:00:30", "2026-11-20T10:00:00+08:00", "2026-11-20T02:00:00Z"],
    "time": ["08:30", "23:59:59"],
    "email": ["zhang.san@police.sh.cn"],
    "mobile": ["13800138000", "19912345678"],
    "id-card": ["11010519491231002X", "440524188001010014", "310101199003077712"],
    "uscc": ["91350100M000100Y43", "91440300708461136T", "91330100716105852F"],  # the last two are published
    "uri": ["https://example.cn/x?y=1", "http://10.1.2.3:8080/"],
    "attachment": ["0123456789abcdef0123456789abcdef"],
}
INVALID = {
    "date": ["2026-02-30", "2026/11/20", "20261120", "2026-11-20T10:00"],
    "date-time": ["2026-11-20", "2026-11-20 10:00", "2026-13-01T10:00", "2026-11-20T25:00"],
    "time": ["24:00", "8:30", "08:60"],
    "email": ["zhang", "a@b", "a b@c.cn"],
    "mobile": ["12800138000", "1380013800", "138001380000", "+8613800138000"],
    "id-card": ["110105194912310021", "11010519491231002x", "11010519491331002X", "1101051949123100"],
    "uscc": ["91350100M000100Y44", "91350100M000100Y4", "91350100m000100y43", "9135010OM000100Y43"],
    "uri": ["example.cn", "https://", "http://a b"],
    "attachment": ["0123", "0123456789ABCDEF0123456789ABCDEF", "../../etc/passwd"],
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_accepts_what_it_should_and_nothing_else(name):
    checker = format_checker()
    assert all(checker.conforms(value, name) for value in VALID[name]), name
    assert not any(checker.conforms(value, name) for value in INVALID[name]), name


def test_the_checker_knows_exactly_the_subset_formats():
    assert set(format_checker().checkers) == set(FORMATS) == set(FORMAT_MESSAGES)


def test_formats_leave_non_strings_to_the_type_keyword():
    assert format_checker().conforms(13800138000, "mobile")


@pytest.mark.parametrize("body, check", [("11010519491231002", "X"), ("31010119900307771", "2")])
def test_the_id_card_check_character_is_the_gb11643_one(body, check):
    assert is_id_card(body + check)
    assert not any(is_id_card(body + other) for other in "0123456789X" if other != check)


def test_an_id_card_needs_a_real_birth_date():
    # A correct check digit does not save an impossible date (1949-02-30).
    body = "11010519490230002"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    assert not is_id_card(body + check)


def test_the_uscc_check_character_is_the_gb32100_one():
    body = "91350100M000100Y4"
    assert is_uscc(body + "3")
    assert [c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if is_uscc(body + c)] == ["3"]
