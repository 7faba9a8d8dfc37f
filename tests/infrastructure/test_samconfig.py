"""samconfig.toml: one config-env per shop, all on the same template, differing only where a shop does."""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.infrastructure
SHOPS = ("acme-collision", "lakeside-auto")
REQUIRED_PARAMETERS = {"ShopName", "SenderEmail", "Environment", "PublicBaseUrl"}
# What may differ between config-envs; everything else must be the same for every shop.
PER_SHOP = {("global", "stack_name"), ("global", "region"), ("deploy", "parameter_overrides")}
OVERRIDE = re.compile(r'(\w+)="([^"]*)"')


class _ParametersLoader(yaml.SafeLoader):
    """Reads template.yaml with every intrinsic as None: only its Parameters are used."""


def _ignore_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:
    return None


_ParametersLoader.add_multi_constructor("!", _ignore_intrinsic)


@functools.cache
def template_parameters() -> dict[str, Any]:
    body = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=_ParametersLoader)  # noqa: S506
    parameters: dict[str, Any] = body["Parameters"]
    return parameters


def load() -> dict[str, Any]:
    with (ROOT / "samconfig.toml").open("rb") as handle:
        return tomllib.load(handle)


def overrides(env: dict[str, Any]) -> dict[str, str]:
    text = env["deploy"]["parameters"]["parameter_overrides"]
    pairs = dict(OVERRIDE.findall(text))
    assert OVERRIDE.sub("", text).strip() == "", f"unquoted or malformed overrides: {text}"
    return pairs


def flatten(env: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {
        (command, key): value
        for command, section in env.items()
        for key, value in section["parameters"].items()
    }


def test_version_and_environments() -> None:
    config = load()
    assert config["version"] == 0.1
    assert {"default", *SHOPS} <= set(config)


def test_default_environment() -> None:
    default = load()["default"]
    assert default["global"]["parameters"]["stack_name"] == "bookbay-demo"
    assert default["global"]["parameters"]["region"] == "us-east-1"
    deploy = default["deploy"]["parameters"]
    assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is True
    assert "template_file" not in deploy and "template" not in deploy


@pytest.mark.parametrize("env_name", ["default", *SHOPS])
def test_overrides_name_template_parameters(env_name: str) -> None:
    parameters = template_parameters()
    given = overrides(load()[env_name])
    assert set(given) >= REQUIRED_PARAMETERS
    # A parameter without a default (PublicBaseUrl: the links' base is fixed at deploy time) is
    # given by every shop, or its deploy would stop to ask for it.
    assert {name for name, p in parameters.items() if "Default" not in p} <= set(given)
    for name, value in given.items():
        assert name in parameters, f"{env_name}: {name} is not a template parameter"
        allowed = parameters[name].get("AllowedValues")
        if allowed:
            assert value in [str(v) for v in allowed], f"{env_name}: {name}={value} not in {allowed}"
        pattern = parameters[name].get("AllowedPattern")
        if pattern:
            assert re.fullmatch(pattern, value), f"{env_name}: {name}={value} does not match {pattern}"


@pytest.mark.parametrize("shop", SHOPS)
def test_shops_differ_only_in_stack_region_and_overrides(shop: str) -> None:
    config = load()
    default, env = flatten(config["default"]), flatten(config[shop])
    assert set(env) == set(default)
    for key in set(default) - PER_SHOP:
        assert env[key] == default[key], f"{shop} differs from default in {key}"
    assert env[("global", "stack_name")] != default[("global", "stack_name")]
