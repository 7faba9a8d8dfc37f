"""Constrained types shared by domain models and API schemas; declared once."""

from __future__ import annotations

import re
import unicodedata
from datetime import time
from types import MappingProxyType
from typing import Annotated, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, ValidationInfo

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
ZIP_PATTERN = r"^\d{5}$"

Slug = Annotated[
    str,
    StringConstraints(pattern=SLUG_PATTERN),
    Field(description="Identifier: lower-case letters, digits and dashes", examples=["downtown"]),
]
LocationId = Slug
ServiceId = Slug
Zip = Annotated[
    str,
    StringConstraints(pattern=ZIP_PATTERN),
    Field(description="US ZIP code, 5 digits", examples=["78701"]),
]
CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    Field(description="ISO 3166 two-letter country code", examples=["US"]),
]
OtpCode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{6}$"),
    Field(description="The 6-digit one-time code that was sent", examples=["042137"]),
]
AppointmentType = Literal["in_store", "online", "at_home"]
APPOINTMENT_TYPES: tuple[AppointmentType, ...] = ("in_store", "online", "at_home")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


TimeZoneName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(_check_timezone),
    Field(description="IANA time zone", examples=["America/Chicago"]),
]


def normalize_phone(value: str, region: str = "US") -> str:
    """Parse a phone number to E.164, or raise ValueError."""
    import phonenumbers  # only requests that take a phone number load it

    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """``+1 512-555-0123`` (international format), or the value as given when it does not parse."""
    import phonenumbers  # only messages and pages that show a phone load it

    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_region(e164: str) -> str | None:
    """The ISO country of an E.164 phone number (``US``), or None when it does not parse."""
    import phonenumbers  # only SMS paths need it

    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return None


def normalize_email(value: str) -> str:
    """Validate an e-mail address's syntax and return its normalized form, or raise ValueError."""
    from email_validator import EmailNotValidError, validate_email  # its regexes cost 16 ms

    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


E164Phone = Annotated[
    str,
    StringConstraints(min_length=3, max_length=32),
    AfterValidator(normalize_phone),
    Field(description="Phone number; stored as E.164", examples=["+15125550100"]),
]
Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=254),
    AfterValidator(normalize_email),
    Field(description="E-mail address", examples=["service@example.com"]),
]

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse_hhmm(value: str) -> time:
    if not _HHMM.match(value):
        raise ValueError(f"{value!r} is not a time of day as HH:MM")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _check_hhmm(value: str) -> str:
    parse_hhmm(value)
    return value


HourMinute = Annotated[
    str,
    AfterValidator(_check_hhmm),
    Field(description="Local time of day, HH:MM (24h)", examples=["09:00"]),
]


# ------------------------------------------------------------------------------ free text
# Names, vehicle fields, addresses, notes and reasons are text a person typed: normalized to NFC
# (before their length is measured) and refused (a 422 naming the field) when they hold anything
# that is not text: control characters (Cc: NUL, ESC, ...), invisible format characters (Cf: the
# bidi overrides, embeddings and isolates such as U+202E, zero-width spaces U+200B, soft hyphens,
# byte-order marks), lone surrogates (Cs), private-use (Co) and unassigned (Cn) code points, and the
# line / paragraph separators (Zl, Zp). Allowed: every letter, mark, digit, punctuation and symbol
# of every script (Arabic and Hebrew letters are letters: only the invisible controls that override
# their direction are refused), the space (and the other Zs spaces), and the zero-width joiners in
# the places where a script needs them (after a virama; ZWNJ between two Arabic-script letters, as
# in Persian names: RFC 5892, appendix A.1-A.2). Multi-line text (notes, reasons) also takes line
# breaks (CR LF and a lone CR become LF) and tabs.
_NOT_TEXT: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_WHAT: Final = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a lone surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
}
_LINE_BREAKS: Final = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_MULTI_LINE_OK: Final = frozenset("\n\t")
_ZWNJ, _ZWJ = "\u200c", "\u200d"
_VIRAMA: Final = 9  # canonical combining class of the viramas
_JOINING_SCRIPTS: Final = ("ARABIC ", "SYRIAC ", "NKO ", "MANDAIC ", "MONGOLIAN ")
_STORED_KEY: Final = "bookbay.stored"
STORED: Final = MappingProxyType({_STORED_KEY: True})
"""Validation context of records read back from the table (``model_validate(body, context=STORED)``):
text stored before these rules is cleaned (each character refused now becomes U+FFFD, a line break
in one-line text a space), not refused, so an old record still reads (and shows) instead of failing."""


