"""The template's functions, imported and invoked in this process.

Each ``AWS::Serverless::Function`` becomes a :class:`FunctionSpec` (code, handler, environment =
Globals + its own, resolved to local values, plus the local extras). Its module (every one is
``app.py``) is imported by path under a unique name with its environment applied, because config
is read at import (cold start).

Concurrency is Lambda's: each function has a pool of independent "containers", each a separate
import of its module (so module state, such as the resolver's current event, is per container).
An invocation takes an idle container, or starts a new one (a cold start) while the function has
fewer than ``max_containers``, or else waits for one to come free; a container runs one
invocation at a time. Concurrent requests therefore really run concurrently.

The layer's modules are imported once for all of them (as a process would), so its Powertools
Logger and Metrics are shared: each invocation gets its own copy of their state, with its function's
``POWERTOOLS_SERVICE_NAME`` (bookbay_local.powertools), as it would in a container of its own.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Final, TextIO

from bookbay_local import powertools
from bookbay_local.aws import patched_environ
from bookbay_local.intrinsics import Resolver, environment_value
from bookbay_local.logs import log_line
from bookbay_local.template import TemplateError

FUNCTION_TYPE: Final = "AWS::Serverless::Function"

# Locally: always read the catalog afresh, no X-Ray, no CloudWatch metrics; the admin page signs
# staff in with the stand-in's POST /_local/token instead of the Cognito hosted UI.
LOCAL_FUNCTION_ENV: Final[Mapping[str, str]] = {
    "CATALOG_CACHE_SECONDS": "0",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "ADMIN_SIGN_IN": "local",
}

Handler = Callable[[Any, Any], Any]

_IMPORT_LOCK = threading.Lock()


class FunctionError(RuntimeError):
    """An invocation failed: the handler raised, or the function could not be loaded."""

    def __init__(self, logical_id: str, message: str) -> None:
        super().__init__(f"{logical_id}: {message}")
        self.logical_id = logical_id


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path | None
    environment: Mapping[str, str]
    timeout_seconds: int = 3
    memory_mb: int = 128
    log_group: str = ""
    events: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def read_functions(resolver: Resolver) -> list[FunctionSpec]:
    """Every function of the template whose Condition holds, resolved to local values."""
    template = resolver.template
    defaults = template.function_globals()
    global_env = dict((defaults.get("Environment") or {}).get("Variables") or {})
    specs: list[FunctionSpec] = []
    for logical_id in template.resources_of_type(FUNCTION_TYPE):
        if not resolver.resource_enabled(logical_id):
            continue
        props = template.properties(logical_id)
        own_env = dict((props.get("Environment") or {}).get("Variables") or {})
        env = {
            key: environment_value(value)
            for key, value in resolver.resolve({**global_env, **own_env}).items()
        }
        env.update(LOCAL_FUNCTION_ENV)
        code_uri = resolver.resolve(props.get("CodeUri", defaults.get("CodeUri")))
        handler = resolver.resolve(props.get("Handler", defaults.get("Handler")))
        if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
            raise TemplateError(
                f"{logical_id}: the local stack needs a local CodeUri and a module.function Handler"
            )
        name = resolver.physical_name(logical_id)
        logging_config = resolver.resolve(props.get("LoggingConfig") or {})
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                name=name,
                arn=resolver.arn(logical_id),
                handler=handler,
                code_dir=(template.base_dir / code_uri).resolve(),
                environment=env,
                timeout_seconds=int(props.get("Timeout", defaults.get("Timeout", 3))),
                memory_mb=int(props.get("MemorySize", defaults.get("MemorySize", 128))),
                log_group=str(logging_config.get("LogGroup") or f"/aws/lambda/{name}"),
                events=dict(props.get("Events") or {}),
            )
        )
    return specs


def layer_paths(resolver: Resolver) -> list[Path]:
    """Local directories of the layers the functions use (Lambda puts layers on the import path)."""
    template = resolver.template
    refs = list(template.function_globals().get("Layers") or [])
    for logical_id in template.resources_of_type(FUNCTION_TYPE):
        refs += list(template.properties(logical_id).get("Layers") or [])
    paths: list[Path] = []
    for ref in refs:
        if isinstance(ref, dict) and set(ref) == {"Ref"} and ref["Ref"] in template.resources:
            props = template.properties(str(ref["Ref"]))
            content = resolver.resolve(props.get("ContentUri"))
            if isinstance(content, str):
                path = (template.base_dir / content).resolve()
                if path not in paths:
                    paths.append(path)
    return paths


class LambdaContext:
    """What Lambda passes as ``context`` (the attributes Powertools and handlers read)."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = spec.log_group
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


