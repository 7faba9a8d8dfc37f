"""The local API Gateway: HTTP requests -> REST proxy (v1) events for the template's functions.

Routes are every ``Api`` event of the template's functions. A request matches the most specific
resource path (literal segments before ``{param}`` before ``{proxy+}``), then its method (or
ANY). What API Gateway itself answers (no route, no token, too large, a failed function) comes
from the Api's ``GatewayResponses`` in the template.
"""

from __future__ import annotations

import base64
import json
import re
import time
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TextIO
from urllib.parse import unquote

from bookbay_local.auth import TokenIssuer, authorizer_claims, issuer_of_pool_arn
from bookbay_local.functions import FunctionRegistry
from bookbay_local.intrinsics import Resolver
from bookbay_local.logs import log_line
from bookbay_local.web import HttpRequest, HttpResponse

MAX_BODY_BYTES: Final = 10 * 1024 * 1024  # API Gateway's payload limit
IMPLICIT_API: Final = "ServerlessRestApi"

# API Gateway's own status and message for the responses the local gateway produces.
_DEFAULTS: Final[Mapping[str, tuple[int, str, str]]] = {
    "MISSING_AUTHENTICATION_TOKEN": (
        403,
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    ),
    "UNAUTHORIZED": (401, "Unauthorized", "UnauthorizedException"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource", "AccessDeniedException"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", "RequestTooLongException"),
    "BAD_REQUEST_BODY": (400, "Invalid request body", "BadRequestException"),
    "DEFAULT_5XX": (502, "Internal server error", "InternalServerErrorException"),
}


# ---------------------------------------------------------------------------- template -> config
@dataclass(frozen=True)
class Route:
    function_id: str
    event_name: str
    resource: str  # the template's path, e.g. /v1/locations/{location_id}
    method: str  # upper case, or ANY
    authorizer: str | None
    api_id: str
    regex: re.Pattern[str]
    param_names: tuple[str, ...]
    specificity: tuple[int, ...]


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None
    templates: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    stage: str
    authorizers: Mapping[str, Mapping[str, Any]]
    default_authorizer: str | None
    responses: Mapping[str, GatewayResponse]
    variables: Mapping[str, str] = field(default_factory=dict)  # the stage's (the event's stageVariables)


@dataclass(frozen=True)
class ApiConfig:
    apis: Mapping[str, ApiSpec]
    routes: tuple[Route, ...]

    @property
    def default_api(self) -> ApiSpec | None:
        """The Api whose responses answer requests that match no route (the first declared)."""
        return next(iter(self.apis.values()), None)


def read_api(resolver: Resolver) -> ApiConfig:
    template = resolver.template
    api_globals = resolver.resolve(template.api_globals())
    apis: dict[str, ApiSpec] = {}
    for logical_id in template.resources_of_type("AWS::Serverless::Api"):
        if resolver.resource_enabled(logical_id):
            props = {**api_globals, **resolver.resolve(template.properties(logical_id))}
            apis[logical_id] = _api_spec(logical_id, props)
    routes: list[Route] = []
    for function_id in template.resources_of_type("AWS::Serverless::Function"):
        if not resolver.resource_enabled(function_id):
            continue
        for event_name, event in (template.properties(function_id).get("Events") or {}).items():
            if event.get("Type") != "Api":
                continue
            props = event.get("Properties") or {}
            api_ref = props.get("RestApiId")
            api_id = str(api_ref["Ref"]) if isinstance(api_ref, dict) and "Ref" in api_ref else IMPLICIT_API
            if api_id not in apis:
                apis[api_id] = _api_spec(api_id, api_globals)
            auth = resolver.resolve(props.get("Auth") or {})
            authorizer = auth.get("Authorizer", apis[api_id].default_authorizer)
            routes.append(
                _route(
                    function_id,
                    event_name,
                    str(resolver.resolve(props["Path"])),
                    str(resolver.resolve(props["Method"])),
                    None if authorizer in (None, "NONE") else str(authorizer),
                    api_id,
                )
            )
    routes.sort(key=lambda r: r.specificity)
    return ApiConfig(apis=apis, routes=tuple(routes))


def _api_spec(logical_id: str, props: Mapping[str, Any]) -> ApiSpec:
    auth = props.get("Auth") or {}
    responses = {
        kind: GatewayResponse(
            status=int(spec["StatusCode"]) if spec.get("StatusCode") else None,
            templates=dict(spec.get("ResponseTemplates") or {}),
            headers={
                name: str(value).strip("'")
                for name, value in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items()
            },
        )
        for kind, spec in (props.get("GatewayResponses") or {}).items()
    }
    return ApiSpec(
        logical_id=logical_id,
        stage=str(props.get("StageName", "Prod")),
        authorizers=dict(auth.get("Authorizers") or {}),
        default_authorizer=auth.get("DefaultAuthorizer"),
        responses=responses,
        variables={str(name): str(value) for name, value in (props.get("Variables") or {}).items()},
    )


