"""Checks the JSON `bench all` wrote: valid, and every field issues #8 and #22 name present
with a number (or, where named so, a boolean or a map of counts). Timing is not judged: CI
asserts no speed."""
import json
import sys

FIELDS = {
    "converge": ["users", "seconds", "dashboard_calls", "dashboard_calls_per_user",
                 "kube_writes_per_user", "limit_seconds", "ratio", "baseline_seconds",
                 "speedup", "operator_peak_rss_bytes",
                 # issue #22: what each user costs, and who pays
                 "dashboard_calls_floor_per_user", "floor_limit_seconds", "floor_ratio",
                 "kube_reads_per_user", "operator_cpu_ms_per_user",
                 "emulators_cpu_ms_per_user"],
    "steady": ["dashboard_writes", "kube_writes", "dashboard_reads_per_user_per_resync"],
    "memory": ["operator_peak_rss_bytes", "operator_rss_after_bytes", "unrelated_secrets"],
    "password-latency": ["p50_ms", "p99_ms", "max_ms"],
}


def main(path, users, edits):
    with open(path) as f:
        doc = json.load(f)
    problems = []
    for scenario, fields in FIELDS.items():
        obj = doc.get(scenario)
        if not isinstance(obj, dict):
            problems.append(f"{scenario}: missing")
            continue
        for field in fields:
            v = obj.get(field)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                problems.append(f"{scenario}.{field}: not a number: {v!r}")
    conv = doc.get("converge", {})
    if not isinstance(conv.get("baseline_extrapolated"), bool):
        problems.append("converge.baseline_extrapolated: not a boolean")
    by = conv.get("kube_requests_by_verb_and_resource")
    if not isinstance(by, dict) or not by:
        problems.append(f"converge.kube_requests_by_verb_and_resource: not a map: {by!r}")
    else:
        for key, n in by.items():
            if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
                problems.append(
                    f"converge.kube_requests_by_verb_and_resource[{key!r}]: not a count: {n!r}")
        # The operator writes for every new user (its status at least).
        if not {key.split(" ")[0] for key in by} & {"create", "patch", "update"}:
            problems.append(f"converge.kube_requests_by_verb_and_resource: no writes: {by!r}")
    # Both do work for every new user: zero would mean the /proc reading is broken (for the
    # emulators: their runtime's threads not found by name).
    for field in ["operator_cpu_ms_per_user", "emulators_cpu_ms_per_user"]:
        v = conv.get(field)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v <= 0:
            problems.append(f"converge.{field}: {v!r}, expected more than 0")
    if conv.get("users") != users:
        problems.append(f"converge.users: {conv.get('users')!r}, expected {users}")
    pw = doc.get("password-latency", {})
    if pw.get("landed") != edits:
        problems.append(f"password-latency: {pw.get('landed')!r} of {edits} edits landed")
    if problems:
        sys.exit(f"{path}:\n  " + "\n  ".join(problems))
    print(f"{path}: valid, every field present")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
