"""Configuration: one pydantic model per function, read once from the environment at cold start.

This is the only module that reads ``os.environ``. A missing required setting fails the cold
start with the names of what is missing, never a silent default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from bookbay.modeling import BaseModel


class ConfigError(RuntimeError):
    """The function's environment lacks a required setting or has an invalid one."""


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def checked_base_url(value: str) -> str:
    """``value`` if it is a base URL for links: https (plain http only on a loopback host, which
    is what the local stack serves), a host, no trailing slash, query, fragment or credentials."""
    from urllib.parse import urlsplit

    problem = (
        "an https:// URL without a trailing slash, query or fragment "
        "(http:// only for 127.0.0.1, localhost or ::1)"
    )
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError(problem) from exc
    if (
        not host
        or parts.scheme not in ("https", "http")
        or (parts.scheme == "http" and host not in LOOPBACK_HOSTS)
        or parts.query
        or parts.fragment
        or "?" in value
        or "#" in value
        or parts.username is not None
        or value.endswith("/")
        or any(ch.isspace() for ch in value)
    ):
        raise ValueError(problem)
    return value


class BaseConfig(BaseModel):
    """Settings every function has. Field ``foo_bar`` is read from ``FOO_BAR``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(min_length=1, description="The domain table")
    shop_name: str = Field(min_length=1)
    environment: str = Field(default="dev")
    region: str = Field(default="us-east-1", description="AWS_REGION")
    public_base_url: str = Field(
        description="PublicBaseUrl: the base URL of every link in messages and of the pages' origin check "
        "(https; http only on a loopback host, as the local stack serves)"
    )
    catalog_cache_seconds: float = Field(
        default=30.0, ge=0, description="How long a warm container reuses the catalog it read"
    )

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str) -> str:
        return checked_base_url(value)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for name in cls.model_fields:
            key = "AWS_REGION" if name == "region" else name.upper()
            if key in env:
                values[name] = env[key]
        if "region" not in values and "AWS_DEFAULT_REGION" in env:
            values["region"] = env["AWS_DEFAULT_REGION"]
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = ", ".join(f"{str(err['loc'][0]).upper()} ({err['msg']})" for err in exc.errors())
            raise ConfigError(f"{cls.__name__}: bad or missing environment: {problems}") from exc


class StaffApiConfig(BaseConfig):
    """Functions behind the Cognito authorizer. Their guard (bookbay.api.auth) takes only ID tokens
    that STAFF_USER_POOL_ID issued (``iss`` is ``staff_token_issuer``) to the staff app client: that
    client's id comes with each request as the API stage's variable, since the template cannot put
    it here (the client names the API's URL, the API names the functions: a cycle)."""

    staff_group: str = Field(default="staff", min_length=1)
    staff_user_pool_id: str = Field(min_length=1, max_length=55, pattern=r"^[\w-]+$")

    @property
    def staff_token_issuer(self) -> str:
        """The ``iss`` of the pool's tokens: https://cognito-idp.<region>.amazonaws.com/<pool id>."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.staff_user_pool_id}"


class SchedulingConfig(BaseConfig):
    """Functions that schedule reminders: one-time schedules in SCHEDULE_GROUP, invoking the
    reminder function as SCHEDULER_ROLE_ARN, undeliverable ones to SCHEDULER_DLQ_ARN."""

    schedule_group: str = Field(min_length=1)
    scheduler_role_arn: str = Field(min_length=1)
    scheduler_dlq_arn: str | None = None
    reminder_function_arn: str = Field(min_length=1, description="The reminder schedules' target")


class OutboxSenderConfig(SchedulingConfig):
    """The outbox worker: messages through SES / SNS, and the effects of the lifecycle -- reminder
    schedules (SchedulingConfig) and review-request schedules (REVIEW_FUNCTION_ARN as target)."""

    sender_email: str = Field(min_length=3)
    sms_sender_id: str | None = Field(default=None, max_length=11)
    review_function_arn: str = Field(min_length=1, description="The review-request schedules' target")


class ReviewSenderConfig(BaseConfig):
    """The review-request function: next steps are one-time schedules in SCHEDULE_GROUP run as
    SCHEDULER_ROLE_ARN (undeliverable ones to SCHEDULER_DLQ_ARN), targeting the function itself."""

    schedule_group: str = Field(min_length=1)
    scheduler_role_arn: str = Field(min_length=1)
    scheduler_dlq_arn: str | None = None


class AdminAppointmentsConfig(StaffApiConfig):
    """The staff appointments API (its changes' effects are outbox items: it schedules nothing)."""


class SettingsApiConfig(StaffApiConfig):
    """The staff settings API: members of OWNER_GROUP (the template's OwnerGroupName) may also
    change the owner-only settings (``bookbay.services.settings.OWNER_ONLY``)."""

    owner_group: str = Field(min_length=1)


# ------------------------------------------------------------------------------ the admin page
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")  # a bare host: no scheme, path, port

SignInMode = Literal["cognito", "local"]


class AdminPageConfig(BaseConfig):
    """The admin page function. ``ADMIN_SIGN_IN``: ``cognito`` (the template) or ``local`` (the
    local stack); with cognito, the user pool, its app client's name and the hosted UI's domain."""

    admin_sign_in: SignInMode
    staff_user_pool_id: str = Field(default="", max_length=55, validate_default=True)
    staff_app_client_name: str = Field(default="", max_length=128, validate_default=True)
    staff_sign_in_domain: str = Field(
        default="",
        max_length=253,
        validate_default=True,
        description="The hosted UI's host, <prefix>.auth.<region>.amazoncognito.com",
    )

    # Field validators (not one model validator), so a cold start that fails names the variable.
    @field_validator("staff_user_pool_id", "staff_app_client_name", "staff_sign_in_domain")
    @classmethod
    def _needed_with_cognito(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("admin_sign_in") == "cognito" and not value:
            raise ValueError("required with ADMIN_SIGN_IN=cognito")
        return value

    @field_validator("staff_sign_in_domain")
    @classmethod
    def _host(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("admin_sign_in") == "cognito" and value and not _HOST.match(value):
            raise ValueError("a host name, without https:// or a path")
        return value

    @property
    def sign_in_origin(self) -> str | None:
        """The hosted UI's origin (the page posts the code there), None locally."""
        return f"https://{self.staff_sign_in_domain}" if self.admin_sign_in == "cognito" else None


class SignInConfig(BaseModel):
    """GET /admin/config.json: how the page signs staff in. The page sends the hosted UI its own
    URL (``<origin><stage>/admin``) as the redirect URI; Cognito accepts only the registered ones."""

    sign_in: SignInMode
    client_id: str | None = Field(default=None, description="cognito: the app client (public, PKCE)")
    authorize_url: str | None = None
    token_url: str | None = None
    logout_url: str | None = None
    scopes: list[str] = Field(default_factory=list)
    local_token_path: str | None = Field(default=None, description="local: POST here for a staff token")


class BookingConfig(BaseConfig):
    """The booking function: its Powertools idempotency records live in their own table; it checks
    verification tokens with the SigningKeySecret."""

    idempotency_table: str = Field(min_length=1)
    signing_key_secret_arn: str = Field(min_length=1, description="Secrets Manager ARN of the signing key")


class VerificationConfig(BaseConfig):
    """The verification function: codes and tokens are keyed by the SigningKeySecret."""

    signing_key_secret_arn: str = Field(min_length=1, description="Secrets Manager ARN of the signing key")