DEFAULT_MAX_CONTAINERS: Final = 10


class _Pool:
    """The containers of one function: idle ones are reused; new ones start up to ``max_containers``."""

    def __init__(
        self,
        spec: FunctionSpec,
        start: Callable[[FunctionSpec, int], Handler] | None,
        max_containers: int,
        *,
        handler: Handler | None = None,
    ) -> None:
        self.spec = spec
        self.error: str | None = None
        self._start = start  # imports one more container (None: a registered handler, one container)
        self._max = max_containers if start is not None else 1
        self._idle: list[Handler] = [handler] if handler is not None else []
        self._started = len(self._idle)
        self._changed = threading.Condition()

    @property
    def containers(self) -> int:
        return self._started

    def warm_up(self) -> None:
        """Start the first container now (a cold start at stack start), unless there is one."""
        with self._changed:
            if self._started or self.error is not None:
                return
            self._started += 1
        self.release(self._new_container(1))

    def acquire(self) -> Handler:
        with self._changed:
            while True:
                if self.error is not None:
                    raise FunctionError(self.spec.logical_id, f"cannot be loaded: {self.error}")
                if self._idle:
                    return self._idle.pop()
                if self._started < self._max:
                    self._started += 1
                    number = self._started
                    break
                self._changed.wait()
        return self._new_container(number)  # imported outside the pool's lock

    def release(self, handler: Handler) -> None:
        with self._changed:
            self._idle.append(handler)
            self._changed.notify()

    def _new_container(self, number: int) -> Handler:
        assert self._start is not None  # noqa: S101 - a registered handler's pool never grows
        try:
            return self._start(self.spec, number)
        except Exception as exc:
            with self._changed:
                self._started -= 1
                self.error = f"{type(exc).__name__}: {exc}"
                self._changed.notify_all()
            raise


