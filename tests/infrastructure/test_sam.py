"""The SAM CLI accepts and builds the template (through scripts/sam.sh, as the Makefile runs it).

scripts/sam.sh creates .venv-sam on first use (about a minute); these tests are skipped, saying
why, only when that is impossible on this machine. `sam build` needs no Docker: the layer's
dependencies are installed from manylinux aarch64 wheels (see the assertion on pydantic_core).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SAM_SH = ROOT / "scripts" / "sam.sh"
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
TRANSFORM = Path(__file__).resolve().parent / "sam_transform.py"

# `sam build` downloads the layer's wheels: minutes on a slow registry, not the default timeout.
pytestmark = [pytest.mark.infrastructure, pytest.mark.slow, pytest.mark.timeout(900)]


def sam(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SAM_SH), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="session")
def sam_cli() -> None:
    """.venv-sam exists (created now if missing; one creator at a time across xdist workers)."""
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    lock_path = Path(tempfile.gettempdir()) / f"bookbay-venv-sam-{digest}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            result = sam("--version", timeout=900)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"the SAM CLI virtualenv .venv-sam could not be created: {exc}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if result.returncode != 0:
        pytest.skip(
            "the SAM CLI virtualenv .venv-sam could not be created by scripts/sam.sh: "
            + (result.stderr or result.stdout).strip()[-2000:]
        )
    assert "SAM CLI, version" in result.stdout


def test_sam_validate_lint(sam_cli: None) -> None:
    result = sam("validate", "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


@pytest.fixture(scope="module")
def transformed(sam_cli: None) -> dict[str, Any]:
    """template.yaml after the SAM transform (samtranslator of .venv-sam), as CloudFormation sees it."""
    result = subprocess.run(
        [str(SAM_PYTHON), str(TRANSFORM), "template.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_transformed_api_has_one_stage_and_the_waf_association_waits_for_it(
    transformed: dict[str, Any],
) -> None:
    resources = transformed["Resources"]
    stages = {name for name, res in resources.items() if res["Type"] == "AWS::ApiGateway::Stage"}
    assert stages == {"BookbayApiStage"}
    assert resources["BookbayApiStage"]["Properties"]["StageName"] == {"Ref": "Environment"}
    for name, res in resources.items():
        if res["Type"] == "AWS::ApiGateway::Deployment":
            # A StageName here is SAM's implicit extra stage "Stage" (no WAF, no throttling).
            assert "StageName" not in res["Properties"], name
    association = resources["WebAclAssociation"]
    assert association["Condition"] == "UseWaf"
    assert association["DependsOn"] == "BookbayApiStage"


def test_transformed_every_depends_on_names_a_resource(transformed: dict[str, Any]) -> None:
    resources = transformed["Resources"]
    for name, res in resources.items():
        depends = res.get("DependsOn", [])
        for target in [depends] if isinstance(depends, str) else depends:
            assert target in resources, f"{name} depends on {target}, which the transform does not create"


def test_transformed_only_admin_paths_require_the_cognito_authorizer(transformed: dict[str, Any]) -> None:
    body = transformed["Resources"]["BookbayApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"]["StaffCognito"]
    assert scheme["x-amazon-apigateway-authorizer"]["type"] == "cognito_user_pools"
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            security = operation.get("security")
            if path.startswith("/v1/admin"):
                assert security == [{"StaffCognito": []}], f"{method.upper()} {path}"
            else:
                assert not security, f"{method.upper()} {path} is public but has {security}"


def test_transformed_gateway_responses_keep_their_json_templates(transformed: dict[str, Any]) -> None:
    body = transformed["Resources"]["BookbayApi"]["Properties"]["Body"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert responses
    for kind, response in responses.items():
        assert '"error"' in response["responseTemplates"]["application/json"], kind


def _transform(*uris: str) -> dict[str, Any]:
    """template.yaml after the SAM transform, with LOGICAL_ID=S3_URI code locations (a new build)."""
    result = subprocess.run(
        [str(SAM_PYTHON), str(TRANSFORM), "template.yaml", *uris],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def _snapstart_functions(template: dict[str, Any]) -> set[str]:
    return {
        name for name, res in template["Resources"].items() if "SnapStart" in (res.get("Properties") or {})
    }


def _versions(transformed: dict[str, Any]) -> dict[str, str]:
    """Each function's AWS::Lambda::Version logical id (SAM names it by a hash of what publishes)."""
    return {
        res["Properties"]["FunctionName"]["Ref"]: name
        for name, res in transformed["Resources"].items()
        if res["Type"] == "AWS::Lambda::Version"
    }


