"""Canonical US addresses: "123 Main Street" and "123 MAIN ST" are one location.

usaddress tags the parts; USPS Publication 28 abbreviations standardize suffixes, directionals
and unit designators; the ZIP is cut to five digits.
"""

from __future__ import annotations

import re
from typing import Any

from bookbay.domain.catalog import Address
from bookbay.exceptions import ValidationFailed

_SUFFIXES = {
    "ALLEY": "ALY",
    "AVENUE": "AVE",
    "AV": "AVE",
    "BOULEVARD": "BLVD",
    "BLV": "BLVD",
    "CIRCLE": "CIR",
    "COURT": "CT",
    "COVE": "CV",
    "CROSSING": "XING",
    "DRIVE": "DR",
    "DRV": "DR",
    "EXPRESSWAY": "EXPY",
    "FREEWAY": "FWY",
    "HIGHWAY": "HWY",
    "HIWAY": "HWY",
    "LANE": "LN",
    "LOOP": "LOOP",
    "PARKWAY": "PKWY",
    "PKY": "PKWY",
    "PLACE": "PL",
    "PLAZA": "PLZ",
    "POINT": "PT",
    "ROAD": "RD",
    "ROUTE": "RTE",
    "SQUARE": "SQ",
    "STREET": "ST",
    "STR": "ST",
    "TERRACE": "TER",
    "TRAIL": "TRL",
    "TURNPIKE": "TPKE",
    "WAY": "WAY",
}
_DIRECTIONS = {
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
}
_UNITS = {
    "APARTMENT": "APT",
    "SUITE": "STE",
    "UNIT": "UNIT",
    "BUILDING": "BLDG",
    "FLOOR": "FL",
    "ROOM": "RM",
    "#": "#",
    "NUMBER": "#",
    "NO": "#",
}
_PARTS = (
    "AddressNumber",
    "StreetNamePreDirectional",
    "StreetNamePreType",
    "StreetName",
    "StreetNamePostType",
    "StreetNamePostDirectional",
    "OccupancyType",
    "OccupancyIdentifier",
)


def _clean(text: str) -> str:
    return re.sub(r"[^\w# -]", " ", text.upper()).strip()


def _standard(label: str, value: str) -> str:
    words = _clean(value).split()
    if label in ("StreetNamePostType", "StreetNamePreType"):
        return " ".join(_SUFFIXES.get(w, w) for w in words)
    if label in ("StreetNamePreDirectional", "StreetNamePostDirectional"):
        return " ".join(_DIRECTIONS.get(w, w) for w in words)
    if label == "OccupancyType":
        return " ".join(_UNITS.get(w, w) for w in words)
    if label == "OccupancyIdentifier":
        return "".join(words).lstrip("#")
    return " ".join(words)


def canonical_address(address: Address) -> str:
    """The canonical key of a US street address (upper case, USPS abbreviations, ZIP5)."""
    import usaddress  # its model loads on first use

    street = " ".join(part for part in (address.line1, address.line2 or "") if part)
    try:
        tagged, _ = usaddress.tag(street)
        parts = [_standard(label, tagged[label]) for label in _PARTS if tagged.get(label)]
    except usaddress.RepeatedLabelError:
        parts = [_clean(street)]
    line = " ".join(" ".join(parts).split())
    return f"{line}|{_clean(address.city)}|{address.state}|{address.zip[:5]}"


# Words a masked street shows, in the short form: "Street" -> "St", "North" -> "N", "Apartment" -> "Apt".
_SHOWN = {
    **{word: short.title() for word, short in _SUFFIXES.items()},
    **{short: short.title() for short in _SUFFIXES.values()},
    **_DIRECTIONS,
    **{short: short for short in _DIRECTIONS.values()},
    **{word: short.title() for word, short in _UNITS.items()},
    **{short: short.title() for short in _UNITS.values()},
}


def masked_street(address: Address) -> str:
    """``123 Main Street`` -> ``1** M*** St``: enough for its owner to recognize, not for a stranger.

    Numbers and names keep their first character; street types, directions and unit words show,
    abbreviated the USPS way (so the same place reads the same however it was typed).
    """
    masked = []
    for word in " ".join(p for p in (address.line1, address.line2 or "") if p).split():
        bare = word.strip(".,")
        shown = _SHOWN.get(bare.upper())
        if shown is not None:
            masked.append(shown)
        elif len(bare) <= 1:
            masked.append(bare)
        else:
            masked.append(bare[0] + "*" * (len(bare) - 1))
    return " ".join(masked)


def checked_address(address: Address) -> str:
    """The canonical form of a US street address; ValidationFailed (with the fields) when it is
    not one: usaddress must read a street address, and the ZIP must exist in the given state."""
    import usaddress  # loads its model on first use
    import zipcodes  # loads its data set on first use

    details: list[dict[str, Any]] = []
    street = " ".join(part for part in (address.line1, address.line2 or "") if part)
    try:
        tagged, kind = usaddress.tag(street)
    except usaddress.RepeatedLabelError:
        tagged, kind = {}, "Ambiguous"
    if kind != "Street Address" or not tagged.get("AddressNumber") or not tagged.get("StreetName"):
        details.append({"field": "body.address.line1", "message": "not a street address (number and street)"})
    try:
        matches = zipcodes.matching(address.zip)
    except (TypeError, ValueError):
        matches = []
    if not matches:
        details.append({"field": "body.address.zip", "message": "unknown ZIP code"})
    elif all(match.get("state") != address.state for match in matches):
        details.append(
            {"field": "body.address.state", "message": f"ZIP code {address.zip} is not in this state"}
        )
    if details:
        raise ValidationFailed("The address is not a valid US street address.", details=details)
    return canonical_address(address)
