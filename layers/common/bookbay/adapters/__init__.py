"""Outbound services behind small interfaces: a boto3 implementation taking an optional client,
and an in-memory fake for unit tests."""

from typing import Any


def aws_client(service: str, region: str | None = None) -> Any:
    """A boto3 client of ``service``. Adapters make theirs on their first call: boto3 and the
    service's model load then, and only in a function that uses the service on that request."""
    import boto3

    return boto3.client(service, region_name=region) if region else boto3.client(service)
