"""The free-text rule (bookbay.types: Text, NoteText, ONE_LINE, MULTI_LINE; issue 14, item 6): NFC,
and no character that is not text, except spaces (and in notes line breaks and tabs)."""

from __future__ import annotations

import re
import sys
import unicodedata
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, StringConstraints, TypeAdapter, ValidationError

from bookbay.domain.booking import Appointment, Contact, VehicleDetails
from bookbay.domain.catalog import Address
from bookbay.exceptions import ShopFileError
from bookbay.shopfile import catalog_from_document
from bookbay.types import MULTI_LINE, STORED, NoteText, Text, _allowed, check_text, not_text_at

ONE = TypeAdapter(Text)
NOTE = TypeAdapter(NoteText)

# Each is refused in one-line text and in notes.
NOT_TEXT = {
    "NUL": "\x00",
    "ESC": "\x1b",
    "BEL": "\x07",
    "DEL": "\x7f",
    "NEL": "\x85",
    "C1 CSI": "\x9b",
    "RIGHT-TO-LEFT OVERRIDE": "\u202e",
    "LEFT-TO-RIGHT OVERRIDE": "\u202d",
    "RIGHT-TO-LEFT EMBEDDING": "\u202b",
    "POP DIRECTIONAL FORMATTING": "\u202c",
    "RIGHT-TO-LEFT ISOLATE": "\u2067",
    "FIRST STRONG ISOLATE": "\u2068",
    "POP DIRECTIONAL ISOLATE": "\u2069",
    "RIGHT-TO-LEFT MARK": "\u200f",
    "ARABIC LETTER MARK": "\u061c",
    "ZERO WIDTH SPACE": "\u200b",
    "ZERO WIDTH NO-BREAK SPACE (BOM)": "\ufeff",
    "WORD JOINER": "\u2060",
    "SOFT HYPHEN": "\u00ad",
    "LANGUAGE TAG": "\U000e0001",
    "LINE SEPARATOR": "\u2028",
    "PARAGRAPH SEPARATOR": "\u2029",
    "lone surrogate": "\ud800",
    "private use": "\ue000",
    "private use, plane 15": "\U000f0000",
    "unassigned": "\u0378",
    "noncharacter": "\uffff",
    "ZWJ between Latin letters": "\u200d",
    "ZWNJ between Latin letters": "\u200c",
}

NAMES = [
    "José",
    "Zoë",
    "O'Brien",
    "Nguyễn Thị Minh Khai",
    "Łukasiewicz-Żak",
    "Seán Ó Súilleabháin",
    "محمد العلي",  # Arabic letters (right to left: no control needed)
    "שרה כהן",  # Hebrew
    "محمدی\u200cنژاد",  # noqa: RUF001 - Persian with a ZWNJ between two Arabic letters
    "क्\u200dष",  # Devanagari: ZWJ after a virama
    "Ἀθηνᾶ",
    "Дмитрий",
    "渡辺 美咲",
    "김민준",
    "Mary-Kate St. John",
    "D'Angelo Jr.",
    "Åsa Ødegård",
    "Anne\u00a0Marie",  # a no-break space is a space
]


@pytest.mark.parametrize("name", list(NOT_TEXT), ids=list(NOT_TEXT))
def test_each_character_that_is_not_text_is_refused_in_one_line_and_in_notes(name: str) -> None:
    char = NOT_TEXT[name]
    for adapter in (ONE, NOTE):
        with pytest.raises(ValidationError) as raised:
            adapter.validate_python(f"Da{char}na")
        (error,) = raised.value.errors()
        assert error["type"] == "value_error"
        assert f"character 3 is U+{ord(char):04X}" in error["msg"] or "line break" in error["msg"]
        assert "Dana" not in error["msg"] and "Da" + char not in error["msg"]  # the value is not echoed


@pytest.mark.parametrize("name", NAMES)
def test_names_of_every_script_pass_unchanged(name: str) -> None:
    assert ONE.validate_python(name) == name
    assert NOTE.validate_python(name) == name
    contact = Contact(first_name=name, last_name=name, phone="+15125550100", email="a@example.com")
    assert contact.first_name == " ".join(name.split())  # the booking collapses spaces, as before


def test_text_is_kept_in_nfc_and_measured_in_nfc() -> None:
    decomposed = "Jose\u0301 Zoe\u0308 Nguye\u0302\u0303n"
    assert ONE.validate_python(decomposed) == unicodedata.normalize("NFC", decomposed) == "José Zoë Nguyễn"

    class Limited(BaseModel):
        name: Text = Field(min_length=1, max_length=4)
        line: Annotated[str, StringConstraints(max_length=4), MULTI_LINE] | None = None

    assert Limited(name="Jose\u0301", line="Zoe\u0308").name == "José"  # 5 code points typed, 4 kept
    with pytest.raises(ValidationError, match="at most 4 characters"):
        Limited(name="Josés")
    with pytest.raises(ValidationError, match="at most 4 characters"):
        Limited(name="x", line="Zoë!!")


