//! `converge`: N new users, each with a password Secret, applied in bulk; time until every
//! one is `Ready=True`, against the physical limit of the Dashboard round trip (for the calls
//! made, and for the calls a new user needs at least) and against a sequential bootstrap
//! loop; and what each user cost: Dashboard calls, Kubernetes requests, CPU time of the
//! operator and of the emulators.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::env::{Env, delta};
use crate::{baseline, cpu};

/// Lets the last reconciles finish their trailing writes (Events) before counting.
const SETTLE: Duration = Duration::from_secs(2);

/// Dashboard calls a new user needs at least on the bench's connection, which is in Admin
/// mode (it has an `adminSecretRef`): `POST /admin/users`, then the first password (the
/// self-reset). An API-key-only connection needs 1: the password travels in `POST
/// /api/users` (docs/backends.md).
const ADMIN_MODE_CALLS_FLOOR: u64 = 2;

pub async fn run(env: &mut Env) -> anyhow::Result<Value> {
    let n = env.opts.users;
    let first = env.users;
    let (k0, t0) = (env.kube_counts(), env.tyk_counts());
    let operator_pid = env.operator()?.pid();
    let (c0, w0) = (cpu::Sample::take(operator_pid)?, Instant::now());
    let mut samples = vec![(0.0, env.ready_users())];
    let elapsed = {
        let work = env.create_users(first, n);
        super::wait_ready(env, first + n, "converge", work, &mut samples).await?
    };
    // Within one 100 ms poll of the last Ready: what was busy while the users converged.
    let (c_ready, w_ready) = (cpu::Sample::take(operator_pid)?, w0.elapsed());
    env.users = first + n;
    tokio::time::sleep(SETTLE).await;
    let (k1, t1) = (env.kube_counts(), env.tyk_counts());
    let (c1, cpu_window) = (cpu::Sample::take(operator_pid)?, w0.elapsed());
    let (_, peak) = env.operator()?.rss()?;

    let seconds = elapsed.as_secs_f64();
    let calls = t1.calls - t0.calls;
    let calls_per_user = calls as f64 / n as f64;
    let in_flight = in_flight(env);
    let limit = |calls_per_user: f64| {
        n as f64 * calls_per_user * env.opts.latency_ms as f64 / 1000.0 / in_flight as f64
    };
    let limit_seconds = limit(calls_per_user);
    let floor_limit_seconds = limit(ADMIN_MODE_CALLS_FLOOR as f64);
    // Per user over the window of the request counts (first create to 2 s after the last
    // Ready, so trailing writes count); as average cores busy while converging (first
    // create to the last Ready), which is what says whether CPU binds.
    let cpu_ms = |before: u64, after: u64| cpu::ms(after.saturating_sub(before));
    let operator_ms = cpu_ms(c0.operator, c1.operator);
    let emulators_ms = cpu_ms(c0.emulators, c1.emulators);
    let driver_ms = cpu_ms(c0.bench_process, c1.bench_process) - emulators_ms;
    let converging_ms = w_ready.as_secs_f64() * 1000.0;
    let cores = |before: u64, after: u64| ratio(cpu_ms(before, after), converging_ms);
    eprintln!(
        "baseline: sequential create + set-password loop over HTTP (up to {} users)",
        env.opts.baseline_sample
    );
    let base = baseline::run(env, n, env.opts.baseline_sample).await?;
    Ok(json!({
        "users": n,
        "seconds": round3(seconds),
        "dashboard_calls": calls,
        "dashboard_calls_per_user": round3(calls_per_user),
        "kube_writes_per_user": round3((k1.writes - k0.writes) as f64 / n as f64),
        "kube_reads_per_user": round3((k1.reads - k0.reads) as f64 / n as f64),
        "in_flight_dashboard_calls": in_flight,
        "limit_seconds": round3(limit_seconds),
        "ratio": round3(ratio(seconds, limit_seconds)),
        "dashboard_calls_floor_per_user": ADMIN_MODE_CALLS_FLOOR,
        "floor_limit_seconds": round3(floor_limit_seconds),
        "floor_ratio": round3(ratio(seconds, floor_limit_seconds)),
        "operator_cpu_ms_per_user": round3(operator_ms / n as f64),
        "emulators_cpu_ms_per_user": round3(emulators_ms / n as f64),
        "bench_driver_cpu_ms_per_user": round3(driver_ms.max(0.0) / n as f64),
        "cpu_window_seconds": round3(cpu_window.as_secs_f64()),
        "operator_cpu_cores": round3(cores(c0.operator, c_ready.operator)),
        "emulators_cpu_cores": round3(cores(c0.emulators, c_ready.emulators)),
        "baseline_seconds": round3(base.seconds),
        "baseline_extrapolated": base.extrapolated,
        "baseline_sampled_users": base.sampled_users,
        "speedup": round3(ratio(base.seconds, seconds)),
        "operator_peak_rss_bytes": peak,
        "dashboard_calls_by_route": delta(&t0.by_route, &t1.by_route),
        "kube_writes_by_kind": delta(&k0.writes_by_kind, &k1.writes_by_kind),
        "kube_requests_by_verb_and_resource":
            delta(&k0.operator_requests, &k1.operator_requests),
        "ready_over_time": downsample(&samples, 400),
    }))
}

/// Dashboard calls the configuration lets be in flight at once: each reconcile makes its
/// calls one after another, so at most `--concurrency` reconciles, and the connection's
/// client admits at most `maxConcurrentRequests`.
pub fn in_flight(env: &Env) -> u32 {
    let c = env
        .opts
        .concurrency
        .unwrap_or_else(|| dashboard_user_operator::config::Config::defaults().concurrency);
    let m = env
        .opts
        .max_requests
        .unwrap_or(dashboard_user_operator::crd::DEFAULT_MAX_CONCURRENT_REQUESTS);
    u32::from(c).min(m).max(1)
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// At most `max` points, always keeping the last (the moment all were Ready).
fn downsample(samples: &[(f64, usize)], max: usize) -> Vec<[f64; 2]> {
    let step = samples.len().div_ceil(max).max(1);
    let mut out: Vec<[f64; 2]> = samples
        .iter()
        .step_by(step)
        .map(|&(t, r)| [round3(t), r as f64])
        .collect();
    if let Some(&(t, r)) = samples.last()
        && out.last().is_none_or(|l| l[0] != round3(t))
    {
        out.push([round3(t), r as f64]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_keeps_the_bounds_and_the_last_point() {
        let s: Vec<(f64, usize)> = (0..1000).map(|i| (i as f64 / 10.0, i)).collect();
        let d = downsample(&s, 100);
        assert!(d.len() <= 101, "{}", d.len());
        assert_eq!(d[0], [0.0, 0.0]);
        assert_eq!(*d.last().unwrap(), [99.9, 999.0]);
    }
}
