"""One Helm 4 action through helm-python-sdk, for the kube-emulator conformance suite.

usage: helm_step.py <kubeconfig> <namespace> <chart-dir> <release> install|upgrade|uninstall [values-json]
Prints one JSON line summarising the release on success; exits non-zero with the error otherwise.
"""

import json
import sys

import helm_python as helm


def main() -> int:
    kubeconfig, namespace, chart, release, action = sys.argv[1:6]
    values = json.loads(sys.argv[6]) if len(sys.argv) > 6 else None
    cfg = helm.Config(kubeconfig_path=kubeconfig, namespace=namespace)
    try:
        if action == "install":
            rel = cfg.install(chart, release, values, namespace=namespace, timeout=60)
        elif action == "upgrade":
            rel = cfg.upgrade(chart, release, values, namespace=namespace, timeout=60)
        elif action == "uninstall":
            rel = cfg.uninstall(release, timeout=60)
            rel = rel.get("release", rel)
        else:
            print(f"unknown action {action}", file=sys.stderr)
            return 2
    except helm.HelmError as e:
        print(f"helm {action} failed: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"name": rel.get("name"), "revision": rel.get("revision"), "status": rel.get("status")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
