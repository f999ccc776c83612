#!/usr/bin/env bash
# The whole test suite: unit, emulator conformance (kube::Client, every kubectl
# the machine has, Helm), Dashboard client, and the operator end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/install-deps.sh
cargo test --workspace --locked
