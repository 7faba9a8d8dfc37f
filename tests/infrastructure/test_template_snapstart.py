"""template.yaml and Lambda SnapStart (issue 15): the SnapStart parameter (off by default), which
functions it applies to, the live alias the API calls either way and what makes a deploy publish
new versions of them; and bookbay.snapstart's after-restore hook.

What SAM makes of these properties (the API's integrations on the alias, the versions' deletion
policy, a layer-only change publishing new versions) is asserted on the transformed template in
test_sam.py.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.infrastructure
Template = dict[str, Any]

FUNCTION = "AWS::Serverless::Function"
# The customer-facing functions: every customer request goes through one of them, and for a small
# shop nearly every such request is a cold start. Not the staff API (signed-in staff, warm through
# a working day), the docs, the admin page, nor the workers (stream, schedules: nobody waits).
SNAPSTART_FUNCTIONS = {
    "BookingFunction",
    "CatalogFunction",
    "AvailabilityFunction",
    "VerificationFunction",
    "BookingPageFunction",
    "CustomerLinksFunction",
    "StaffLinksFunction",
    "ReviewLinksFunction",
}
ALIAS = "live"
# Read by no SnapStart function (only the outbox sender, as its e-mails' sender name): a change of
# it needs no new version of them, and it would not fit in the 256 characters of the description.
UNREAD_BY_SNAPSTART_FUNCTIONS = {"ShopName"}
DESCRIPTION_MAX = 256  # AWS::Lambda::Version Description


def props(template: Template, logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical_id].get("Properties") or {}
    return properties


def functions(template: Template) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == FUNCTION}


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def sub_names(value: Any) -> set[str]:
    """The names an Fn::Sub string refers to (${Name}, ${Name.Attr})."""
    text = value[0] if isinstance(value, list) else value
    return {name.split(".", 1)[0] for name in re.findall(r"\$\{([^}!]+)\}", str(text))}


def references(value: Any) -> set[str]:
    """Every logical id or parameter that ``value`` names through Ref, GetAtt or Sub."""
    found: set[str] = set()
    for node in walk(value):
        if isinstance(node, dict) and len(node) == 1:
            (key, arg), *_ = node.items()
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(str(arg[0]))
            elif key == "Fn::Sub":
                found |= sub_names(arg)
    return found


def conditions_of(template: Template, value: Any) -> list[Any]:
    """The bodies of the conditions that the Fn::If in ``value`` test."""
    return [
        template["Conditions"][node["Fn::If"][0]]
        for node in walk(value)
        if isinstance(node, dict) and set(node) == {"Fn::If"}
    ]


# --------------------------------------------------------------------------- parameter, condition
def test_the_parameter_is_off_by_default_and_its_condition_reads_it(template: Template) -> None:
    parameter = template["Parameters"]["SnapStart"]
    assert parameter["Type"] == "String"
    assert parameter["AllowedValues"] == ["true", "false"]
    # Off: about USD 2 a month per 512 MB function, a snapshot a small shop's sparse requests
    # restore from its slowest tier, and a version idle 14 days fails requests (README).
    assert parameter["Default"] == "false"
    assert template["Conditions"]["UseSnapStart"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}
    # The X-Ray parameter added before it stays.
    assert template["Parameters"]["TraceSubsegments"]["Default"] == "false"


# --------------------------------------------------------------------------- which functions
def test_snapstart_applies_to_the_customer_facing_functions_only(template: Template) -> None:
    with_snapstart = {name for name, fn in functions(template).items() if "SnapStart" in fn["Properties"]}
    assert with_snapstart == SNAPSTART_FUNCTIONS
    assert "SnapStart" not in template["Globals"]["Function"]
    for name in SNAPSTART_FUNCTIONS:
        assert props(template, name)["SnapStart"] == {
            "ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}
        }, name


def test_they_are_customer_facing_api_functions(template: Template) -> None:
    for name in SNAPSTART_FUNCTIONS:
        events = props(template, name)["Events"].values()
        assert events and all(event["Type"] == "Api" for event in events), name
        for event in events:
            assert not event["Properties"]["Path"].startswith("/v1/admin"), name
            assert "Auth" not in event["Properties"], name


def test_snapstart_functions_meet_its_requirements(template: Template) -> None:
    # Python 3.12 or later; no provisioned concurrency, no EFS, ephemeral storage 512 MB at most.
    runtime = template["Globals"]["Function"]["Runtime"]
    match = re.fullmatch(r"python3\.(\d+)", runtime)
    assert match and int(match[1]) >= 12, runtime
    for name in SNAPSTART_FUNCTIONS:
        p = props(template, name)
        assert p.get("Runtime", runtime) == runtime, name
        assert "ProvisionedConcurrencyConfig" not in p, name
        assert "FileSystemConfigs" not in p, name
        assert int((p.get("EphemeralStorage") or {}).get("Size", 512)) <= 512, name
    assert "EphemeralStorage" not in template["Globals"]["Function"]


# --------------------------------------------------------------------------- the alias, versions
def test_snapstart_functions_are_published_behind_the_live_alias(template: Template) -> None:
    for name in SNAPSTART_FUNCTIONS:
        p = props(template, name)
        assert p["AutoPublishAlias"] == ALIAS, name
        # Any change of the function's properties (the layer's included, below) publishes.
        assert p["AutoPublishAliasAllProperties"] is True, name
        # The version an update replaces is deleted: a kept one keeps a billed snapshot.
        assert p["VersionDeletionPolicy"] == "Delete", name


def test_a_new_layer_version_publishes_new_function_versions(template: Template) -> None:
    layer = props(template, "CommonLayer")
    assert layer["PublishLambdaVersion"] is True
    assert {"Ref": "CommonLayer"} in template["Globals"]["Function"]["Layers"]


def test_the_version_description_holds_every_parameter_the_functions_read(template: Template) -> None:
    # SAM names a version by a hash of the properties with !Ref unresolved: a parameter-only change
    # would leave the alias on the old version. A new description replaces it (a new version).
    parameters = set(template["Parameters"])
    global_env = template["Globals"]["Function"]["Environment"]["Variables"]
    descriptions = {}
    for name in SNAPSTART_FUNCTIONS:
        p = props(template, name)
        description = p["VersionDescription"]
        assert set(description) == {"Fn::Sub"}, name
        described = sub_names(description["Fn::Sub"])
        snapstart = [p["SnapStart"], *conditions_of(template, p["SnapStart"])]
        read = references([global_env, p.get("Environment"), snapstart]) & parameters
        assert "SnapStart" in read
        assert read - UNREAD_BY_SNAPSTART_FUNCTIONS <= described, f"{name}: {read - described}"
        assert described <= parameters, name
        descriptions[name] = description
    assert len({str(d) for d in descriptions.values()}) == 1, "one description for all of them"


def test_the_version_description_fits_at_its_longest(template: Template) -> None:
    (text,) = {props(template, name)["VersionDescription"]["Fn::Sub"] for name in SNAPSTART_FUNCTIONS}

    def longest(name: str) -> str:
        parameter = template["Parameters"][name]
        if "AllowedValues" in parameter:
            return max((str(v) for v in parameter["AllowedValues"]), key=len)
        assert "MaxLength" in parameter, f"{name} has no bound: the description could exceed 256"
        return "x" * int(parameter["MaxLength"])

    worst = re.sub(r"\$\{([^}]+)\}", lambda m: longest(m[1]), text)
    assert len(worst) <= DESCRIPTION_MAX, len(worst)


def test_nothing_else_names_a_snapstart_function(template: Template) -> None:
    # The API events target the alias (test_sam.py); a permission, a Scheduler target or an
    # environment variable naming the function would reach $LATEST and bypass the alias.
    for other, resource in template["Resources"].items():
        if other in SNAPSTART_FUNCTIONS:
            continue
        named = references(resource) & SNAPSTART_FUNCTIONS
        assert not named, f"{other} names {named}"
    assert not references(template.get("Outputs") or {}) & SNAPSTART_FUNCTIONS


def test_other_functions_keep_no_alias(template: Template) -> None:
    # The workers' targets (the stream mapping, Scheduler's reminder and review targets, the
    # sweep) and the staff API are invoked unqualified; an alias there would need them moved too.
    for name, fn in functions(template).items():
        if name not in SNAPSTART_FUNCTIONS:
            for key in ("AutoPublishAlias", "SnapStart", "VersionDeletionPolicy", "VersionDescription"):
                assert key not in fn["Properties"], f"{name}.{key}"
    assert "AutoPublishAlias" not in template["Globals"]["Function"]


# --------------------------------------------------------------------------- bookbay.snapstart
@pytest.fixture
def random_state() -> Iterator[None]:
    state = random.getstate()
    yield
    random.setstate(state)


def _fake_runtime(registered: list[Callable[[], None]]) -> types.ModuleType:
    """Lambda's snapshot_restore_py, as far as the hook registration goes."""
    module = types.ModuleType("snapshot_restore_py")

    def register_after_restore(func: Callable[[], None], *args: Any, **kwargs: Any) -> Callable[[], None]:
        assert not args and not kwargs
        registered.append(func)
        return func

    module.register_after_restore = register_after_restore  # type: ignore[attr-defined]
    return module


