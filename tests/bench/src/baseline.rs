//! The baseline the operator is compared with: what bootstrap scripts do today, one user at
//! a time over HTTP — `POST /admin/users`, then the self-reset `POST
//! /api/users/{id}/actions/reset` with the new user's key (docs/tyk-dashboard-api.md §2.1, §3.6).

use std::time::Instant;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::env::Env;

pub struct Baseline {
    pub seconds: f64,
    pub sampled_users: usize,
    pub extrapolated: bool,
}

/// Creates `min(users, sample)` users sequentially (emails of their own, so they never meet
/// the operator's) and extrapolates linearly to `users`: the loop is strictly sequential,
/// so its time per user does not depend on how many came before.
pub async fn run(env: &Env, users: usize, sample: usize) -> anyhow::Result<Baseline> {
    let sample = users.min(sample.max(1));
    let http = crate::env::http();
    let url = env.tyk.url();
    let admin_secret = env.tyk.settings().admin_secret;
    let started = Instant::now();
    for i in 0..sample {
        let created: Value = http
            .post(format!("{url}/admin/users"))
            .header("admin-auth", &admin_secret)
            .json(&json!({
                "org_id": env.org,
                "first_name": "Baseline",
                "last_name": format!("b{i:05}"),
                "email_address": format!("b{i:05}@baseline.example.com"),
                "active": true,
                // The operator's users' permissions (env.rs), so both make the same users.
                "user_permissions": {"apis": "read"},
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let key = created["Message"]
            .as_str()
            .context("no key in create answer")?;
        let id = created["Meta"]["id"]
            .as_str()
            .context("no id in create answer")?;
        http.post(format!("{url}/api/users/{id}/actions/reset"))
            .header("authorization", key)
            .json(&json!({"new_password": Env::password(i, 0)}))
            .send()
            .await?
            .error_for_status()?;
    }
    let measured = started.elapsed().as_secs_f64();
    Ok(Baseline {
        seconds: measured * users as f64 / sample as f64,
        sampled_users: sample,
        extrapolated: sample < users,
    })
}
