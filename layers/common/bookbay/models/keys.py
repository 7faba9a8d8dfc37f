"""Key builders for the single domain table: every key shape is spelled here, once."""

from __future__ import annotations

from datetime import UTC, datetime

SHOP_PK = "SHOP"
SHOP_SK = "SHOP"


def location_sk(location_id: str) -> str:
    return f"LOCATION#{location_id}"


def service_sk(service_id: str) -> str:
    return f"SERVICE#{service_id}"


LOCATION_PREFIX = "LOCATION#"
SERVICE_PREFIX = "SERVICE#"


def outbox_pk(message_id: str) -> str:
    return f"OUTBOX#{message_id}"


OUTBOX_SK = "OUTBOX"


def effect_pk(effect_id: str) -> str:
    return f"EFFECT#{effect_id}"


EFFECT_SK = "EFFECT"
# Outbox items (messages and effects) not delivered yet, by when they are due (GSI3): the
# worker's sweep finds what a failed stream batch or a lost retry schedule left behind.
OUTBOX_DUE_GSI3PK = "OUTBOX#DUE"


def outbox_due_gsi3(utc_due_iso: str, item_id: str) -> tuple[str, str]:
    return OUTBOX_DUE_GSI3PK, f"{utc_due_iso}#{item_id}"


# ---------------------------------------------------------------- customers
PROFILE_SK = "PROFILE"
PHONE_SK = "PHONE"
EMAIL_SK = "EMAIL"
ADDRESSKEY_SK = "ADDRESSKEY"
VEHICLE_PREFIX = "VEHICLE#"
ADDRESS_PREFIX = "ADDRESS#"
PROPOSED_PREFIX = "PROPOSED#"


def customer_pk(customer_id: str) -> str:
    return f"CUSTOMER#{customer_id}"


def phone_pk(e164: str) -> str:
    return f"PHONE#{e164}"


def email_pk(normalized_email: str) -> str:
    return f"EMAIL#{normalized_email}"


def address_key_pk(canonical: str) -> str:
    return f"ADDRESSKEY#{canonical}"


def contact_key(destination: str) -> tuple[str, str]:
    """The lookup item's key of a normalized phone (E.164) or e-mail (the one with an @)."""
    if "@" in destination:
        return email_pk(destination), EMAIL_SK
    return phone_pk(destination), PHONE_SK


def customer_contact_gsi2(customer_id: str, lookup_pk: str) -> tuple[str, str]:
    """A phone / e-mail lookup item's place among its customer's items on GSI2:
    GSI2PK=CUSTOMER#<id>, GSI2SK=CONTACT#<PHONE#... | EMAIL#...> (to update or list them all)."""
    return customer_pk(customer_id), f"{CONTACT_PREFIX}{lookup_pk}"


CONTACT_PREFIX = "CONTACT#"


def vehicle_sk(vehicle_id: str) -> str:
    return f"{VEHICLE_PREFIX}{vehicle_id}"


def address_sk(address_id: str) -> str:
    return f"{ADDRESS_PREFIX}{address_id}"


def proposed_sk(created_at_iso: str, change_id: str) -> str:
    return f"{PROPOSED_PREFIX}{created_at_iso}#{change_id}"


PROPOSED_PENDING_GSI3PK = "PROPOSED#pending"


# ---------------------------------------------------------------- appointments
APPOINTMENT_SK = "APPOINTMENT"


def appointment_pk(appointment_id: str) -> str:
    return f"APPOINTMENT#{appointment_id}"


def appointment_gsi1(location_id: str, local_start_iso: str, appointment_id: str) -> tuple[str, str]:
    """Appointments by location and local day: GSI1PK=LOCATION#<id>, GSI1SK=<local ISO start>#<id>."""
    return f"LOCATION#{location_id}", f"{local_start_iso[:19]}#{appointment_id}"


def appointment_gsi2(customer_id: str, utc_start_iso: str) -> tuple[str, str]:
    return customer_pk(customer_id), f"APPOINTMENT#{utc_start_iso}"


APPOINTMENTS_GSI3PK = "APPOINTMENTS"


def appointment_gsi3(utc_start_iso: str, appointment_id: str) -> tuple[str, str]:
    """Every appointment of the shop by UTC start (the staff list across locations):
    GSI3PK=APPOINTMENTS, GSI3SK=<UTC start>#<id>."""
    return APPOINTMENTS_GSI3PK, f"{utc_start_iso}#{appointment_id}"


REMINDER_PREFIX = "REMINDER#"


def reminder_sk(sequence: int) -> str:
    """PK=APPOINTMENT#<id>, SK=REMINDER#<sequence>: the reminder for that version of it was sent."""
    return f"{REMINDER_PREFIX}{sequence}"


# ---------------------------------------------------------------- link tokens
TOKEN_SK = "TOKEN"  # noqa: S105 - a sort key, not a secret