def test_without_lambdas_runtime_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    from bookbay import snapstart

    # .venv, the tests and the local stack have no snapshot_restore_py
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)
    assert snapstart.register_hooks() is False
    assert snapstart.HOOKS_REGISTERED is False


def test_in_lambdas_runtime_the_after_restore_hook_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    from bookbay import snapstart

    registered: list[Callable[[], None]] = []
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", _fake_runtime(registered))
    assert snapstart.register_hooks() is True
    assert registered == [snapstart.after_restore]


@pytest.mark.usefixtures("random_state")
def test_restored_environments_draw_different_random_numbers() -> None:
    from bookbay import snapstart

    # Given the random state a snapshot holds, restored in two environments
    random.seed(2024)
    snapshot = random.getstate()

    def restored(*, hook: bool) -> list[float]:
        random.setstate(snapshot)
        if hook:
            snapstart.after_restore()
        return [random.random() for _ in range(4)]

    # Without the hook both draw the same jitter; with it, each draws its own
    assert restored(hook=False) == restored(hook=False)
    assert restored(hook=True) != restored(hook=True)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_module_is_cheap_to_import() -> None:
    # On every cold path: it loads nothing a function has not loaded already (random).
    result = _python(
        "import random, sys\n"
        "before = set(sys.modules)\n"
        "import bookbay.snapstart\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) <= {"bookbay", "bookbay.snapstart", "__future__"}


def test_every_snapstart_function_loads_the_hooks(template: Template) -> None:
    # Lambda runs only hooks registered by modules the handler's import loads.
    for name in SNAPSTART_FUNCTIONS:
        app = (ROOT / props(template, name)["CodeUri"] / "app.py").read_text(encoding="utf-8")
        assert "from bookbay.observability import" in app, name
    result = _python("import sys, bookbay.observability\nprint('bookbay.snapstart' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
