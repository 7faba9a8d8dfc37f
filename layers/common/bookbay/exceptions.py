"""Domain exceptions: the one place they are declared. HTTP mapping lives in bookbay.api."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bookbay.domain.flags import FlagHits


class DomainError(Exception):
    """Base of every expected failure. ``code`` is the public snake_case error code."""

    code = "domain_error"

    def __init__(
        self,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        # More members of the error object (JSON values), e.g. a 409's ``alternatives``.
        self.extra: dict[str, Any] = dict(extra or {})


class NotFound(DomainError):
    code = "not_found"


class LocationNotFound(NotFound):
    code = "location_not_found"


class ServiceNotFound(NotFound):
    code = "service_not_found"


class LinkNotFound(NotFound):
    """A link token that is malformed or that no appointment has (the same answer for both)."""

    code = "link_not_found"


class Gone(DomainError):
    """It existed but is no longer available (a 410)."""

    code = "gone"


class LinkInactive(Gone):
    """A link whose appointment is past, cancelled or checked in."""

    code = "link_inactive"


class ShopNotConfigured(DomainError):
    """The stack has no shop loaded yet (ops must run the loader)."""

    code = "shop_not_configured"


class InvalidInput(DomainError):
    """Input that is well-formed but not acceptable (a 422)."""

    code = "invalid_input"


class ValidationFailed(InvalidInput):
    """Domain-level validation of a whole object failed; ``details`` name the fields."""

    code = "validation_error"


class UnknownZip(InvalidInput):
    code = "unknown_zip"


class AppointmentTypeNotOffered(InvalidInput):
    """The location or the service does not offer the requested appointment type."""

    code = "appointment_type_not_offered"


class ZipNotServed(InvalidInput):
    """An at-home appointment for a ZIP code the location does not serve (or without a ZIP)."""

    code = "zip_not_served"


class Conflict(DomainError):
    code = "conflict"


class StaleWrite(Conflict):
    """Somebody else changed the record between our read and our write."""

    code = "concurrent_update"


class SlotUnavailable(Conflict):
    """The slot (or one the service needs after it) is taken, blocked, or not bookable now.

    ``alternatives``: the next free slots, as ``{"start", "end", "remaining"}`` (ISO times).
    """

    code = "slot_unavailable"

    def __init__(self, message: str, *, alternatives: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, extra={"alternatives": list(alternatives or [])})
        self.alternatives = list(alternatives or [])


class CustomerChanged(Conflict):
    """A concurrent booking created the same customer's records first (the booking may be re-run)."""

    code = "customer_changed"


class SlotNoLongerBookable(SlotUnavailable):
    """The time asked for can no longer be booked (inside the lead time, past the horizon)."""


class InvalidTransition(Conflict):
    """The appointment's state does not allow the action (e.g. an e-confirmation of a cancelled one)."""

    code = "invalid_transition"


class RequestInProgress(Conflict):
    """A request with the same Idempotency-Key is still being processed."""

    code = "request_in_progress"


class IdempotencyKeyReused(InvalidInput):
    """The Idempotency-Key was used before with a different request body."""

    code = "idempotency_key_reused"


class Forbidden(DomainError):
    code = "forbidden"


class ShopFileError(DomainError):
    """A shop file (ops loader) is unreadable or invalid."""

    code = "invalid_shop_file"


class Unauthorized(DomainError):
    code = "unauthorized"


class VerificationRequired(Unauthorized):
    """The shop requires a verified phone or e-mail (a verification token) before booking."""

    code = "verification_required"


class BookingNotAvailable(Forbidden):
    """The customer may not book online (Do Not Service); the message reveals nothing else."""

    code = "booking_not_available"


class OwnerRequired(Forbidden):
    """A staff member outside the owner group named settings only owners may change (mail
    routing, notification addresses, security); ``details`` name them. Nothing is changed."""

    code = "owner_required"


class TooManyRequests(DomainError):
    """A rate limit is reached (a 429); ``retry_after`` seconds until it may be tried again."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, extra={"retry_after": max(1, retry_after)})
        self.retry_after = max(1, retry_after)


class ChannelNotOffered(InvalidInput):
    """The shop does not send verification codes over this channel (or not to this country)."""

    code = "channel_not_offered"


class SmsUnavailable(Conflict):
    """The shop's cap on SMS codes is reached for now (a 409): ask for the code by e-mail."""

    code = "sms_unavailable"


class InvalidCode(DomainError):
    """A verification code that does not match (a 400); the answer says nothing else."""

    code = "invalid_code"


class CodeExpired(Gone):
    """No usable code for the destination: expired, already used, or its checks used up."""

    code = "code_expired"


class InvalidVerificationToken(Unauthorized):
    """A verification token that is malformed, badly signed or expired."""

    code = "invalid_verification_token"


class IdentityMismatch(Forbidden):
    """A known-source link with an identifying item that does not match (or a locked / unknown
    link): one generic answer for all of them."""

    code = "identity_mismatch"


class InvalidCursor(DomainError):
    """A list's ``cursor`` that is not the ``next_cursor`` of a previous page of that list (a 400)."""

    code = "invalid_cursor"


class FlagNotFound(NotFound):
    """No flagged customer has this id (never had, or staff deleted it)."""

    code = "flag_not_found"


class FieldNotFlagged(Conflict):
    """Un-flagging a field the flag does not hold, or one already un-flagged (a 409)."""

    code = "field_not_flagged"


class FlagCheckIncomplete(Conflict):
    """A booking detail taken from the record on file (so not read with the customer) turned out
    to be flagged when the booking was written: nothing was written; the booking is written again
    with the flags the failed checks handed back (``hits``; None when none came back, and then
    it reads them), so this never reaches a client."""

    code = "conflict"

    def __init__(self, message: str, hits: FlagHits | None = None) -> None:
        super().__init__(message)
        self.hits = hits


class ContactInUse(Conflict):
    """A phone number or e-mail address staff give a customer is another customer's already (a 409
    that names nobody: one customer per phone and per e-mail)."""

    code = "contact_in_use"


class SignInNotConfigured(ShopNotConfigured):
    """The admin page cannot send staff to the hosted UI: the staff app client is not in the user
    pool, or Cognito could not be asked (a 503 until ops fix the stack)."""

    code = "sign_in_not_configured"
