"""Powertools' process-wide state, one per invocation, as each Lambda container has its own.

On Lambda a container is a process for one function: the layer's ``bookbay.observability`` (one
Logger and one Metrics, made at import from the function's ``POWERTOOLS_SERVICE_NAME``) and
Powertools itself are imported in it for that function alone. Here every function's containers
share one import of them, the layer's made under the environment of whichever function was
imported first, and invocations run at the same time in threads. Left alone, every log line would
carry that first function's ``service`` (``catalog``); the keys a handler appends to the shared
formatter (``function_name``, ``function_request_id``, ``correlation_id``, ...) would land on the
lines of other invocations running meanwhile; and a request would be routed and validated with the
event of another one that started meanwhile (see the last point below).

So each function module's Powertools objects are adopted once imported (:func:`adopt`), and
:func:`run` runs an invocation in a :mod:`contextvars` context of its own in which

- each Logger's formatter keys (its ``log_format``) are the invocation's own copy, taken from the
  keys as they are outside any invocation, with ``service`` = the invoked function's
  ``POWERTOOLS_SERVICE_NAME``; whatever the handler appends stays in that copy;
- each Metrics' ``service`` (the EMF ``service`` dimension, e.g. of the ColdStart metric) reads as
  the invoked function's;
- the event handler's current event and Lambda context are the invocation's own: Powertools'
  ``resolve()`` sets them on its ``BaseRouter`` class, for every resolver of the process at once,
  so a request running meanwhile in another function (or another container of the same one) would
  have been routed and validated with this one's event.

Concurrent invocations (threads) and nested ones (an invocation made from within another) each see
their own. The keys Powertools keeps in a context variable (``thread_safe_append_keys``) are the
invocation's own too, since each runs in a copied context.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable, Iterator, MutableMapping
from types import ModuleType
from typing import Any, Final, TypeVar

SERVICE_ENV: Final = "POWERTOOLS_SERVICE_NAME"
SERVICE_KEY: Final = "service"

T = TypeVar("T")


class _Invocation:
    """What one invocation sees: its function's service name, and its own copy of each logger's keys."""

    def __init__(self, service: str | None) -> None:
        self.service = service
        self.log_keys: dict[int, dict[str, Any]] = {}  # id(InvocationKeys) -> the copy


_CURRENT: contextvars.ContextVar[_Invocation | None] = contextvars.ContextVar(
    "bookbay_local_invocation", default=None
)


class InvocationKeys(MutableMapping[str, Any]):
    """A Powertools formatter's ``log_format``: the invocation's own copy of the keys while one
    runs (made at its first use from ``shared``, with the function's service), else ``shared``."""

    def __init__(self, shared: MutableMapping[str, Any]) -> None:
        self.shared = shared

    def current(self) -> MutableMapping[str, Any]:
        invocation = _CURRENT.get()
        if invocation is None:
            return self.shared
        keys = invocation.log_keys.get(id(self))
        if keys is None:
            keys = dict(self.shared)
            if invocation.service and SERVICE_KEY in keys:
                keys[SERVICE_KEY] = invocation.service
            invocation.log_keys[id(self)] = keys
        return keys

    def __getitem__(self, key: str) -> Any:
        return self.current()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.current()[key] = value

    def __delitem__(self, key: str) -> None:
        del self.current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.current())

    def __len__(self) -> int:
        return len(self.current())

    def __repr__(self) -> str:
        return f"InvocationKeys({dict(self.current())!r})"


_ADOPTED_LOCK = threading.Lock()
_LOGGERS: dict[int, Any] = {}  # id -> a Powertools Logger whose formatter keys are per invocation
_METRICS: dict[int, Any] = {}  # id -> a Powertools Metrics whose service is per invocation


