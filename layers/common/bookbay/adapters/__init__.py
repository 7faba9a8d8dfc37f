"""Outbound services behind small interfaces: a boto3 implementation taking an optional client,
and an in-memory fake for unit tests."""
