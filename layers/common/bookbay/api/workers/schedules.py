"""The Input a one-time EventBridge Scheduler schedule invokes a worker with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

from bookbay.modeling import BaseModel
from bookbay.observability import logger

_Input = TypeVar("_Input", bound=BaseModel)


def schedule_input(model: type[_Input], event: Any, what: str) -> _Input | None:
    """The Input a schedule invoked a function with, as ``model``; None for anything else, logged
    by its keys alone (never values). Retrying cannot fix such an event, and a schedule of ours
    never sends one, so the caller answers it and stops."""
    try:
        return model.model_validate(event)
    except ValidationError:
        keys = sorted(map(str, event))[:10] if isinstance(event, Mapping) else type(event).__name__
        logger.error(f"not a {what} event", extra={"keys": keys})
        return None