def _joins(text: str, at: int) -> bool:
    """Whether the zero-width (non-)joiner at ``text[at]`` shapes the letters around it."""
    before = text[at - 1] if at else ""
    if not before:
        return False
    if unicodedata.combining(before) == _VIRAMA:
        return True
    after = text[at + 1] if at + 1 < len(text) else ""
    return (
        text[at] == _ZWNJ
        and bool(after)
        and all(
            unicodedata.category(c)[0] in "LM" and unicodedata.name(c, "").startswith(_JOINING_SCRIPTS)
            for c in (before, after)
        )
    )


def _allowed(text: str, at: int, *, multiline: bool) -> bool:
    char = text[at]
    if char == " " or (multiline and char in _MULTI_LINE_OK):
        return True
    if unicodedata.category(char) not in _NOT_TEXT:
        return True
    return char in (_ZWNJ, _ZWJ) and _joins(text, at)


def not_text_at(text: str, *, multiline: bool = False) -> int | None:
    """The index of the first character of ``text`` that is not text (see above), or None."""
    # Fast path: str.isprintable() is False for every category refused here (it is also False for
    # the spaces other than " ", which are allowed, and for the joiners: those take the loop).
    plain = text.replace("\n", "").replace("\t", "") if multiline else text
    if plain.isprintable():
        return None
    return next((at for at in range(len(text)) if not _allowed(text, at, multiline=multiline)), None)


def _refusal(text: str, at: int, *, multiline: bool) -> str:
    char = text[at]
    code = f"U+{ord(char):04X}"
    if char in _LINE_BREAKS and not multiline:
        return f"one line only: character {at + 1} is a line break ({code})"
    category = unicodedata.category(char)
    name = unicodedata.name(char, "") if category not in ("Cs", "Co", "Cn") else ""
    kind = "a tab" if char == "\t" else _WHAT.get(category, "not text")
    return f"plain text only: character {at + 1} is {code}{' ' + name if name else ''}, {kind}"


def _cleaned(text: str, *, multiline: bool) -> str:
    """``text`` as stored, each character that is not text replaced (a stored record still reads)."""
    if not_text_at(text, multiline=multiline) is None:
        return text
    out = []
    for at, char in enumerate(text):
        if _allowed(text, at, multiline=multiline):
            out.append(char)
        else:
            out.append(" " if char in _LINE_BREAKS or char == "\t" else "\ufffd")
    return "".join(out)


def check_text(value: str, *, multiline: bool = False) -> str:
    """``value`` in NFC (line breaks as LF when ``multiline``), or ValueError naming the first
    character that is not text (its code point and position, never the value)."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = unicodedata.normalize("NFC", value)
    at = not_text_at(value, multiline=multiline)
    if at is not None:
        raise ValueError(_refusal(value, at, multiline=multiline))
    return value


def _text(value: object, info: ValidationInfo, *, multiline: bool) -> object:
    if not isinstance(value, str):
        return value  # the str schema refuses it
    context = info.context
    if context is not None and hasattr(context, "get") and context.get(_STORED_KEY):
        if multiline:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        return _cleaned(value, multiline=multiline)
    return check_text(value, multiline=multiline)


def _one_line(value: object, info: ValidationInfo) -> object:
    return _text(value, info, multiline=False)


def _multi_line(value: object, info: ValidationInfo) -> object:
    return _text(value, info, multiline=True)


ONE_LINE: Final = BeforeValidator(_one_line)
"""The free-text rule for one line (names, vehicle, address, titles), as metadata: it runs before
the string's own constraints, which measure the NFC form. For a field that may be null, give its
length here, ``Annotated[str, StringConstraints(max_length=120), ONE_LINE] | None`` (a length given
with ``Field`` on ``Text | None`` is checked too, but its message is pydantic's generic one)."""
MULTI_LINE: Final = BeforeValidator(_multi_line)
"""The free-text rule for notes and reasons: ONE_LINE's, and line breaks (as LF) and tabs."""

Text = Annotated[str, ONE_LINE]
"""One line of free text: ``name: Text = Field(min_length=1, max_length=120)``."""
NoteText = Annotated[str, MULTI_LINE]
"""Free text of several lines (notes, reasons)."""
