"""Masking for logs: never a full phone number, e-mail address or street address in a log line."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    if len(digits) <= 4:
        return "***"
    return f"***{''.join(digits[-2:])}"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_contact(value: str) -> str:
    return mask_email(value) if "@" in value else mask_phone(value)
