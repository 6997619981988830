"""Text folding, tags and contact normalization (pure functions, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.contact import normalize_domain, normalize_email, normalize_phone
from domain.errors import ValidationFailed
from domain.text import decode_tags, encode_tags, fold, fold_required, normalize_tag

# --- fold -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn Đức Thắng", "nguyen duc thang"),
        ("ĐẶNG THỊ HỒNG NHUNG", "dang thi hong nhung"),
        ("đường Lê Lợi", "duong le loi"),
        ("Trần  Văn\tAn\n", "tran van an"),
        ("   Phạm   Ngọc  ", "pham ngoc"),
        ("Công ty TNHH Xây dựng Hòa Bình", "cong ty tnhh xay dung hoa binh"),
        ("Bất động sản", "bat dong san"),
        ("Ỹ Ỵ ỷ", "y y y"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_fold_vietnamese_and_whitespace(raw: str, expected: str) -> None:
    assert fold(raw) == expected
    assert fold_required(raw) == expected


def test_fold_none_passes_through() -> None:
    assert fold(None) is None


def test_fold_matches_unaccented_search() -> None:
    assert fold("nguyen") in (fold("Ông NGUYỄN văn A") or "")


@given(st.text())
def test_fold_is_idempotent_ascii_lowercase(value: str) -> None:
    once = fold(value)
    assert once is not None
    assert fold(once) == once
    assert once.isascii()
    assert once == once.lower()
    assert once == once.strip()
    assert "  " not in once
    assert fold_required(value) == once


# --- tags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("VIP", "vip"),
        ("Khách hàng tiềm năng", "khach-hang-tiem-nang"),
        ("  Hội   chợ 2024 ", "hoi-cho-2024"),
        ("a_b:c.d-e", "a_b:c.d-e"),
        ("Đà Nẵng", "da-nang"),
        ("", None),
        ("-leading-dash", None),
        ("has|pipe", None),
        ("50%", None),
        ("x" * 65, None),
    ],
)
def test_normalize_tag(raw: str, expected: str | None) -> None:
    assert normalize_tag(raw) == expected


def test_encode_tags_sorted_unique() -> None:
    assert encode_tags(["vip", "b2b", "vip", "a"]) == "|a|b2b|vip|"
    assert encode_tags([]) == ""
    assert decode_tags("") == []
    assert decode_tags(None) == []
    assert decode_tags("|a|b2b|vip|") == ["a", "b2b", "vip"]


_tag_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30
)


@given(st.lists(_tag_text, max_size=8))
def test_tags_round_trip(raw_tags: list[str]) -> None:
    slugs = [s for s in (normalize_tag(t) for t in raw_tags) if s is not None]
    for slug in slugs:
        assert normalize_tag(slug) == slug  # normalization is idempotent
        assert "|" not in slug
    stored = encode_tags(slugs)
    assert decode_tags(stored) == sorted(set(slugs))
    assert encode_tags(decode_tags(stored)) == stored
    for slug in slugs:
        assert f"|{slug}|" in stored


# --- phones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0912345678",
        "+84 912 345 678",
        "84912345678",
        "+84912345678",
        "091 234 5678",
        "(+84) 912-345-678",
        " 0912.345.678 ",
    ],
)
def test_phone_vietnamese_mobile(raw: str) -> None:
    assert normalize_phone(raw) == "+84912345678"


def test_phone_landline_hanoi() -> None:
    assert normalize_phone("024 3826 1234") == "+842438261234"
    assert normalize_phone("+84 24 3826 1234") == "+842438261234"


def test_phone_foreign_with_country_code() -> None:
    assert normalize_phone("+1 650-253-0000") == "+16502530000"
    assert normalize_phone("650-253-0000", region="US") == "+16502530000"


@pytest.mark.parametrize("raw", ["", "abc", "12", "0912", "091234567890123", "+84 000 000 000"])
def test_phone_invalid(raw: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        normalize_phone(raw)
    assert info.value.code == "INVALID_PHONE"
    assert info.value.field == "phone"


def test_phone_invalid_reports_given_field() -> None:
    with pytest.raises(ValidationFailed) as info:
        normalize_phone("nope", field="phones.0.number")
    assert info.value.field == "phones.0.number"


# --- e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("an.nguyen@example.vn", "an.nguyen@example.vn"),
        ("  An.Nguyen@Example.COM ", "an.nguyen@example.com"),
        ("THANG+crm@Gmail.com", "thang+crm@gmail.com"),
    ],
)
def test_email_normalized(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "plain", "a@", "@b.com", "a b@c.com", "a@@b.com", "a@b"])
def test_email_invalid(raw: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        normalize_email(raw)
    assert info.value.code == "INVALID_EMAIL"


# --- domains --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.vn", "example.vn"),
        ("https://www.Example.com.vn/about?x=1", "example.com.vn"),
        ("http://shop.example.com/", "shop.example.com"),
        ("WWW.FPT.COM.VN", "fpt.com.vn"),
        ("  vinamilk.com.vn  ", "vinamilk.com.vn"),
        ("my-company.io/path/deeper", "my-company.io"),
    ],
)
def test_domain_normalized(raw: str, expected: str) -> None:
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "localhost",
        "https://",
        "exa mple.com",
        "a..b",
        ".com",
        "foo_bar.com",
        "https://www./x",
        "a." + "b" * 64,
    ],
)
def test_domain_invalid(raw: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        normalize_domain(raw)
    assert info.value.code == "INVALID_DOMAIN"
