"""Finding a customer's identifiers in copied text: whole words, accent- and case-insensitive,
phones by their last nine digits, short numbers never (they would erase amounts)."""

from __future__ import annotations

from domain.persistence.models import Customer
from domain.privacy.redaction import ERASED, Identifiers


def _an() -> Identifiers:
    return Identifiers.of(
        [
            Customer(
                kind="PERSON",
                display_name="Nguyễn Văn An",
                first_name="An",
                last_name="Nguyễn Văn",
                primary_email="an.nguyen@khach.vn",
                emails=[{"address": "an.nguyen@khach.vn"}, {"address": "an.rieng@gmail.com"}],
                primary_phone="+84912345678",
                phones=[{"number": "+84912345678"}],
                address={"line1": "12 Lý Thường Kiệt", "postalCode": "100000"},
            )
        ]
    )


def test_mentions_are_whole_words_folded() -> None:
    who = _an()
    assert who.mentioned_in("Follow-up sau buổi gặp với NGUYEN VAN AN")
    assert who.mentioned_in("gửi tới An.Nguyen@Khach.vn nhé")
    assert who.mentioned_in("nhà ở 12 ly thuong kiet")
    assert not who.mentioned_in("Giao hàng cho Ngân")  # "an" inside another word
    assert not who.mentioned_in("Trần Thị Bình")


def test_phones_match_in_any_form_and_short_numbers_never() -> None:
    who = _an()
    assert who.mentioned_in("gọi 0912 345 678")
    assert who.mentioned_in("(+84) 912-345-678")
    assert not who.mentioned_in("0987 654 321")
    assert not who.mentioned_in("100000")  # the postal code alone is not them
    assert who.redact({"amount": ["100000.00", "120000.00"]}) == {
        "amount": ["100000.00", "120000.00"]
    }


def test_redact_walks_json() -> None:
    who = _an()
    value = {"to": ["an.rieng@gmail.com", "owner@rapport.vn"], "n": 3, "s": {"x": "Anh An gọi"}}
    assert who.redact(value) == {"to": [ERASED, "owner@rapport.vn"], "n": 3, "s": {"x": ERASED}}
