//! `memory`: N users and their Secrets plus K unrelated Secrets of S KB each. The operator
//! is restarted once they all exist, so its peak RSS is that of a process starting in such
//! a cluster (initial lists, then one reconcile of every user) rather than the peak of the
//! earlier convergence, which `converge` reports.

use std::time::Duration;

use serde_json::{Value, json};

use crate::env::Env;

/// After the restart's first pass, how long the RSS is watched without a soak.
const AFTER: Duration = Duration::from_secs(10);
const SOAK_SAMPLE: Duration = Duration::from_secs(60);

pub async fn run(env: &mut Env) -> anyhow::Result<Value> {
    super::ensure_converged(env).await?;
    let n = env.users;
    let k = env.opts.unrelated_secrets.unwrap_or(env.opts.users);
    let kb = env.opts.unrelated_secret_kb;
    eprintln!("memory: creating {k} unrelated Secrets of {kb} KB");
    env.create_unrelated_secrets(k, kb).await?;
    let (running_rss, _) = env.operator()?.rss()?;

    eprintln!("memory: restarting the operator");
    let resync = env.resync;
    env.restart_operator(resync).await?;
    env.wait_first_pass("memory").await?;
    tokio::time::sleep(AFTER).await;
    anyhow::ensure!(
        env.ready_users() >= n,
        "memory: users lost Ready after the restart"
    );
    let mut samples = vec![];
    if env.opts.soak_minutes > 0 {
        samples.push(env.operator()?.rss()?.0);
        for minute in 1..=env.opts.soak_minutes {
            tokio::time::sleep(SOAK_SAMPLE).await;
            let (rss, _) = env.operator()?.rss()?;
            eprintln!("memory soak: minute {minute}: RSS {} KiB", rss / 1024);
            samples.push(rss);
        }
    }
    let (after, peak) = env.operator()?.rss()?;
    let mut v = json!({
        "users": n,
        "unrelated_secrets": k,
        "unrelated_secret_kb": kb,
        "operator_peak_rss_bytes": peak,
        "operator_rss_after_bytes": after,
        "operator_rss_before_restart_bytes": running_rss,
    });
    if !samples.is_empty() {
        let growth = samples.last().copied().unwrap_or(0) as i64 - samples[0] as i64;
        v["soak_minutes"] = json!(env.opts.soak_minutes);
        v["rss_samples"] = json!(samples);
        v["rss_growth_bytes"] = json!(growth);
    }
    Ok(v)
}
