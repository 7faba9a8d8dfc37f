"""Generate the OpenAPI document of the whole API from the routes of every function.

    .venv/bin/python scripts/openapi.py            # (re)write layers/common/bookbay/openapi.json
    .venv/bin/python scripts/openapi.py --check    # exit 1 with a summary when the committed one differs
    .venv/bin/python scripts/openapi.py --stdout   # print the document

Each ``functions/<name>/app.py`` is imported by path under a unique module name, with the
environment its function gets in template.yaml (placeholder values for references), and its
resolver's ``get_openapi_schema()`` is merged with Powertools' ``OpenAPIMerge``. Importing a
handler makes no AWS calls. The result ships in the layer; the docs function serves it.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib.util
import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "common"
FUNCTIONS = ROOT / "functions"
TEMPLATE = ROOT / "template.yaml"
OUTPUT = LAYER / "bookbay" / "openapi.json"

if str(LAYER) not in sys.path:  # run as a script: make the layer importable as on Lambda
    sys.path.insert(0, str(LAYER))

STAFF_SCHEME = "staffCognito"
DESCRIPTION = (
    "Bookbay: appointment booking for service shops. Public routes (catalog, availability, "
    "verification, booking, confirmation links) need no sign-in; `/v1/admin` routes need a staff "
    "sign-in token (Cognito ID token, `Authorization: Bearer <token>`) of a member of the staff group. "
    'Every error answers `{"error": {"code", "message", "details"?}}` with a stable snake_case `code`.'
)

# Values for template parameters without a default, and for the common placeholders.
PARAMETER_PLACEHOLDERS = {
    "ShopName": "Bookbay Demo Shop",
    "SenderEmail": "noreply@example.com",
    "PublicBaseUrl": "https://book.example.com",
}
BASE_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Never used (no call is made at import); set so that nothing looks for real credentials.
    "AWS_ACCESS_KEY_ID": "openapi-placeholder",
    "AWS_SECRET_ACCESS_KEY": "openapi-placeholder",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


# ------------------------------------------------------------------------------ template.yaml
class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (``!Ref X`` -> ``{"Ref": "X"}``)."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return document


def _placeholder(value: Any, parameters: Mapping[str, Any], refs: Mapping[str, str]) -> str:
    """A stand-in for an environment value that the template computes (``!Ref``, ``!GetAtt``...)."""
    if not isinstance(value, dict):
        return str(value)
    if "Ref" in value:
        ref = str(value["Ref"])
        if ref in refs:
            return refs[ref]
        if ref in parameters:
            default = parameters[ref].get("Default")
            return (
                str(default) if default is not None else PARAMETER_PLACEHOLDERS.get(ref, f"placeholder-{ref}")
            )
        return f"openapi-{ref}"
    if "Fn::GetAtt" in value:
        logical_id = value["Fn::GetAtt"][0]
        return f"arn:aws:openapi:us-east-1:000000000000:{logical_id}"
    return "openapi-placeholder"


def function_environments(
    template: Mapping[str, Any], refs: Mapping[str, str] | None = None
) -> dict[str, dict[str, str]]:
    """Folder name under functions/ -> the environment its function gets (Globals + its own).

    ``!Ref X`` becomes ``refs[X]`` when given, a parameter's default, or a placeholder.
    """
    parameters = template.get("Parameters", {})
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    environments: dict[str, dict[str, str]] = {}
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        folder = Path(str(properties.get("CodeUri", ""))).name
        variables = {**globals_env, **properties.get("Environment", {}).get("Variables", {})}
        environments[folder] = {
            name: _placeholder(value, parameters, refs or {}) for name, value in variables.items()
        }
    return environments


# ------------------------------------------------------------------------------ handlers
@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def defines_resolver(path: Path) -> bool:
    """Whether the module assigns ``app = <call>`` at top level (API functions; not stream targets)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return any(
        isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and any(isinstance(target, ast.Name) and target.id == "app" for target in node.targets)
        for node in tree.body
    )


def handler_files() -> list[Path]:
    """The API functions' handler modules, functions/<name>/app.py, by name."""
    return [path for path in sorted(FUNCTIONS.glob("*/app.py")) if defines_resolver(path)]


def load_handler(path: Path, environment: Mapping[str, str]) -> ModuleType:
    """Import ``functions/<name>/app.py`` as module ``bookbay_openapi_<name>`` with ``environment``."""
    name = f"bookbay_openapi_{path.parent.name}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    with patched_environ({**BASE_ENV, **environment}):
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def security_schemes() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {
        STAFF_SCHEME: HTTPBearer(
            bearerFormat="JWT",
            description=(
                "Staff sign-in: the Cognito ID token of a member of the staff group, issued by the "
                "stack's user pool to its app client (API Gateway's Cognito authorizer checks the "
                "signature and expiry; the function that it is an ID token, `token_use`, of that "
                "client, `aud`, and pool, `iss`: an access token is refused). Locally: `POST /_local/token`."
            ),
        )
    }


