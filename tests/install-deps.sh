#!/usr/bin/env bash
# Installs the tools the test suite needs beyond the Rust toolchain.
# Idempotent: cheap when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned Python packages (Helm 4 through helm-python-sdk, YAML handling).
python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
