//! Conditions (kstatus Ready / Reconciling / Stalled) and status writes.
//!
//! Conditions are computed purely from an [`Outcome`]; the write is a server-side apply
//! to `/status` with the operator's field manager and `force`, skipped when nothing
//! changed so a steady state makes no API writes (docs/kubernetes-api.md §1.4 hot loops).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{
    Api, Resource,
    api::{Patch, PatchParams},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::crd::{FIELD_MANAGER, condition, reason};
use crate::reconcile::plan::Blocker;

/// What a reconcile ended in, as far as conditions are concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// First sight: nothing was done yet.
    Pending,
    /// Work is under way (e.g. a create was just recorded).
    Progressing {
        reason: &'static str,
        message: String,
    },
    /// In line with the spec.
    Synced { message: String },
    /// Could not get there; `stalled` says whether only a change will help.
    Blocked(Blocker),
    /// Keep the conditions as they are (an intermediate write of other fields).
    Unchanged,
}

fn cond(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    generation: Option<i64>,
) -> Condition {
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        observed_generation: generation,
        last_transition_time: Time(jiff::Timestamp::now()),
    }
}

/// The three conditions for `outcome`. A condition whose status did not change keeps
/// its `lastTransitionTime`, so repeating an outcome yields an identical status.
pub fn conditions(
    existing: &[Condition],
    generation: Option<i64>,
    outcome: &Outcome,
) -> Vec<Condition> {
    if *outcome == Outcome::Unchanged && !existing.is_empty() {
        return existing.to_vec();
    }
    let (ready, reconciling, stalled, why, msg) = match outcome {
        Outcome::Unchanged => (
            "Unknown",
            "True",
            "False",
            reason::PENDING,
            "waiting for the first reconcile",
        ),
        Outcome::Pending => (
            "Unknown",
            "True",
            "False",
            reason::PENDING,
            "waiting for the first reconcile",
        ),
        Outcome::Progressing { reason, message } => {
            ("Unknown", "True", "False", *reason, message.as_str())
        }
        Outcome::Synced { message } => ("True", "False", "False", reason::SYNCED, message.as_str()),
        Outcome::Blocked(b) if b.stalled => {
            ("False", "False", "True", b.reason, b.message.as_str())
        }
        Outcome::Blocked(b) => {
            // Keeps reason::STALLED_ONLY (which the chart's stalled alert is tested against)
            // true to what the operator writes: every e2e run checks it.
            debug_assert!(
                !reason::STALLED_ONLY.contains(&b.reason),
                "{} is listed in reason::STALLED_ONLY but written as retrying",
                b.reason
            );
            ("False", "True", "False", b.reason, b.message.as_str())
        }
    };
    [
        (condition::READY, ready),
        (condition::RECONCILING, reconciling),
        (condition::STALLED, stalled),
    ]
    .into_iter()
    .map(|(t, s)| {
        let mut c = cond(t, s, why, msg, generation);
        if let Some(old) = existing.iter().find(|o| o.type_ == t)
            && old.status == s
        {
            c.last_transition_time = old.last_transition_time.clone();
        }
        c
    })
    .collect()
}

/// Server-side applies `status` to `/status` of `obj` unless `current` already equals it.
/// Returns whether a write happened.
pub async fn apply<K, S>(
    api: &Api<K>,
    obj: &K,
    current: Option<&S>,
    status: &S,
) -> Result<bool, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize + PartialEq,
{
    if current == Some(status) {
        return Ok(false);
    }
    let name = obj.meta().name.clone().unwrap_or_default();
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    // A forced apply is idempotent, so a transient refusal is retried here, briefly: the
    // status often records a Dashboard write just made (user id, password fingerprint), and
    // losing it would make the next reconcile repeat that write (docs/operations/reliability.md).
    let mut delay = std::time::Duration::from_millis(100);
    for attempt in 1.. {
        match api
            .patch_status(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await
        {
            Ok(_) => break,
            Err(kube::Error::Api(e))
                if attempt < STATUS_ATTEMPTS && matches!(e.code, 409 | 429 | 500 | 503 | 504) =>
            {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Tries of one status write on a transient API error (100 + 200 + 400 ms between them).
const STATUS_ATTEMPTS: u32 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(c: &'a [Condition], t: &str) -> &'a Condition {
        c.iter().find(|c| c.type_ == t).unwrap()
    }

    #[test]
    fn first_sight_is_unknown_and_reconciling() {
        let c = conditions(&[], Some(1), &Outcome::Pending);
        assert_eq!(find(&c, "Ready").status, "Unknown");
        assert_eq!(find(&c, "Reconciling").status, "True");
        assert_eq!(find(&c, "Stalled").status, "False");
    }

    #[test]
    fn stalled_and_retrying_blockers_differ() {
        let stalled = conditions(
            &[],
            Some(2),
            &Outcome::Blocked(Blocker::stalled(reason::ALREADY_EXISTS, "taken")),
        );
        assert_eq!(find(&stalled, "Ready").status, "False");
        assert_eq!(find(&stalled, "Ready").reason, "AlreadyExists");
        assert_eq!(find(&stalled, "Stalled").status, "True");
        assert_eq!(find(&stalled, "Reconciling").status, "False");
        let retry = conditions(
            &[],
            Some(2),
            &Outcome::Blocked(Blocker::retry(reason::DASHBOARD_UNREACHABLE, "down")),
        );
        assert_eq!(find(&retry, "Reconciling").status, "True");
        assert_eq!(find(&retry, "Stalled").status, "False");
        assert_eq!(find(&retry, "Ready").observed_generation, Some(2));
    }

    #[test]
    fn unchanged_status_keeps_transition_time() {
        let mut old = conditions(
            &[],
            Some(1),
            &Outcome::Synced {
                message: "ok".into(),
            },
        );
        for c in &mut old {
            c.last_transition_time = Time(jiff::Timestamp::UNIX_EPOCH);
        }
        let again = conditions(
            &old,
            Some(1),
            &Outcome::Synced {
                message: "ok".into(),
            },
        );
        assert_eq!(again, old, "same outcome → identical conditions → no write");
        let changed = conditions(
            &old,
            Some(1),
            &Outcome::Blocked(Blocker::retry(reason::DASHBOARD_ERROR, "x")),
        );
        assert_ne!(
            find(&changed, "Ready").last_transition_time,
            Time(jiff::Timestamp::UNIX_EPOCH)
        );
        // Stalled stayed False: its transition time is kept.
        assert_eq!(
            find(&changed, "Stalled").last_transition_time,
            Time(jiff::Timestamp::UNIX_EPOCH)
        );
    }
}