def generate() -> dict[str, Any]:
    """The merged OpenAPI document of every function's routes, as plain JSON data."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    import bookbay

    environments = function_environments(load_template())
    schemes = security_schemes()
    merge = OpenAPIMerge(
        title="Bookbay API",
        version=bookbay.__version__,
        description=DESCRIPTION,
        security_schemes=schemes,
        on_conflict="error",
    )
    components: dict[tuple[str, str], tuple[str, Any]] = {}
    for path in handler_files():
        module = load_handler(path, environments.get(path.parent.name, {}))
        resolver = getattr(module, "app", None)
        if resolver is None or not hasattr(resolver, "get_openapi_schema"):
            continue  # not an API function (stream, schedule target)
        schema = resolver.get_openapi_schema(security_schemes=schemes).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        _check_components(schema, path.parent.name, components)
        merge.add_schema(schema)
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    return prune_unreferenced_schemas(document)


def prune_unreferenced_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Drop component schemas no operation reaches (Powertools adds its own validation-error models)."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    prefix = "#/components/schemas/"
    reached: set[str] = set()
    pending: list[Any] = [document.get("paths", {})]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix) :] not in reached:
                reached.add(ref[len(prefix) :])
                pending.append(schemas.get(ref[len(prefix) :]))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in set(schemas) - reached:
        del schemas[name]
    return document


def _check_components(
    schema: Mapping[str, Any], function: str, seen: dict[tuple[str, str], tuple[str, Any]]
) -> None:
    """Two functions may share a component only if it is the same (the merge keeps the last one)."""
    for kind, entries in schema.get("components", {}).items():
        for name, definition in entries.items():
            first = seen.setdefault((kind, name), (function, definition))
            if first[1] != definition:
                raise SystemExit(
                    f"components.{kind}.{name} differs between functions {first[0]} and {function}: "
                    "give one of the models another name"
                )


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------------ --check
def operations(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
    }


def diff_summary(committed: Mapping[str, Any], generated: Mapping[str, Any]) -> list[str]:
    """What differs, by operation and component, then the first lines of the text diff."""
    lines: list[str] = []
    old_ops, new_ops = operations(committed), operations(generated)
    lines += [f"  + {op} (not in the committed document)" for op in sorted(new_ops.keys() - old_ops.keys())]
    lines += [f"  - {op} (no longer a route)" for op in sorted(old_ops.keys() - new_ops.keys())]
    lines += [f"  ~ {op}" for op in sorted(old_ops.keys() & new_ops.keys()) if old_ops[op] != new_ops[op]]
    old_components = committed.get("components", {})
    new_components = generated.get("components", {})
    for kind in sorted(old_components.keys() | new_components.keys()):
        old, new = old_components.get(kind, {}), new_components.get(kind, {})
        for name in sorted(old.keys() | new.keys()):
            if old.get(name) != new.get(name):
                lines.append(f"  ~ components.{kind}.{name}")
    for key in sorted((committed.keys() | generated.keys()) - {"paths", "components"}):
        if committed.get(key) != generated.get(key):
            lines.append(f"  ~ {key}")
    text_diff = list(
        difflib.unified_diff(
            render(committed).splitlines(),
            render(generated).splitlines(),
            "committed",
            "generated",
            n=1,
            lineterm="",
        )
    )
    if text_diff:
        shown = text_diff[:60]
        lines += ["", *shown]
        if len(text_diff) > len(shown):
            lines.append(f"... ({len(text_diff) - len(shown)} more diff lines)")
    return lines


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def check(output: Path = OUTPUT) -> int:
    generated = generate()
    if not output.exists():
        print(f"{_shown(output)} is missing: run `make openapi`", file=sys.stderr)
        return 1
    text = output.read_text(encoding="utf-8")
    if text == render(generated):
        print(f"{_shown(output)} is up to date ({len(operations(generated))} operations)")
        return 0
    committed = json.loads(text)
    print(
        f"{_shown(output)} differs from the routes: run `make openapi` and commit it.",
        file=sys.stderr,
    )
    print("\n".join(diff_summary(committed, generated) or ["  (formatting only)"]), file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare with the committed document")
    mode.add_argument("--stdout", action="store_true", help="print the document instead of writing it")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        return check(args.output)
    text = render(generate())
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.output.exists() and args.output.read_text(encoding="utf-8") == text:
        print(f"{_shown(args.output)} is up to date")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {_shown(args.output)} ({len(operations(json.loads(text)))} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
