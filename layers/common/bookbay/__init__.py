"""Bookbay: appointment booking for service shops. The domain code shared by every Lambda."""

__version__ = "0.1.0"
