"""Domain exceptions: the one place they are declared. HTTP mapping lives in bookbay.api."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every expected failure. ``code`` is the public snake_case error code."""

    code = "domain_error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class LocationNotFound(NotFound):
    code = "location_not_found"


class ServiceNotFound(NotFound):
    code = "service_not_found"


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


class Forbidden(DomainError):
    code = "forbidden"


class ShopFileError(DomainError):
    """A shop file (ops loader) is unreadable or invalid."""

    code = "invalid_shop_file"


class Unauthorized(DomainError):
    code = "unauthorized"
