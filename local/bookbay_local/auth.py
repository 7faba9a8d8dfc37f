"""The local stand-in for the Cognito user-pool authorizer.

``POST /_local/token`` issues an HS256 JWT signed with a secret made per process; the gateway
accepts it where the template puts a Cognito authorizer and passes its claims the way API Gateway
passes a Cognito ID token's claims to a REST proxy integration (strings; groups comma-separated).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import jwt

ISSUER: Final = "bookbay-local"
AUDIENCE: Final = "bookbay-local-admin"
DEFAULT_EXPIRES_IN: Final = 3600


class TokenIssuer:
    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def issue(
        self, sub: str, email: str | None, groups: Sequence[str], *, expires_in: int = DEFAULT_EXPIRES_IN
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "cognito:username": sub,
            "cognito:groups": list(groups),
            "token_use": "id",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "auth_time": now,
            "iat": now,
            "exp": now + expires_in,
        }
        if email:
            claims["email"] = email
            claims["email_verified"] = True
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, header_value: str | None) -> dict[str, Any] | None:
        """The token's claims if the header holds a valid, unexpired token (``Bearer `` optional)."""
        if not header_value:
            return None
        token = header_value.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.PyJWTError:
            return None
        return claims


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands a Cognito ID token's claims to the integration."""
    out: dict[str, str] = {}
    for key, value in claims.items():
        if key == "cognito:groups":
            out[key] = ",".join(str(group) for group in value)
        elif key in ("exp", "iat", "auth_time"):
            out[key] = datetime.fromtimestamp(int(value), UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out
