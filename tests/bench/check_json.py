"""Checks the JSON `bench all` wrote: valid, and every field issue #8 names present with a
number (or, where named so, a boolean). Timing is not judged: CI asserts no speed."""
import json
import sys

FIELDS = {
    "converge": ["users", "seconds", "dashboard_calls", "dashboard_calls_per_user",
                 "kube_writes_per_user", "limit_seconds", "ratio", "baseline_seconds",
                 "speedup", "operator_peak_rss_bytes"],
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
