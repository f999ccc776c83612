//! The kstatus rules (sigs.k8s.io/cli-utils `pkg/kstatus/status`: `Compute`,
//! `checkGenericProperties`, `checkGeneration`), which Flux's health checks apply to custom
//! resources, re-stated in Rust so the tests read our statuses the way Flux will:
//!
//! 1. `metadata.deletionTimestamp` set → Terminating.
//! 2. `status.observedGeneration` present and ≠ `metadata.generation` → InProgress.
//! 3. condition `Reconciling=True` → InProgress; else `Stalled=True` → Failed.
//! 4. custom kinds have no type-specific rules, so anything else is Current — `Ready` is not
//!    read at all. That is why the operator always sets Reconciling and Stalled explicitly
//!    (and writes them on first sight, docs/design.md §2): without them a fresh or broken
//!    object would pass for done.

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KStatus {
    InProgress,
    Failed,
    Current,
    Terminating,
}

/// The kstatus verdict and its message for one object.
pub fn compute(obj: &Value) -> (KStatus, String) {
    if obj["metadata"]["deletionTimestamp"]
        .as_str()
        .is_some_and(|t| !t.is_empty())
    {
        return (
            KStatus::Terminating,
            "Resource scheduled for deletion".into(),
        );
    }
    if let (Some(observed), Some(generation)) = (
        obj["status"]["observedGeneration"].as_i64(),
        obj["metadata"]["generation"].as_i64(),
    ) && observed != generation
    {
        let kind = obj["kind"].as_str().unwrap_or("");
        return (
            KStatus::InProgress,
            format!(
                "{kind} generation is {generation}, but latest observed generation is {observed}"
            ),
        );
    }
    // The first of the two in condition order decides, as the Go loop does.
    for c in obj["status"]["conditions"].as_array().into_iter().flatten() {
        if c["status"] != "True" {
            continue;
        }
        if c["type"] == "Reconciling" {
            return (KStatus::InProgress, text(c));
        }
        if c["type"] == "Stalled" {
            return (KStatus::Failed, text(c));
        }
    }
    (KStatus::Current, "Resource is current".into())
}

fn text(c: &Value) -> String {
    c["message"].as_str().unwrap_or("").to_string()
}

#[cfg(test)]
mod rules {
    //! The rules themselves, on minimal objects: the lifecycle tests in `health.rs` rely on them.
    use super::*;
    use serde_json::json;

    fn obj(generation: i64, observed: Option<i64>, conds: &[(&str, &str)]) -> Value {
        let conditions: Vec<Value> = conds
            .iter()
            .map(|(t, s)| json!({"type": t, "status": s, "reason": "R", "message": "m"}))
            .collect();
        let mut status = json!({"conditions": conditions});
        if let Some(o) = observed {
            status["observedGeneration"] = json!(o);
        }
        json!({"metadata": {"generation": generation}, "status": status})
    }

    #[test]
    fn each_rule_in_order() {
        use KStatus::*;
        let cases = [
            (obj(1, Some(1), &[("Ready", "True")]), Current),
            (obj(2, Some(1), &[("Ready", "True")]), InProgress),
            (obj(1, None, &[("Ready", "True")]), Current),
            (
                obj(1, Some(1), &[("Ready", "True"), ("Reconciling", "True")]),
                InProgress,
            ),
            (
                obj(1, Some(1), &[("Ready", "False"), ("Stalled", "True")]),
                Failed,
            ),
            // The first True one of the two decides.
            (
                obj(1, Some(1), &[("Reconciling", "True"), ("Stalled", "True")]),
                InProgress,
            ),
            (
                obj(1, Some(1), &[("Stalled", "True"), ("Reconciling", "True")]),
                Failed,
            ),
            // Ready alone is not read: this is why the operator never leaves the others out.
            (obj(1, Some(1), &[("Ready", "False")]), Current),
            (obj(1, Some(1), &[("Ready", "Unknown")]), Current),
            (obj(1, Some(1), &[]), Current),
        ];
        for (o, want) in cases {
            assert_eq!(compute(&o).0, want, "{o}");
        }
        let mut deleting = obj(1, Some(1), &[("Ready", "True")]);
        deleting["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        assert_eq!(compute(&deleting).0, Terminating);
    }
}
