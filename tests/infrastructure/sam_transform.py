"""Print the CloudFormation template that the SAM transform makes of a SAM template, as JSON.

Run with .venv-sam's interpreter (it has samtranslator; .venv does not), offline:

    .venv-sam/bin/python tests/infrastructure/sam_transform.py template.yaml [LOGICAL_ID=S3_URI ...]

Local CodeUri / ContentUri values are replaced by a placeholder S3 URI (what `sam package` would
upload), or by the URI given for that resource (as a new build of it would be), and managed policy
names are not looked up (the template must not use any).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

PLACEHOLDER_S3 = "s3://bookbay-artifacts/placeholder.zip"


class _NoManagedPolicies:
    """The translator's managed-policy loader, offline: no policy names are known."""

    def load(self) -> dict[str, str]:
        return {}


def transform(path: Path, uris: dict[str, str] | None = None) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    yaml_parse = importlib.import_module("samtranslator.yaml_helper").yaml_parse
    sam_transform = importlib.import_module("samtranslator.translator.transform").transform
    template: dict[str, Any] = yaml_parse(path.read_text(encoding="utf-8"))
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = (uris or {}).get(logical_id, PLACEHOLDER_S3)
    result: dict[str, Any] = sam_transform(template, {}, _NoManagedPolicies())
    return result


def main(argv: list[str]) -> int:
    uris = dict(arg.split("=", 1) for arg in argv[2:] if "=" in arg)
    if len(argv) < 2 or len(uris) != len(argv) - 2:  # the program name, a template, LOGICAL_ID=URI
        sys.stderr.write("usage: sam_transform.py TEMPLATE [LOGICAL_ID=S3_URI ...]\n")
        return 2
    json.dump(transform(Path(argv[1]), uris), sys.stdout, indent=1, sort_keys=True, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
