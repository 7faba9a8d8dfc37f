"""Every function's handler tells Powertools' Tracer to keep neither its response nor its error.

A response holds manage-link and verification tokens, contact data and the link pages' HTML; an
error's text can hold a provider's message naming a recipient. X-Ray must see neither (the
template also turns both off for every function: tests/infrastructure/test_template_security.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))


def tracer_decorators(path: Path) -> list[ast.expr]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        decorator
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for decorator in node.decorator_list
        if "capture_lambda_handler" in ast.unparse(decorator) or "capture_method" in ast.unparse(decorator)
    ]


def test_there_are_handlers() -> None:
    assert len(HANDLERS) >= 19


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.parent.name)
def test_the_handler_captures_no_response_and_no_error(path: Path) -> None:
    decorators = tracer_decorators(path)
    assert decorators, f"{path.parent.name}: the handler is not traced"
    for decorator in decorators:
        assert isinstance(decorator, ast.Call), (
            f"{path.parent.name}: {ast.unparse(decorator)} keeps the response"
        )
        flags = {k.arg: k.value for k in decorator.keywords}
        for flag in ("capture_response", "capture_error"):
            value = flags.get(flag)
            assert isinstance(value, ast.Constant) and value.value is False, (
                f"{path.parent.name}: {ast.unparse(decorator)} must pass {flag}=False"
            )


def test_no_layer_code_traces_a_method_with_its_result() -> None:
    layer = ROOT / "layers" / "common" / "bookbay"
    users = [p for p in layer.rglob("*.py") if "capture_method" in p.read_text()]
    assert not users, f"tracer.capture_method keeps return values by default: {users}"
