#!/usr/bin/env bash
# The whole test suite: unit, emulator conformance (kube::Client, every kubectl
# the machine has, Helm), Dashboard client, and the operator end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/install-deps.sh
cargo test --workspace --locked
# The chart's RBAC against every request the operator made in the e2e suite above
# (target/e2e/operator-requests.jsonl): fails on a denied request and on an unused grant.
cargo test --locked --test packaging -- --ignored
# The bench smoke (issue #8): the whole bench at a small size must finish and write valid
# JSON with every field; it asserts no timing (figures: docs/operations/performance.md).
cargo run --release --locked -p bench -- all --users 200 --edits 20 --json target/bench/smoke.json
python3 tests/bench/check_json.py target/bench/smoke.json 200 20