def test_notes_take_line_breaks_and_tabs_and_one_line_text_does_not() -> None:
    assert NOTE.validate_python("Brakes\r\nsqueak\rleft\n\tfront") == "Brakes\nsqueak\nleft\n\tfront"
    for text, what in (("a\nb", "line break (U+000A)"), ("a\r\nb", "line break (U+000D)"), ("a\tb", "a tab")):
        with pytest.raises(ValidationError, match=rf"character 2 is .*{re.escape(what)}"):
            ONE.validate_python(text)
    assert not_text_at("a\u2028b", multiline=True) == 1  # LINE SEPARATOR: not a note's line break either


def test_joiners_pass_only_where_a_script_needs_them() -> None:
    assert not_text_at("محمدی\u200cنژاد") is None  # noqa: RUF001 - between Arabic letters
    assert not_text_at("क्\u200dष") is None  # after a virama
    assert not_text_at("\u200cمحمد") == 0
    assert not_text_at("محمد\u200c") == 4
    assert not_text_at("Jo\u200chn") == 2
    assert not_text_at("👨\u200d👩") == 1  # emoji sequences are not names


def test_domain_models_and_the_shop_file_use_the_rule() -> None:
    for build in (
        lambda: Contact(first_name="Pat\u202e", last_name="X", phone="+15125550100", email="a@example.com"),
        lambda: VehicleDetails(year=2019, make="Hon\x00da", model="Civic"),
        lambda: Address(line1="1 Main St", line2="\u200b", city="Austin", state="TX", zip="78701"),
    ):
        with pytest.raises(ValidationError, match="plain text only"):
            build()
    document: dict[str, Any] = {
        "shop": {
            "id": "demo",
            "name": "Demo\u202e Auto",
            "timezone": "America/Chicago",
            "phone": "+15125550100",
        },
        "locations": [],
        "services": [{"id": "oil", "name": "Oil", "duration_minutes": 30, "appointment_types": ["in_store"]}],
    }
    with pytest.raises(
        ShopFileError, match=r"shop\.name: Value error, plain text only: character 5 is U\+202E"
    ):
        catalog_from_document(document)


def test_a_record_stored_before_the_rule_reads_with_each_refused_character_replaced() -> None:
    assert ONE.validate_python("Pat\x00\u202e", context=STORED) == "Pat\ufffd\ufffd"
    assert ONE.validate_python("1 Main\nSt", context=STORED) == "1 Main St"  # a line break: a space
    assert NOTE.validate_python("a\r\nb\u200b", context=STORED) == "a\nb\ufffd"
    assert ONE.validate_python("José", context=STORED) == "José"
    stored: dict[str, Any] = {
        "id": "a1",
        "status": "requested",
        "location_id": "austin-downtown",
        "service_id": "oil-change",
        "appointment_type": "in_store",
        "start": "2026-11-24T10:00:00-06:00",
        "end": "2026-11-24T10:30:00-06:00",
        "slot_starts": ["2026-11-24T16:00:00Z"],
        "customer_id": "c1",
        "contact": {
            "first_name": "\x1b[31mPat",
            "last_name": "C",
            "phone": "+15125550100",
            "email": "a@b.co",
        },
        "notes": "\u202ecall",
        "source": "web",
        "created_at": "2026-11-23T15:00:00Z",
        "updated_at": "2026-11-23T15:00:00Z",
    }
    with pytest.raises(ValidationError):
        Appointment.model_validate(stored)  # as input: refused
    read = Appointment.model_validate(stored, context=STORED)
    assert (read.contact.first_name, read.notes) == ("\ufffd[31mPat", "\ufffdcall")
    # what it reads as passes the rule again (responses are validated against the same models)
    assert Appointment.model_validate(read.model_dump()).contact.first_name == "\ufffd[31mPat"


def test_check_text_says_what_and_where_never_the_value() -> None:
    with pytest.raises(
        ValueError, match=r"^plain text only: character 4 is U\+202E RIGHT-TO-LEFT OVERRIDE, an invisible"
    ):
        check_text("abc\u202edef")
    with pytest.raises(ValueError, match=r"^plain text only: character 1 is U\+0000, a control character$"):
        check_text("\x00")


def test_the_fast_path_skips_only_characters_the_rule_allows() -> None:
    """not_text_at skips the per-character rule for text str.isprintable() accepts (a note's line
    breaks and tabs aside): every such character must be one the rule allows."""
    printable = [chr(point) for point in range(sys.maxunicode + 1) if chr(point).isprintable()]
    for multiline in (False, True):
        extra = ["\n", "\t"] if multiline else []
        refused = [f"U+{ord(c):04X}" for c in printable + extra if not _allowed(c, 0, multiline=multiline)]
        assert not refused, (multiline, refused[:10])
