"""The staff user pool's app client, found by name (Cognito ListUserPoolClients), behind an interface.

The admin page needs the client's id to send staff to the hosted UI. The template cannot hand it
to the page's function (the client names the API's URL as its callback, the API names the
function: a cycle), so the function looks it up once per container.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Protocol

from bookbay.adapters import aws_client

PAGE_SIZE = 60  # ListUserPoolClients' maximum


class AppClientLookupError(RuntimeError):
    """Cognito could not be asked (throttled, no permission, no such pool)."""


class AppClients(Protocol):
    def client_id(self, user_pool_id: str, client_name: str) -> str | None:
        """The id of the pool's app client named ``client_name`` (None: no such client);
        raises AppClientLookupError."""
        ...


class CognitoAppClients:
    def __init__(self, region: str, client: Any | None = None) -> None:
        self._given_client = client
        self._region = region

    @cached_property
    def _client(self) -> Any:
        """The given client, or boto3's, made on the first call (not at cold start)."""
        return (
            self._given_client
            if self._given_client is not None
            else aws_client("cognito-idp", region=self._region)
        )

    def client_id(self, user_pool_id: str, client_name: str) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {"UserPoolId": user_pool_id, "MaxResults": PAGE_SIZE}
        try:
            while True:
                page = self._client.list_user_pool_clients(**request)
                for found in page.get("UserPoolClients", []):
                    if found.get("ClientName") == client_name:
                        return str(found["ClientId"])
                if not page.get("NextToken"):
                    return None
                request["NextToken"] = page["NextToken"]
        except (ClientError, BotoCoreError) as exc:
            raise AppClientLookupError(f"Cognito: {type(exc).__name__}: {exc}") from exc


class InMemoryAppClients:
    def __init__(self, clients: dict[tuple[str, str], str] | None = None) -> None:
        self.clients = dict(clients or {})
        self.lookups = 0

    def client_id(self, user_pool_id: str, client_name: str) -> str | None:
        self.lookups += 1
        return self.clients.get((user_pool_id, client_name))
