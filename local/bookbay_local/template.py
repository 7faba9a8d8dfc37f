"""CloudFormation/SAM templates: a YAML loader for the short-form intrinsics, and typed access.

``!Ref X`` loads as ``{"Ref": "X"}``, ``!GetAtt X.Arn`` as ``{"Fn::GetAtt": ["X", "Arn"]}``, every
other ``!Fn`` as ``{"Fn::Fn": ...}``: the long forms that :mod:`bookbay_local.intrinsics` resolves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_SHORT_FORMS = (
    "And", "Base64", "Cidr", "Equals", "FindInMap", "GetAtt", "GetAZs", "If", "ImportValue",
    "Join", "Length", "Not", "Or", "Select", "Split", "Sub", "ToJsonString", "Transform",
)  # fmt: skip


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that also reads CloudFormation's short-form intrinsic functions."""


def _intrinsic(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:  # pragma: no cover - yaml has no other node kinds
            raise yaml.constructor.ConstructorError(
                None, None, f"unexpected node for !{key}", node.start_mark
            )
        if key == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {key: value}

    return construct


CfnLoader.add_constructor("!Ref", _intrinsic("Ref"))
CfnLoader.add_constructor("!Condition", _intrinsic("Condition"))
for _name in _SHORT_FORMS:
    CfnLoader.add_constructor(f"!{_name}", _intrinsic(f"Fn::{_name}"))


class TemplateError(ValueError):
    """The template cannot be read, or uses something the local stack cannot emulate."""


@dataclass(frozen=True)
class Template:
    """A loaded template. Paths in it (CodeUri, ContentUri) are relative to ``base_dir``."""

    path: Path
    body: dict[str, Any]

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.body.get("Parameters") or {})

    @property
    def conditions(self) -> dict[str, Any]:
        return dict(self.body.get("Conditions") or {})

    @property
    def mappings(self) -> dict[str, Any]:
        return dict(self.body.get("Mappings") or {})

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.body.get("Resources") or {})

    def resource(self, logical_id: str) -> dict[str, Any]:
        try:
            return self.resources[logical_id]
        except KeyError:
            raise TemplateError(f"the template has no resource {logical_id!r}") from None

    def resource_type(self, logical_id: str) -> str:
        return str(self.resource(logical_id).get("Type", ""))

    def properties(self, logical_id: str) -> dict[str, Any]:
        return dict(self.resource(logical_id).get("Properties") or {})

    def resources_of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """Resources of these types, in template order."""
        return {name: res for name, res in self.resources.items() if res.get("Type") in types}

    def function_globals(self) -> dict[str, Any]:
        return dict((self.body.get("Globals") or {}).get("Function") or {})

    def api_globals(self) -> dict[str, Any]:
        return dict((self.body.get("Globals") or {}).get("Api") or {})


def load_template(path: str | Path) -> Template:
    file = Path(path).resolve()
    try:
        body = yaml.load(file.read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read template {file}: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
        raise TemplateError(f"{file} is not a CloudFormation template (no Resources)")
    return Template(path=file, body=body)