def test_transformed_snapstart_functions_are_invoked_through_their_live_alias(
    transformed: dict[str, Any], template: dict[str, Any]
) -> None:
    snapstart = _snapstart_functions(template)
    resources = transformed["Resources"]
    # Every route's integration: the live alias of a SnapStart function, any other function itself
    targets: set[str] = set()
    for path, methods in resources["BookbayApi"]["Properties"]["Body"]["paths"].items():
        for method, operation in methods.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            (target,) = re.findall(r"/functions/\$\{([^}]+)\}/invocations", uri)
            function = target.removesuffix("Aliaslive").removesuffix(".Arn")
            expected = f"{function}Aliaslive" if function in snapstart else f"{function}.Arn"
            assert target == expected, f"{method.upper()} {path}: {target}"
            targets.add(function)
    assert snapstart <= targets
    # and API Gateway may invoke exactly that: the alias, not the function's $LATEST
    for name, res in resources.items():
        if (
            res["Type"] == "AWS::Lambda::Permission"
            and res["Properties"]["Principal"] == "apigateway.amazonaws.com"
        ):
            ref = res["Properties"]["FunctionName"]["Ref"]
            function = ref.removesuffix("Aliaslive")
            assert ref == (f"{function}Aliaslive" if function in snapstart else function), name


def test_transformed_versions_are_deleted_when_replaced_and_described(
    transformed: dict[str, Any], template: dict[str, Any]
) -> None:
    resources = transformed["Resources"]
    versions = _versions(transformed)
    assert set(versions) == _snapstart_functions(template)
    for function, version in versions.items():
        assert resources[version]["DeletionPolicy"] == "Delete", version
        assert (
            resources[version]["Properties"]["Description"]
            == (template["Resources"][function]["Properties"]["VersionDescription"])
        )
        alias = resources[f"{function}Aliaslive"]
        assert alias["Type"] == "AWS::Lambda::Alias"
        assert alias["Properties"]["Name"] == "live"
        assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": [version, "Version"]}
        assert resources[function]["Properties"]["SnapStart"] == {
            "ApplyOn": {"Fn::If": ["UseSnapStart", "PublishedVersions", "None"]}
        }


def test_transformed_a_release_publishes_the_versions_it_changes(sam_cli: None) -> None:
    # Given the template as built
    built = _versions(_transform())
    # When only the layer is new, every function behind an alias gets a new version (the alias
    # would otherwise stay on versions with the old layer)
    new_layer = _versions(_transform("CommonLayer=s3://bookbay-artifacts/another-layer.zip"))
    assert set(new_layer) == set(built)
    for function, version in new_layer.items():
        assert version != built[function], function
    # and when only one function's code is new, only that function's version is new
    new_booking = _versions(_transform("BookingFunction=s3://bookbay-artifacts/another-booking.zip"))
    assert {f for f in built if new_booking[f] != built[f]} == {"BookingFunction"}


def test_sam_build_without_docker(sam_cli: None, tmp_path: Path) -> None:
    # Given a clean build directory and no Docker (no --use-container)
    build_dir = tmp_path / "build"
    # When sam builds the template (cache off: this proves a build from scratch works)
    result = sam(
        "build",
        "--build-dir",
        str(build_dir),
        "--no-cached",
        "--cache-dir",
        str(tmp_path / "cache"),
        timeout=840,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    # Then the layer holds the domain package and its dependencies under python/, built for arm64
    layer = build_dir / "CommonLayer" / "python"
    assert (layer / "bookbay" / "__init__.py").is_file()
    assert (layer / "aws_lambda_powertools").is_dir()
    # with the package data next to the code: the OpenAPI document, the e-mail and page templates
    for data in (
        "openapi.json",
        "templates/email/customer.html",
        "templates/email/store.txt",
        "templates/pages/staff.html",
    ):
        assert (layer / "bookbay" / data).is_file(), f"bookbay/{data} missing from the layer"
    native = list((layer / "pydantic_core").glob("_pydantic_core.*.so"))
    assert native and all("aarch64" in so.name for so in native), native

    # And every function's folder holds its handler module
    built_template = (build_dir / "template.yaml").read_text(encoding="utf-8")
    built = yaml.load(built_template, Loader=_BuiltTemplateLoader)  # noqa: S506 - a SafeLoader
    functions: dict[str, Any] = {
        name: res for name, res in built["Resources"].items() if res["Type"] == "AWS::Serverless::Function"
    }
    assert functions
    for name in functions:
        assert (build_dir / name / "app.py").is_file(), f"{name}: app.py missing from the build"


class _BuiltTemplateLoader(yaml.SafeLoader):
    """Reads the built template's short-form intrinsics as None: the test reads resource types only."""


def _ignore_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:
    return None


_BuiltTemplateLoader.add_multi_constructor("!", _ignore_intrinsic)
