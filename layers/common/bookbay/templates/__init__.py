"""The jinja2 templates of e-mails and pages (package data of the layer, next to this module).

``*.html`` templates are autoescaped (customer-typed names and notes arrive escaped); ``*.txt``
templates are not (they are plain text). Undefined variables are errors, not empty strings.
Filters render times in the zone of the datetime they get (callers pass location-local times).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bookbay.types import phone_display

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATE_DIR = Path(__file__).resolve().parent


def _hour(moment: datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'}"


def long_when(moment: datetime) -> str:
    """``Tuesday, December 1, 2026 at 9:00 AM CST`` (in ``moment``'s own zone)."""
    return f"{moment:%A, %B} {moment.day}, {moment.year} at {_hour(moment)} {moment.tzname() or ''}".rstrip()


def short_when(moment: datetime) -> str:
    """``Tue, Dec 1, 9:00 AM CST``: for subjects and slot pickers."""
    return f"{moment:%a, %b} {moment.day}, {_hour(moment)} {moment.tzname() or ''}".rstrip()


def day_label(moment: datetime) -> str:
    """``Tuesday, December 1``: the heading of a day's slots."""
    return f"{moment:%A, %B} {moment.day}"


def time_of_day(moment: datetime) -> str:
    """``9:00 AM``."""
    return _hour(moment)


@cache
def environment() -> Environment:
    """The templates' environment, built (and jinja2 imported) on the first render."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        long_when=long_when,
        short_when=short_when,
        day_label=day_label,
        time_of_day=time_of_day,
        phone=phone_display,
    )
    return env


def render(name: str, /, **context: Any) -> str:
    """Render template ``name`` (e.g. ``email/customer.html``) with ``context``."""
    return environment().get_template(name).render(**context)