def adopt(module: ModuleType) -> None:
    """Make the Powertools Loggers and Metrics ``module`` holds (a function's app.py imports the
    layer's), and the event handler's current event, per invocation. Modules that use no
    Powertools are left as they are."""
    if "aws_lambda_powertools" not in sys.modules:
        return
    from aws_lambda_powertools import Logger, Metrics

    with _ADOPTED_LOCK:
        for value in list(vars(module).values()):
            if isinstance(value, Logger):
                _LOGGERS.setdefault(id(value), value)
            elif isinstance(value, Metrics):
                _METRICS.setdefault(id(value), value)
        loggers, metrics = list(_LOGGERS.values()), list(_METRICS.values())
    for logger in loggers:
        _keys_per_invocation(logger)
    for each in metrics:
        _service_per_invocation(each)
    _adopt_event_handler()


def _adopt_event_handler() -> None:
    """Powertools' BaseRouter keeps ``current_event`` and ``lambda_context`` per invocation (it
    sets them on the class: ``BaseRouter.current_event = ...``; resolvers read them from it)."""
    module = sys.modules.get("aws_lambda_powertools.event_handler.api_gateway")
    router = getattr(module, "BaseRouter", None)
    if router is None or isinstance(router.__dict__.get("current_event"), InvocationAttribute):
        return
    attributes = {name: InvocationAttribute(name) for name in ("current_event", "lambda_context")}
    for name, attribute in attributes.items():  # read and set on a resolver (an instance)
        setattr(router, name, attribute)
    # ... and read and set on the class itself: through its metaclass
    metaclass = type(router)
    router.__class__ = type(
        metaclass.__name__, (metaclass,), {"__slots__": (), "__module__": __name__, **attributes}
    )


class InvocationAttribute:
    """An attribute whose value is the current invocation's (a context variable), on a class and
    on its instances alike."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.value: contextvars.ContextVar[Any] = contextvars.ContextVar(f"bookbay_local_{name}")

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        try:
            return self.value.get()
        except LookupError:
            raise AttributeError(self.name) from None

    def __set__(self, instance: Any, value: Any) -> None:
        self.value.set(value)


def run(service: str | None, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` as one invocation of a function whose POWERTOOLS_SERVICE_NAME is
    ``service`` (None: the shared objects' own), in a context of its own."""
    with _ADOPTED_LOCK:
        loggers = list(_LOGGERS.values())
    for logger in loggers:  # a formatter whose keys were replaced (clear_state) gets its copy again
        _keys_per_invocation(logger)

    def invocation() -> T:
        _CURRENT.set(_Invocation(service))
        return function(*args)

    return contextvars.copy_context().run(invocation)


def _keys_per_invocation(logger: Any) -> None:
    try:
        formatter = logger.registered_formatter
    except Exception:
        return
    keys = getattr(formatter, "log_format", None)
    if isinstance(keys, MutableMapping) and not isinstance(keys, InvocationKeys):
        formatter.log_format = InvocationKeys(keys)


def _service_per_invocation(metrics: Any) -> None:
    provider = getattr(metrics, "provider", None)
    if provider is None or getattr(type(provider), "_per_invocation_service", False):
        return
    cls = type(provider)
    with _ADOPTED_LOCK:
        subclass = _SERVICE_CLASSES.get(cls)
        if subclass is None:
            subclass = _SERVICE_CLASSES[cls] = _with_invocation_service(cls)
    provider.__class__ = subclass


_SERVICE_CLASSES: dict[type, type] = {}


def _with_invocation_service(cls: type) -> type:
    """``cls`` whose ``service`` reads as the current invocation's function's (else its own)."""

    def get(self: Any) -> Any:
        invocation = _CURRENT.get()
        if invocation is not None and invocation.service:
            return invocation.service
        return self.__dict__.get("service")

    def set_(self: Any, value: Any) -> None:
        self.__dict__["service"] = value

    return type(
        cls.__name__,
        (cls,),
        {
            "service": property(get, set_),
            "_per_invocation_service": True,
            "__module__": __name__,
            "__doc__": f"{cls.__doc__ or cls.__name__}\n\n(bookbay_local: service per invocation)",
        },
    )