def _route(
    function_id: str, event_name: str, path: str, method: str, authorizer: str | None, api_id: str
) -> Route:
    pattern = ""
    names: list[str] = []
    specificity: list[int] = []
    for segment in [s for s in path.split("/") if s]:
        param = re.fullmatch(r"\{([^}+]+)(\+?)\}", segment)
        if param is None:
            pattern += "/" + re.escape(segment)
            specificity.append(0)
        elif param.group(2):
            pattern += "/(.+)"
            specificity.append(2)
        else:
            pattern += "/([^/]+)"
            specificity.append(1)
        if param is not None:
            names.append(param.group(1))
    return Route(
        function_id=function_id,
        event_name=event_name,
        resource=path,
        method=method.upper(),
        authorizer=authorizer,
        api_id=api_id,
        regex=re.compile("^" + (pattern or "/") + "$"),
        param_names=tuple(names),
        # Literal before {param} before {proxy+}, segment by segment; then the longer path.
        specificity=(*specificity, 3) if specificity else (3,),
    )


# ---------------------------------------------------------------------------- matching
@dataclass(frozen=True)
class Match:
    route: Route
    path_parameters: dict[str, str]


def match_route(routes: tuple[Route, ...], method: str, path: str) -> Match | None:
    """The route for the most specific resource that matches ``path``, if it has ``method``."""
    candidate = path.rstrip("/") or "/"
    resource: str | None = None
    found: Match | None = None
    for route in routes:
        if resource is not None and route.resource != resource:
            continue
        hit = route.regex.match(candidate)
        if hit is None:
            continue
        resource = route.resource
        if route.method in (method.upper(), "ANY") and (found is None or found.route.method == "ANY"):
            params = {
                name: unquote(value) for name, value in zip(route.param_names, hit.groups(), strict=True)
            }
            found = Match(route, params)
    return found


# ---------------------------------------------------------------------------- the gateway
@dataclass
class LocalGateway:
    """Turns requests into events for the template's functions and their answers into responses."""

    config: ApiConfig
    functions: FunctionRegistry
    tokens: TokenIssuer
    log: TextIO | None = None
    account_id: str = "123456789012"
    _api_ids: dict[str, str] = field(default_factory=dict)

    def dispatch(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        found = match_route(self.config.routes, request.method, request.path)
        if found is None:
            return self.gateway_response(None, "MISSING_AUTHENTICATION_TOKEN", request_id)
        response = self._dispatch(request, found, request_id)
        response.route = found.route.resource  # for the access log, as $context.resourcePath
        return response

    def _dispatch(self, request: HttpRequest, found: Match, request_id: str) -> HttpResponse:
        route = found.route
        api = self.config.apis[route.api_id]
        if len(request.body) > MAX_BODY_BYTES:
            return self.gateway_response(api, "REQUEST_TOO_LARGE", request_id)
        claims: dict[str, str] | None = None
        if route.authorizer is not None:
            claims = self._authorize(api, route.authorizer, request)
            if claims is None:
                return self.gateway_response(api, "UNAUTHORIZED", request_id)
        event = build_event(
            request, found, api, claims, request_id, self._api_id(api.logical_id), self.account_id
        )
        try:
            result = self.functions.invoke(route.function_id, event)
        except Exception as exc:  # not loadable (FunctionError) or raised: API Gateway answers 502
            self._report(route, exc)
            return self.gateway_response(api, "DEFAULT_5XX", request_id, served_by=route.function_id)
        response = proxy_response(result)
        if response is None:
            if self.log is not None:
                log_line(self.log, f"[gateway] {route.function_id} returned a malformed proxy response")
            return self.gateway_response(api, "DEFAULT_5XX", request_id, served_by=route.function_id)
        response.served_by = route.function_id
        return response

    def too_large(self) -> HttpResponse:
        return self.gateway_response(None, "REQUEST_TOO_LARGE", str(uuid.uuid4()))

    def gateway_response(
        self, api: ApiSpec | None, kind: str, request_id: str, *, served_by: str = "gateway"
    ) -> HttpResponse:
        api = api or self.config.default_api
        status, message, error_type = _DEFAULTS.get(
            kind, (500, "Internal server error", "InternalServerErrorException")
        )
        responses = api.responses if api is not None else {}
        # The type's own response, else the 4XX/5XX default (which keeps the type's status).
        spec = responses.get(kind)
        if spec is not None and spec.status is not None:
            status = spec.status
        spec = spec or responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX")
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", error_type),
        ]
        if spec is None:
            body = json.dumps({"message": message})
        else:
            body = _render_template(spec.templates, message=message, request_id=request_id, kind=kind)
            headers += list(spec.headers.items())
        return HttpResponse(status, headers, body.encode(), served_by=served_by)

    def _authorize(self, api: ApiSpec, name: str, request: HttpRequest) -> dict[str, str] | None:
        authorizer = api.authorizers.get(name)
        if authorizer is None or "UserPoolArn" not in authorizer:
            return None  # only Cognito user-pool authorizers have a local stand-in
        header = str((authorizer.get("Identity") or {}).get("Header", "Authorization"))
        # As API Gateway: a token of one of the authorizer's user pools (any of their app clients).
        arns = authorizer["UserPoolArn"]
        issuers = {issuer_of_pool_arn(str(arn)) for arn in (arns if isinstance(arns, list) else [arns])}
        claims = self.tokens.verify(request.header(header), {i for i in issuers if i})
        return authorizer_claims(claims) if claims is not None else None

    def _api_id(self, logical_id: str) -> str:
        return self._api_ids.setdefault(logical_id, uuid.uuid5(uuid.NAMESPACE_URL, logical_id).hex[:10])

    def _report(self, route: Route, error: BaseException) -> None:
        if self.log is not None:
            log_line(self.log, f"[gateway] {route.function_id} failed:")
            traceback.print_exception(error, file=self.log)