def token_pk(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"


# ---------------------------------------------------------------- known-source links
SOURCE_SK = "SOURCE"


def source_pk(token_hash: str) -> str:
    """SOURCE#<sha256 of the source token>: a known-source link (the token itself is never stored)."""
    return f"SOURCE#{token_hash}"


# ---------------------------------------------------------------- slot capacity
SLOT_PREFIX = "SLOT#"


def location_pk(location_id: str) -> str:
    return f"LOCATION#{location_id}"


def slot_sk(start_utc: datetime) -> str:
    """SLOT#<UTC start as %Y-%m-%dT%H:%M:%SZ> (sorts by time)."""
    return f"{SLOT_PREFIX}{start_utc.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def slot_start(sk: str) -> datetime:
    """The aware UTC start a slot sort key names (the inverse of ``slot_sk``)."""
    return datetime.strptime(sk.removeprefix(SLOT_PREFIX), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# ---------------------------------------------------------------- verification codes and rate limits
CODE_SK = "CODE"
RATE_WINDOW_SK = "WINDOW"


def code_pk(destination_digest: str) -> str:
    """CODE#<HMAC of the normalized destination>: never the phone or e-mail itself."""
    return f"CODE#{destination_digest}"


def rate_pk(kind: str, subject: str) -> str:
    """RATE#<kind>#<subject>: the slots of one sliding-window limit (subjects are HMACs or the shop id)."""
    return f"RATE#{kind}#{subject}"


# ---------------------------------------------------------------- audit trail
AUDIT_PREFIX = "AUDIT#"


def audit_sk(utc_iso: str, entry_id: str) -> str:
    """SK=AUDIT#<UTC ISO time>#<entry id> under the changed thing's PK (its history, in time order)."""
    return f"{AUDIT_PREFIX}{utc_iso}#{entry_id}"


# The settings' audit entries: a partition of their own, not PK=SHOP (the catalog is read with one
# query of that partition, and the ops loader reports what in it the shop file does not hold).
SETTINGS_HISTORY_PK = "SETTINGS"


# ---------------------------------------------------------------- review requests
REVIEW_REQUEST_SK = "REVIEW"
REVIEW_STEP_PREFIX = "STEP#"
REVIEW_CUSTOMER_SK = "REVIEWS"  # under PK=CUSTOMER#<id>: the customer's active sequence, opt-out
REVIEW_GSI3_PREFIX = "REVIEWS#"


def review_request_pk(request_id: str) -> str:
    """PK=REVIEW#<id> (the completed appointment's id), SK=REVIEW: one review request."""
    return f"REVIEW#{request_id}"


def review_step_sk(step: int) -> str:
    """PK=REVIEW#<id>, SK=STEP#<n>: step n's e-mail went out (conditional put, TTL)."""
    return f"{REVIEW_STEP_PREFIX}{step}"


def review_gsi3(status: str, utc_created_iso: str, request_id: str) -> tuple[str, str]:
    """The staff queue: GSI3PK=REVIEWS#<status>, GSI3SK=<UTC created>#<id> (newest first = reverse)."""
    return f"{REVIEW_GSI3_PREFIX}{status}", f"{utc_created_iso}#{request_id}"


# ---------------------------------------------------------------- flagged customers
FLAG_SK = "FLAG"
FLAGVALUE_SK = "FLAGVALUE"
FLAGS_GSI3PK = "FLAGS"


def flag_pk(flag_id: str) -> str:
    """PK=FLAG#<id>, SK=FLAG: one flagged customer (its audit entries share the PK)."""
    return f"FLAG#{flag_id}"


def flag_value_pk(field: str, normalized_value: str) -> str:
    """PK=FLAGVALUE#<field>#<normalized value>, SK=FLAGVALUE: the flags that match on that value
    (what a booking reads by key, never by scan)."""
    return f"FLAGVALUE#{field}#{normalized_value}"


def flags_gsi3sk(utc_created_iso: str, flag_id: str) -> str:
    """The flag list: GSI3PK=FLAGS, GSI3SK=<UTC created>#<id> (newest first = reverse)."""
    return f"{utc_created_iso}#{flag_id}"


# ---------------------------------------------------------------- admin: customer search, proposed changes
CUSTOMER_NAME_PREFIX = "CUSTOMERNAME#"


def customer_name_gsi3(customer_id: str, last_name_key: str, first_name_key: str) -> tuple[str, str]:
    """A profile's place in the name search (normalized names, e.g. ``rivera lopez`` / ``dana``):
    GSI3PK=CUSTOMERNAME#<first character of the last name>, GSI3SK=<last> <first>#<customer id>;
    a search is one Query with ``begins_with`` on GSI3SK."""
    return customer_name_gsi3pk(last_name_key), f"{last_name_key} {first_name_key}#{customer_id}"


def customer_name_gsi3pk(name_key: str) -> str:
    """The name-search partition of a normalized name (or search text): its first character."""
    return f"{CUSTOMER_NAME_PREFIX}{name_key[:1] or '_'}"


def proposed_gsi3pk(status: str) -> str:
    """GSI3PK=PROPOSED#<status> of a proposed change (the staff queue reads PROPOSED#pending)."""
    return f"{PROPOSED_PREFIX}{status}"


# ---------------------------------------------------------------- admin: blocked time
BLOCK_PREFIX = "BLOCK#"


def block_sk(start_utc: datetime, ref: str) -> str:
    """PK=LOCATION#<id>, SK=BLOCK#<UTC start as %Y-%m-%dT%H:%M:%SZ>#<ref>: a block of time, next to
    the slot items it marks (a location's blocks sort by start)."""
    return f"{BLOCK_PREFIX}{start_utc.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}#{ref}"
