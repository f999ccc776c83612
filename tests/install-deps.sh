#!/usr/bin/env bash
# Installs the tools the test suite needs beyond the Rust toolchain.
# Idempotent: cheap when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned Python packages (Helm 4 through helm-python-sdk, YAML handling).
python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt

# Lua 5.1 runs the Argo CD health checks in health/argocd (Argo CD embeds a Lua 5.1).
command -v lua5.1 >/dev/null || { apt-get update -qq && apt-get install -y -qq lua5.1 >/dev/null; }

# Prometheus 2.42 (Debian's package, with promtool) runs the chart's alert rules and Grafana
# queries against the real operator (tests/e2e/prometheus.rs), which fails without it. The test
# starts its own server on loopback; the package's service must not start, so a policy-rc.d
# answering 101 ("action forbidden") is in place for the install: the machine's own, or ours,
# removed again afterwards.
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    policy=/usr/sbin/policy-rc.d
    if ! [ -e "$policy" ]; then
        trap 'rm -f "$policy"' EXIT
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

# The real kubectl drives the e2e suite (docs/design.md §6): its tests fail without one. The machine
# image ships it (several versions, 1.27-1.33) in the Google Cloud SDK, which the emulator
# conformance tests also need; a machine without it is reported here rather than silently
# passing the kubectl tests.
if ! [ -x /usr/lib/google-cloud-sdk/bin/kubectl ] && ! command -v kubectl >/dev/null; then
    echo "install-deps: no kubectl (neither /usr/lib/google-cloud-sdk/bin/kubectl nor on PATH)" >&2
    exit 1
fi