def _render_template(templates: Mapping[str, str], *, message: str, request_id: str, kind: str) -> str:
    template = templates.get("application/json") or next(iter(templates.values()), None)
    if template is None:
        return json.dumps({"message": message})
    return (
        template.replace("$context.error.messageString", json.dumps(message))
        .replace("$context.error.message", message)
        .replace("$context.error.responseType", kind)
        .replace("$context.requestId", request_id)
    )


def build_event(
    request: HttpRequest,
    found: Match,
    api: ApiSpec,
    claims: dict[str, str] | None,
    request_id: str,
    api_id: str,
    account_id: str,
) -> dict[str, Any]:
    """The API Gateway REST proxy (payload v1) event for a request."""
    route = found.route
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in request.query_items():
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    body: str | None = None
    is_base64 = False
    if request.body:
        try:
            body = request.body.decode("utf-8")
        except UnicodeDecodeError:
            body = base64.b64encode(request.body).decode()
            is_base64 = True
    now = datetime.now(UTC)
    request_context: dict[str, Any] = {
        "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, route.resource).hex[:6],
        "resourcePath": route.resource,
        "httpMethod": request.method,
        "extendedRequestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        # The local stack serves the API at the root, as a custom domain does in AWS (no stage in
        # the URL), so the request context's path is the request path as the client sent it.
        "path": request.path,
        "accountId": account_id,
        "protocol": "HTTP/1.1",
        "stage": api.stage,
        "domainPrefix": api_id,
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "requestId": request_id,
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": request.client_ip,
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": request.header("User-Agent"),
            "user": None,
        },
        "domainName": request.header("Host") or "127.0.0.1",
        "apiId": api_id,
    }
    if claims is not None:
        request_context["authorizer"] = {"claims": claims}
    return {
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": found.path_parameters or None,
        "stageVariables": dict(api.variables) or None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def proxy_response(result: Any) -> HttpResponse | None:
    """An HTTP response from a Lambda proxy result, or None when the result is malformed."""
    if not isinstance(result, dict):
        return None
    try:
        status = int(result.get("statusCode", 200))
    except (TypeError, ValueError):
        return None
    if not 100 <= status <= 599:
        return None
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    single = result.get("headers") or {}
    if not isinstance(multi, dict) or not isinstance(single, dict):
        return None
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), str(value)))
    taken = {name.lower() for name in multi}
    headers += [(str(name), str(value)) for name, value in single.items() if name.lower() not in taken]
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    raw = result.get("body")
    if raw is None:
        body = b""
    elif result.get("isBase64Encoded"):
        try:
            body = base64.b64decode(str(raw))
        except ValueError:
            return None
    else:
        body = str(raw).encode()
    return HttpResponse(status, headers, body)


def access_line(request: HttpRequest, response: HttpResponse, started: float) -> str:
    """The access log's line: the method and the route's template (``GET /c/{token}``, as API
    Gateway's ``$context.resourcePath``), never the path as sent (link tokens are path segments)
    nor the query string (``/book?src=<token>``); ``(no route)`` when none matched."""
    elapsed = (time.monotonic() - started) * 1000
    served = f"({response.served_by}, {elapsed:.0f} ms)"
    return f"[gateway] {request.method} {response.route or '(no route)'} -> {response.status} {served}"
