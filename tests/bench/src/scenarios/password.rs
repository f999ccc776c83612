//! `password-latency`: E password Secret edits spread over the users, started at a steady
//! rate; for each, the time from the Secret write to the moment the Tyk emulator accepts the
//! new password.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::converge::round3;
use crate::env::Env;

/// An edit that has not landed after this long is reported as timed out.
const EDIT_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(5);

struct Pending {
    user: usize,
    password: String,
    started: Instant,
}

pub async fn run(env: &mut Env) -> anyhow::Result<Value> {
    super::ensure_converged(env).await?;
    let n = env.users;
    let edits = env.opts.edits;
    let gap = Duration::from_secs_f64(1.0 / env.opts.edit_rate.max(0.1));
    // Edit number per user: Tyk (and the emulator with history) may refuse a reused password.
    let mut generation = vec![0u32; n];
    let mut pending: Vec<Pending> = vec![];
    let mut latencies_ms: Vec<f64> = vec![];
    let mut timed_out = 0usize;
    let mut next = 0usize;
    let mut next_at = Instant::now();
    let start = Instant::now();
    let mut progress = crate::progress::Progress::new("password-latency", "edits landed");
    while next < edits || !pending.is_empty() {
        if next < edits && Instant::now() >= next_at {
            // Spread over the users: edit j goes to user j·n/E.
            let user = (next * n / edits.max(1)) % n;
            generation[user] += 1;
            let started = Instant::now();
            env.edit_password(user, generation[user]).await?;
            pending.push(Pending {
                user,
                password: Env::password(user, generation[user]),
                started,
            });
            next += 1;
            next_at += gap;
        }
        pending.retain(|p| {
            if env
                .tyk
                .check_password(&Env::email(p.user), &env.org, &p.password)
            {
                latencies_ms.push(p.started.elapsed().as_secs_f64() * 1000.0);
                false
            } else if p.started.elapsed() > EDIT_TIMEOUT {
                timed_out += 1;
                false
            } else {
                true
            }
        });
        progress.update(latencies_ms.len(), edits, start.elapsed());
        anyhow::ensure!(env.operator_alive(), "the operator exited during edits");
        tokio::time::sleep(POLL).await;
    }
    progress.done(latencies_ms.len(), edits, start.elapsed());
    latencies_ms.sort_by(f64::total_cmp);
    Ok(json!({
        "users": n,
        "edits": edits,
        "edit_rate_per_second": env.opts.edit_rate,
        "landed": latencies_ms.len(),
        "timed_out": timed_out,
        "p50_ms": round3(super::percentile(&latencies_ms, 50.0)),
        "p99_ms": round3(super::percentile(&latencies_ms, 99.0)),
        "max_ms": round3(latencies_ms.last().copied().unwrap_or(0.0)),
    }))
}
