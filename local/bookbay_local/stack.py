"""The whole local stack in one process: moto, the template's resources and functions, the gateway.

    with LocalStack(port=0) as stack:
        httpx.get(stack.base_url + "/v1/shop")

Only one stack runs in a process at a time: moto's backends are per process. ``stop()`` resets
them and restores the environment, so another stack (or moto's decorators) can follow.
"""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, TextIO, TypeVar

from pynamodb.models import Model

from bookbay_local.auth import TokenIssuer
from bookbay_local.aws import AwsClients, Environ, MotoServer, point_environment_at
from bookbay_local.control import ControlSurface
from bookbay_local.functions import (
    FunctionRegistry,
    FunctionSpec,
    Handler,
    layer_paths,
    read_functions,
    shared_environment,
)
from bookbay_local.gateway import LocalGateway, read_api
from bookbay_local.intrinsics import LOCAL_ACCOUNT_ID, LOCAL_PARAMETERS, LOCAL_REGION, Resolver
from bookbay_local.messages import MessageLog, OutgoingMessage
from bookbay_local.resources import Provisioned, provision
from bookbay_local.scheduler import LocalScheduler
from bookbay_local.server import LocalHttpServer
from bookbay_local.streams import StreamReader, mappings_from_template
from bookbay_local.template import load_template

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE: Final = REPO_ROOT / "template.yaml"
DEFAULT_SHOP_FILE: Final = REPO_ROOT / "ops" / "shops" / "demo.yaml"

T = TypeVar("T")
_ANY_ADDRESS: Final = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}


def links_base_url(host: str, port: int) -> str:
    """The base URL of the shop's links on the local stack listening on ``host``:``port`` (a
    loopback address where it listens on every address: the functions accept plain http only
    on a loopback host)."""
    shown = _ANY_ADDRESS.get(host, f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}"


