"""Signed verification tokens: proof that the bearer verified a phone or e-mail in the last 30 minutes.

HS256 JWTs keyed by (a key derived from) the SigningKeySecret, which is read from Secrets Manager
through Powertools (cached 5 minutes in a warm container). Claims: ``sub`` (the verified
destination, normalized), ``channel``, ``customer_id`` (when recognized), ``vehicle_id`` (a
known-source link's vehicle), ``via`` (``code``: a one-time code was checked; ``known_source``: a
source link plus one matching phone or e-mail), ``iat``, ``exp`` and ``typ`` = ``verification``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from bookbay.domain.booking import VerifiedVia
from bookbay.domain.catalog import Channel
from bookbay.domain.verification import derive_key
from bookbay.exceptions import InvalidVerificationToken

TOKEN_TTL = timedelta(minutes=30)
TOKEN_TYPE = "verification"  # noqa: S105 - a claim value, not a secret
ALGORITHM = "HS256"
SECRET_CACHE_SECONDS = 300

# Where the signing secret's bytes come from (Secrets Manager in a function, a constant in tests).
SecretSource = Callable[[], bytes]


def secrets_manager_source(secret_arn: str) -> SecretSource:
    """The secret's value via Powertools' parameters (cached ``SECRET_CACHE_SECONDS``).

    Powertools' parameters (and boto3 with it) is imported on the first read: a code send, a
    booking without a token or a staff page never loads them."""

    def read() -> bytes:
        from aws_lambda_powertools.utilities import parameters

        value: str | bytes = parameters.get_secret(secret_arn, max_age=SECRET_CACHE_SECONDS)
        return value.encode("utf-8") if isinstance(value, str) else value

    return read


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who a valid verification token says the bearer is."""

    destination: str
    channel: Channel
    customer_id: str | None
    expires_at: datetime
    vehicle_id: str | None = None
    via: VerifiedVia = "code"


class VerificationTokens:
    def __init__(self, secret: SecretSource) -> None:
        self._secret = secret

    def _key(self) -> bytes:
        return derive_key(self._secret(), "verification-token")

    def code_key(self) -> bytes:
        """The key verification codes and destinations are hashed with (not the token key)."""
        return derive_key(self._secret(), "verification-code")

    def issue(
        self,
        destination: str,
        channel: Channel,
        customer_id: str | None,
        now: datetime,
        *,
        vehicle_id: str | None = None,
        via: VerifiedVia = "code",
    ) -> str:
        claims: dict[str, Any] = {
            "sub": destination,
            "channel": channel,
            "via": via,
            "typ": TOKEN_TYPE,
            "iat": int(now.timestamp()),
            "exp": int((now + TOKEN_TTL).timestamp()),
        }
        if customer_id:
            claims["customer_id"] = customer_id
        if vehicle_id:
            claims["vehicle_id"] = vehicle_id
        import jwt  # imported by the requests that sign or check a token, not at cold start

        return jwt.encode(claims, self._key(), algorithm=ALGORITHM)

    def verify(self, token: str, now: datetime | None = None) -> VerifiedIdentity:
        """The identity a token proves; InvalidVerificationToken (401) when bad or expired."""
        now = now or datetime.now(UTC)
        refused = InvalidVerificationToken("The verification is invalid or has expired; verify again.")
        import jwt

        try:
            claims = jwt.decode(
                token,
                self._key(),
                algorithms=[ALGORITHM],
                # Times are checked below against the injected clock, not the machine clock.
                options={"require": ["sub", "exp", "iat", "typ"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise refused from exc
        expires = claims["exp"]
        if not isinstance(expires, int) or expires <= int(now.timestamp()):
            raise refused
        channel = claims.get("channel")
        if claims["typ"] != TOKEN_TYPE or channel not in ("sms", "email") or not claims["sub"]:
            raise refused
        via = claims.get("via", "code")
        if via not in get_args(VerifiedVia):
            raise refused
        customer_id = claims.get("customer_id")
        vehicle_id = claims.get("vehicle_id")
        return VerifiedIdentity(
            destination=str(claims["sub"]),
            channel=channel,
            customer_id=str(customer_id) if customer_id else None,
            expires_at=datetime.fromtimestamp(expires, tz=now.tzinfo),
            vehicle_id=str(vehicle_id) if vehicle_id else None,
            via=via,
        )
