"""The local stand-in for the Cognito user pool and its authorizer.

``POST /_local/token`` issues an HS256 JWT signed with a secret made per process (the pool's keys):
by default the ID token that the template's user pool issues to its app client (``iss``
``https://cognito-idp.<region>.amazonaws.com/<pool id>``, ``aud`` the client id, the ids the
template's ``!Ref StaffUserPool`` / ``!Ref StaffUserPoolClient`` resolve to locally), or, with
overrides, an access token, another app client's token or another pool's. The gateway checks what
API Gateway's Cognito authorizer checks (signature, expiry, the issuer is the authorizer's pool,
never the app client) and passes the claims the way API Gateway passes them to a REST proxy
integration (strings; groups comma-separated).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal

import jwt

from bookbay_local.intrinsics import Resolver

ISSUER: Final = "bookbay-local"  # a bare TokenIssuer()'s; the local stack's names its user pool
AUDIENCE: Final = "bookbay-local-admin"
DEFAULT_EXPIRES_IN: Final = 3600
USER_POOL_TYPE: Final = "AWS::Cognito::UserPool"
CLIENT_TYPE: Final = "AWS::Cognito::UserPoolClient"

TokenUse = Literal["id", "access"]


def pool_issuer(region: str, user_pool_id: str) -> str:
    """The ``iss`` of a user pool's tokens."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def issuer_of_pool_arn(arn: str) -> str | None:
    """``arn:aws:cognito-idp:<region>:<account>:userpool/<id>`` -> that pool's issuer."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "cognito-idp" or not parts[5].startswith("userpool/"):
        return None
    return pool_issuer(parts[3], parts[5].removeprefix("userpool/"))


class TokenIssuer:
    def __init__(
        self, secret: bytes | None = None, *, issuer: str = ISSUER, client_id: str = AUDIENCE
    ) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self.issuer = issuer
        self.client_id = client_id

    @classmethod
    def for_template(cls, resolver: Resolver) -> TokenIssuer:
        """The stand-in of the template's (first) user pool and that pool's (first) app client."""
        template = resolver.template
        pools = list(template.resources_of_type(USER_POOL_TYPE))
        if not pools:
            return cls()
        pool = pools[0]
        clients = [
            name
            for name in template.resources_of_type(CLIENT_TYPE)
            if template.properties(name).get("UserPoolId") == {"Ref": pool}
        ]
        return cls(
            issuer=pool_issuer(resolver.region, str(resolver.ref(pool))),
            client_id=str(resolver.ref(clients[0])) if clients else AUDIENCE,
        )

    def issue(
        self,
        sub: str,
        email: str | None,
        groups: Sequence[str],
        *,
        expires_in: int = DEFAULT_EXPIRES_IN,
        token_use: TokenUse = "id",  # noqa: S107 - a claim, not a secret
        client_id: str | None = None,
        issuer: str | None = None,
    ) -> str:
        """An ID token as Cognito issues it (``client_id``/``issuer``: another app client's or
        pool's), or with ``token_use="access"`` an access token (``client_id``, ``scope``, no
        ``aud``, no e-mail)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "cognito:groups": list(groups),
            "token_use": token_use,
            "iss": issuer or self.issuer,
            "auth_time": now,
            "iat": now,
            "exp": now + expires_in,
            "jti": str(uuid.uuid4()),
        }
        if token_use == "access":  # noqa: S105 - a claim, not a secret
            claims.update(
                {"client_id": client_id or self.client_id, "username": sub, "scope": "openid email"}
            )
        else:
            claims.update({"aud": client_id or self.client_id, "cognito:username": sub})
            if email:
                claims["email"] = email
                claims["email_verified"] = True
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(
        self, header_value: str | None, issuers: Collection[str] | None = None
    ) -> dict[str, Any] | None:
        """The token's claims if the header holds a valid, unexpired token (``Bearer `` optional)
        of one of ``issuers`` (default: this pool): what a Cognito authorizer checks. Like API
        Gateway's, it takes any app client's token, ID or access."""
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
                options={"require": ["sub", "exp", "iat", "iss"], "verify_aud": False},
            )
        except jwt.PyJWTError:
            return None
        if claims["iss"] not in (issuers if issuers is not None else (self.issuer,)):
            return None
        return claims


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway hands a Cognito token's claims to the integration."""
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