class LocalStack:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        shop_file: str | Path | None = DEFAULT_SHOP_FILE,
        template: str | Path = DEFAULT_TEMPLATE,
        parameter_overrides: dict[str, str] | None = None,
        background: bool = True,
        scheduler_interval: float = 5.0,
        stream_poll_interval: float = 0.25,
        stream_backoff: tuple[float, float] = (0.25, 4.0),
        log: TextIO | None = sys.stderr,
    ) -> None:
        """``shop_file=None`` starts without a shop; ``background=False`` starts neither the
        scheduler's clock nor the stream readers (tests then drive them)."""
        self.host = host
        self.port = port
        self.shop_file = Path(shop_file) if shop_file is not None else None
        self.template_path = Path(template)
        self.parameter_overrides = parameter_overrides
        self.background = background
        self.scheduler_interval = scheduler_interval
        self.stream_poll_interval = stream_poll_interval
        self.stream_backoff = stream_backoff
        self.log = log
        self.region = LOCAL_REGION
        self.account_id = LOCAL_ACCOUNT_ID
        self.seed_summary = ""
        self.provisioned = Provisioned()
        self.load_errors: dict[str, str] = {}
        self._environ = Environ()
        self._moto: MotoServer | None = None
        self._http: LocalHttpServer | None = None
        self._clients: AwsClients | None = None
        self._resolver: Resolver | None = None
        self._functions: FunctionRegistry | None = None
        self._scheduler: LocalScheduler | None = None
        self._streams: StreamReader | None = None
        self._messages: MessageLog | None = None
        self.tokens = TokenIssuer()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._moto = MotoServer(self.host)
        moto_url = self._moto.start()
        point_environment_at(self._environ, moto_url, self.region)
        _forget_pynamodb_connections()
        self._clients = clients = AwsClients(moto_url, self.region)
        # Bound first: the port is the functions' PUBLIC_BASE_URL (the template's PublicBaseUrl).
        self._http = http = LocalHttpServer(self.host, self.port, log=self.log)

        template = load_template(self.template_path)
        overrides = dict(LOCAL_PARAMETERS if self.parameter_overrides is None else self.parameter_overrides)
        overrides.setdefault("PublicBaseUrl", links_base_url(http.host, http.port))
        self._resolver = resolver = Resolver(template, parameter_overrides=overrides)
        # The Cognito stand-in issues the tokens of the template's user pool and app client (as the
        # functions' STAFF_USER_POOL_ID and the API stage's staffAppClientId name them locally).
        self.tokens = TokenIssuer.for_template(resolver)
        self.provisioned = provision(resolver, clients)

        for path in layer_paths(resolver):  # Lambda puts the layers on the import path
            if str(path) not in sys.path:
                sys.path.append(str(path))
        specs = read_functions(resolver)
        shared = shared_environment(specs)
        self._environ.set(shared)
        self._messages = MessageLog(self.account_id, self.region)
        self._functions = FunctionRegistry(specs, log=self.log, on_invoked=self._messages.observe)
        self.load_errors = self._functions.load_all()

        self._scheduler = LocalScheduler(clients("scheduler"), clients("sqs"), self._functions, log=self.log)
        self._streams = StreamReader(
            mappings_from_template(resolver),
            self._functions,
            clients("dynamodbstreams"),
            clients("sqs"),
            poll_interval=self.stream_poll_interval,
            backoff_base=self.stream_backoff[0],
            backoff_max=self.stream_backoff[1],
            forget_iterator=_moto_iterator_forgetter(self.account_id, self.region),
            log=self.log,
        )
        control = ControlSurface(self._messages, self._scheduler, self.tokens, self._streams)
        gateway = LocalGateway(
            read_api(resolver), self._functions, self.tokens, log=self.log, account_id=self.account_id
        )
        http.attach(gateway, control.handle)

        if self.shop_file is not None:
            self._seed(self.shop_file, shared.get("TABLE_NAME"))
        self._http.start()
        if self.background:
            self._scheduler.start(self.scheduler_interval)
            self._streams.start()

    def _seed(self, shop_file: Path, table_name: str | None) -> None:
        if not table_name:
            raise RuntimeError("cannot seed: the functions have no common TABLE_NAME")
        from bookbay_local.seed import seed_shop  # imports the layer, on the path only from here on

        self.seed_summary = seed_shop(shop_file, table_name, self.region)

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None
        if self._streams is not None:
            self._streams.stop()
        if self._scheduler is not None:
            self._scheduler.stop()
        if self._moto is not None:
            if self._moto.url:
                _reset_moto(self._moto.url)
            self._moto.stop()
            self._moto = None
        _forget_pynamodb_connections()
        self._environ.restore()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ what tests use
    @property
    def base_url(self) -> str:
        return self._require(self._http).base_url

    @property
    def moto_url(self) -> str:
        return self._require(self._moto).url

    @property
    def functions(self) -> FunctionRegistry:
        return self._require(self._functions)

    @property
    def scheduler(self) -> LocalScheduler:
        return self._require(self._scheduler)

    @property
    def streams(self) -> StreamReader:
        return self._require(self._streams)

    @property
    def resolver(self) -> Resolver:
        return self._require(self._resolver)

    def client(self, service: str) -> Any:
        """A boto3 client on the stack's moto endpoint."""
        return self._require(self._clients)(service)

    def invoke(self, logical_id: str, event: Any) -> Any:
        return self.functions.invoke(logical_id, event)

    def register_function(self, logical_id: str, handler: Handler) -> FunctionSpec:
        """Add a function by its handler (e.g. a test target for schedules); answers its spec (ARN)."""
        return self.functions.register(logical_id, handler)

    def messages(self) -> list[OutgoingMessage]:
        return self._require(self._messages).messages()

    def wait_for_streams(self, timeout: float = 10.0) -> bool:
        return self.streams.wait_until_drained(timeout)

    @staticmethod
    def _require(value: T | None) -> T:
        if value is None:
            raise RuntimeError("the local stack is not started")
        return value


def _forget_pynamodb_connections() -> None:
    """PynamoDB models cache their connection (and so the endpoint) per class: drop them, so
    models used before this stack (or by a previous one) connect to this stack's moto."""
    pending: list[type[Any]] = [Model]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "_connection" in vars(cls):
            cls._connection = None


def _moto_iterator_forgetter(account_id: str, region: str) -> Callable[[str], None]:
    """moto keeps every shard iterator it hands out; a poller makes several a second."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    def forget(iterator: str) -> None:
        dynamodbstreams_backends[account_id][region].shard_iterators.pop(iterator, None)

    return forget


def _reset_moto(url: str) -> None:
    """Forget every resource (moto's backends are per process; the next stack starts clean)."""
    request = urllib.request.Request(url + "/moto-api/reset", method="POST")  # noqa: S310 - http only
    with suppress(OSError), urllib.request.urlopen(request, timeout=5):  # noqa: S310 - our own loopback server
        pass
