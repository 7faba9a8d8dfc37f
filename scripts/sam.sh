#!/usr/bin/env bash
# Run the AWS SAM CLI from its own virtualenv (.venv-sam), creating it on first use.
#   scripts/sam.sh validate --lint
#   scripts/sam.sh build
#   scripts/sam.sh deploy --config-env <shop>
# SAM CLI pins boto3/pydantic versions of its own, so it lives apart from .venv. `sam build`
# needs the Lambda runtime's interpreter (python3.13) on PATH: pyenv's 3.13 goes first when
# present (its shims do not always resolve), else whatever python3.13 PATH already has.
# It runs sam from the repository root (template.yaml, samconfig.toml, .cfnlintrc.yaml): give
# paths in arguments as absolute paths or relative to the root.
# Overrides: SAM_PYTHON (interpreter for the venv), SAM_CLI_VERSION.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv-sam"
version="${SAM_CLI_VERSION:-1.170.0}"
# The newest pyenv 3.13.x, if any, goes first on PATH.
pyenv_root="${PYENV_ROOT:-${HOME:-/root}/.pyenv}"
pyenv_bin="$(ls -d "$pyenv_root"/versions/3.13*/bin 2>/dev/null | sort -rV | head -n 1 || true)"
if [[ -n "$pyenv_bin" && -x "$pyenv_bin/python3.13" ]]; then
  export PATH="$pyenv_bin:$PATH"
fi

python="${SAM_PYTHON:-}"
if [[ -z "$python" ]]; then
  python="$(command -v python3.13 || true)"
fi

installed_version() {
  "$venv/bin/python" -c 'from importlib.metadata import version; print(version("aws-sam-cli"))' 2>/dev/null || true
}

if [[ ! -x "$venv/bin/sam" || "$(installed_version)" != "$version" ]]; then
  if [[ -z "$python" ]]; then
    echo "scripts/sam.sh: python3.13 not found (set SAM_PYTHON or install it with pyenv)" >&2
    exit 127
  fi
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ! { "$python" -m venv "$venv" && "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "aws-sam-cli==$version"; } >"$log" 2>&1; then
    echo "scripts/sam.sh: could not install aws-sam-cli==$version into $venv:" >&2
    cat "$log" >&2
    exit 1
  fi
  rm -f "$log"
  trap - EXIT
fi

# No telemetry (no network here but the package registries); lint and build need a region.
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"

cd "$root"
exec "$venv/bin/sam" "$@"