class FunctionRegistry:
    """Loads the functions and invokes them, concurrently, each invocation in a container of its own."""

    def __init__(
        self,
        specs: Iterable[FunctionSpec],
        *,
        log: TextIO | None = None,
        on_invoked: Callable[[], None] | None = None,
        max_containers: int = DEFAULT_MAX_CONTAINERS,
    ) -> None:
        self._max_containers = max_containers
        self._functions: dict[str, _Pool] = {
            spec.logical_id: _Pool(spec, self._start_container, max_containers) for spec in specs
        }
        self._log = log
        self._on_invoked = on_invoked

    # ------------------------------------------------------------------ lookup
    @property
    def specs(self) -> list[FunctionSpec]:
        return [pool.spec for pool in self._functions.values()]

    def get(self, logical_id: str) -> FunctionSpec:
        try:
            return self._functions[logical_id].spec
        except KeyError:
            raise FunctionError(logical_id, "no such function") from None

    def by_arn(self, arn: str) -> FunctionSpec | None:
        """The function an ARN (optionally with a version or alias) or a function name denotes."""
        for pool in self._functions.values():
            spec = pool.spec
            if arn in (spec.arn, spec.name) or arn.startswith(spec.arn + ":"):
                return spec
        return None

    def load_errors(self) -> dict[str, str]:
        return {key: f.error for key, f in self._functions.items() if f.error is not None}

    def containers(self, logical_id: str) -> int:
        """How many containers of the function have started (at most ``max_containers``)."""
        return self._functions[logical_id].containers

    # ------------------------------------------------------------------ loading
    def load_all(self) -> dict[str, str]:
        """Start one container of every function now (cold start); answers the ones that failed, with why."""
        for pool in self._functions.values():
            with suppress(Exception):  # reported through load_errors()
                pool.warm_up()
        return self.load_errors()

    def register(
        self, logical_id: str, handler: Handler, *, environment: Mapping[str, str] | None = None
    ) -> FunctionSpec:
        """Add (or replace) a function by its handler, e.g. a test double; its ARN is a local one.

        A registered handler is one container: its invocations run one at a time."""
        name = f"local-{logical_id}"
        spec = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
            handler="<registered>",
            code_dir=None,
            environment=dict(environment or {}),
        )
        self._functions[logical_id] = _Pool(spec, None, 1, handler=handler)
        return spec

    def _start_container(self, spec: FunctionSpec, number: int) -> Handler:
        try:
            return import_handler(spec, container=number)
        except Exception:  # reported (and then raised as "cannot be loaded"); the rest still runs
            if self._log is not None:
                log_line(self._log, f"[bookbay-local] cannot load {spec.logical_id}:")
                traceback.print_exc(file=self._log)
            raise

    # ------------------------------------------------------------------ invoking
    def invoke(self, logical_id: str, event: Any) -> Any:
        """Run the handler with a JSON copy of ``event``; its result as Lambda would return it."""
        pool = self._functions.get(logical_id)
        if pool is None:
            raise FunctionError(logical_id, "no such function")
        payload = json.loads(json.dumps(event))
        handler = pool.acquire()
        context = LambdaContext(pool.spec)
        started = time.monotonic()
        service = pool.spec.environment.get(powertools.SERVICE_ENV)
        try:
            result = powertools.run(service, handler, payload, context)
        finally:
            pool.release(handler)
            if self._on_invoked is not None:
                self._on_invoked()
        elapsed = time.monotonic() - started
        if elapsed > pool.spec.timeout_seconds and self._log is not None:
            log_line(
                self._log,
                f"[bookbay-local] {logical_id} took {elapsed:.1f} s, over its "
                f"{pool.spec.timeout_seconds} s timeout (Lambda would have stopped it)",
            )
        try:
            return json.loads(json.dumps(result))
        except (TypeError, ValueError) as exc:
            raise FunctionError(logical_id, f"returned a value that is not JSON: {exc}") from exc


def import_handler(spec: FunctionSpec, *, container: int = 1) -> Handler:
    """Import the spec's handler module by path, with its environment applied, under a name unique
    to the function and the container (each container is a separate import)."""
    if spec.code_dir is None:
        raise FunctionError(spec.logical_id, "has no code directory")
    module_path, _, function_name = spec.handler.rpartition(".")
    relative = Path(*module_path.split("."))
    candidates = [spec.code_dir / relative.with_suffix(".py"), spec.code_dir / relative / "__init__.py"]
    file = next((path for path in candidates if path.is_file()), None)
    if file is None:
        raise FunctionError(spec.logical_id, f"no module {module_path!r} in {spec.code_dir}")
    unique = f"_bookbay_local_{spec.logical_id}_{module_path.replace('.', '_')}_{container}"
    with _IMPORT_LOCK, patched_environ(spec.environment), _import_path(spec.code_dir):
        module = _import_file(unique, file)
        powertools.adopt(module)  # its (the layer's) logger and metrics: per invocation
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise FunctionError(spec.logical_id, f"{file} has no function {function_name!r}")
    return handler  # type: ignore[no-any-return]


def _import_file(name: str, file: Path) -> ModuleType:
    module_spec = importlib.util.spec_from_file_location(name, file)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot import {file}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


@contextmanager
def _import_path(directory: Path) -> Iterator[None]:
    """The function's code directory first on sys.path while it imports (as in its container)."""
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        with suppress(ValueError):
            sys.path.remove(str(directory))


def shared_environment(specs: Iterable[FunctionSpec]) -> dict[str, str]:
    """Variables every function has with the same value: set for the whole process.

    A function's own values are applied while it imports (when config is read); the ones all
    share also hold while handlers run, for code that reads the environment later.
    """
    specs = list(specs)
    if not specs:
        return dict(LOCAL_FUNCTION_ENV)
    common = dict(specs[0].environment)
    for spec in specs[1:]:
        common = {k: v for k, v in common.items() if spec.environment.get(k) == v}
    return common
