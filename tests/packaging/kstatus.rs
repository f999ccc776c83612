//! The kstatus rules (sigs.k8s.io/cli-utils `kstatus/status`), as Flux's health checks and
//! `helm --wait`-style watchers apply them to custom resources, re-stated in Rust so the
//! tests can read our statuses the way those tools will:
//!
//! 1. `metadata.deletionTimestamp` set → Terminating.
//! 2. `status.observedGeneration` present and ≠ `metadata.generation` → InProgress.
//! 3. condition `Reconciling=True` → InProgress; then `Stalled=True` → Failed.
//! 4. no built-in rules for custom kinds, so a `Ready` condition decides: True → Current,
//!    False or Unknown → InProgress.
//! 5. otherwise Current (an object without conditions is taken as done — which is why the
//!    operator must write a status on first sight, DESIGN §2).

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KStatus {
    InProgress,
    Failed,
    Current,
    Terminating,
}

fn condition<'a>(obj: &'a Value, ctype: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == ctype)
}

fn is_true<'a>(obj: &'a Value, ctype: &str) -> Option<&'a Value> {
    condition(obj, ctype).filter(|c| c["status"] == "True")
}

/// The kstatus verdict and its message for one object.
pub fn compute(obj: &Value) -> (KStatus, String) {
    if !obj["metadata"]["deletionTimestamp"].is_null() {
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
        return (
            KStatus::InProgress,
            format!("{generation} is the current generation, observed {observed}"),
        );
    }
    if let Some(c) = is_true(obj, "Reconciling") {
        return (KStatus::InProgress, text(c));
    }
    if let Some(c) = is_true(obj, "Stalled") {
        return (KStatus::Failed, text(c));
    }
    match condition(obj, "Ready") {
        Some(c) if c["status"] == "True" => (KStatus::Current, "Resource is Ready".into()),
        Some(c) => (KStatus::InProgress, text(c)),
        None => (KStatus::Current, "Resource is current".into()),
    }
}

fn text(c: &Value) -> String {
    format!(
        "{}: {}",
        c["reason"].as_str().unwrap_or(""),
        c["message"].as_str().unwrap_or("")
    )
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
            // Reconciling is looked at before Stalled.
            (
                obj(1, Some(1), &[("Reconciling", "True"), ("Stalled", "True")]),
                InProgress,
            ),
            (obj(1, Some(1), &[("Ready", "False")]), InProgress),
            (obj(1, Some(1), &[("Ready", "Unknown")]), InProgress),
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
