//! Small checks shared by the scenarios.

use std::time::Duration;

use serde_json::Value;

use crate::common::{Env, kube, wait};

/// `Ok` when `cond` has `status` (and `reason`, if given) — for `wait_user` closures.
pub fn has(u: &Value, cond: &str, status: &str, reason: Option<&str>) -> Result<(), String> {
    match kube::condition(u, cond) {
        Some((s, r, _)) if s == status && reason.is_none_or(|x| x == r) => Ok(()),
        Some((s, r, _)) => Err(format!("{cond} is {s}/{r}")),
        None => Err(format!("no {cond} condition")),
    }
}

pub fn status_str(u: &Value, field: &str) -> String {
    u["status"][field].as_str().unwrap_or_default().to_string()
}

/// Lets at least `n` drift resyncs happen after this point. Resyncs are counted as
/// `GET /admin/users/{id}` calls on the Tyk emulator, so this proves the resync loop ran
/// rather than trusting a sleep; the sleep only avoids polling too eagerly.
pub async fn let_resyncs_pass(env: &Env, n: u64) -> anyhow::Result<()> {
    let before = env.tyk_stats().await?.admin_gets();
    tokio::time::sleep(env.op_cfg.resync * n as u32).await;
    wait::until(&format!("{n} resync reads of the Dashboard"), || async {
        let now = env
            .tyk_stats()
            .await
            .map_err(|e| e.to_string())?
            .admin_gets();
        if now >= before + n {
            Ok(())
        } else {
            Err(format!("{} admin GETs since", now - before))
        }
    })
    .await
}

/// Samples a user's conditions for `period`, failing if the `Ready` condition ever differs from
/// `(status, reason)` or its lastTransitionTime moves: "no flapping".
pub async fn assert_stable(
    env: &Env,
    name: &str,
    status: &str,
    reason: &str,
    period: Duration,
) -> anyhow::Result<()> {
    let first = env.get_user(name).await?;
    let ltt = kube::condition_field(&first, "Ready", "lastTransitionTime");
    let deadline = tokio::time::Instant::now() + period;
    while tokio::time::Instant::now() < deadline {
        let u = env.get_user(name).await?;
        has(&u, "Ready", status, Some(reason))
            .map_err(|e| anyhow::anyhow!("{name} flapped: {e}"))?;
        let now = kube::condition_field(&u, "Ready", "lastTransitionTime");
        anyhow::ensure!(
            now == ltt,
            "{name}: Ready lastTransitionTime moved from {ltt:?} to {now:?}"
        );
        tokio::time::sleep(wait::POLL).await;
    }
    Ok(())
}

/// The Dashboard user's permissions include every `(key, value)` the spec asked for.
pub fn perms_match(remote: &Value, want: &[(&str, &str)]) -> Result<(), String> {
    for (k, v) in want {
        if remote["user_permissions"][*k] != *v {
            return Err(format!(
                "permission {k} is {} not {v}",
                remote["user_permissions"][*k]
            ));
        }
    }
    Ok(())
}
