"""Drives Helm 4 (PyPI helm-python-sdk, module `helm_python`) for the packaging tests.

Reads one JSON request on stdin: {"steps": [{"op": ..., ...}, ...]} and prints
{"results": [...]} with one entry per step, in order: {"ok": true, ...} or
{"ok": false, "error": "<type>: <message>"}. A failed step does not stop the next ones,
so one Python start serves a whole scenario; the Rust side decides what a failure means.

Ops (chart = chart directory; values = dict):
  render    {chart, values, name, namespace}     -> {manifests: {template path: text}}
  validate  {chart, values}                      -> {} (schema check only)
  lint      {chart, values, strict}              -> {report}
  install   {kubeconfig, chart, name, namespace, values, create_namespace}
            -> {manifest, revision, status, notes}
  upgrade   {kubeconfig, chart, name, namespace, values} -> same
  uninstall {kubeconfig, name, namespace}        -> {info}
  rollback  {kubeconfig, name, namespace, version} -> {revision, status, ...} (the new revision)
  status    {kubeconfig, name, namespace}        -> {revision, status, ...}
"""

import json
import sys

import helm_python as helm


def _config(step):
    return helm.Config(kubeconfig_path=step["kubeconfig"], namespace=step["namespace"])


def _summary(release):
    return {
        "manifest": release.get("manifest", ""),
        "revision": release.get("revision"),
        "status": release.get("status"),
        "notes": release.get("notes", ""),
    }


def run(step):
    op = step["op"]
    values = step.get("values") or {}
    if op == "render":
        with helm.Chart.load(step["chart"]) as chart:
            manifests = chart.render(
                values,
                name=step.get("name", "dashboard-user-operator"),
                namespace=step.get("namespace", "default"),
                is_install=True,
            )
        return {"manifests": manifests}
    if op == "validate":
        with helm.Chart.load(step["chart"]) as chart:
            chart.validate_schema(values)
        return {}
    if op == "lint":
        report = helm.lint(step["chart"], values, strict=step.get("strict", True))
        return {"report": report}
    if op in ("install", "upgrade"):
        with _config(step) as cfg, helm.Chart.load(step["chart"]) as chart:
            if op == "install":
                release = cfg.install(
                    chart,
                    step["name"],
                    values,
                    namespace=step["namespace"],
                    create_namespace=step.get("create_namespace", False),
                    timeout=60,
                )
            else:
                release = cfg.upgrade(
                    chart, step["name"], values, namespace=step["namespace"], timeout=60
                )
        return _summary(release)
    if op == "uninstall":
        with _config(step) as cfg:
            result = cfg.uninstall(step["name"], timeout=60)
        return {"info": result.get("info", "")}
    if op == "rollback":
        with _config(step) as cfg:
            cfg.rollback(step["name"], version=step.get("version"), timeout=60)
            return _summary(cfg.status(step["name"]))
    if op == "status":
        with _config(step) as cfg:
            return _summary(cfg.status(step["name"]))
    raise ValueError(f"unknown op {op!r}")


def main():
    request = json.load(sys.stdin)
    results = []
    for step in request["steps"]:
        try:
            results.append({"ok": True, **run(step)})
        except Exception as err:  # every failure is data for the Rust test
            results.append({"ok": False, "error": f"{type(err).__name__}: {err}"})
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
