//! What a figure means depends on where and how it was taken: the machine and the options
//! go into the JSON next to the figures.

use serde_json::{Value, json};

use crate::Opts;
use crate::env::Env;

pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_string))
        .unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": cpu,
        "memory_bytes": mem_kib * 1024,
        "load_average_1m_at_start": load,
        "started_unix": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    })
}

pub fn options(o: &Opts, env: &Env) -> Value {
    json!({
        "users": o.users,
        "latency_ms": o.latency_ms,
        "concurrency": o.concurrency,
        "max_requests": o.max_requests,
        "in_flight_dashboard_calls": crate::scenarios::in_flight(env),
        "converge_resync_period_seconds": o.converge_resync_period.as_secs_f64(),
        "resync_period_seconds": o.resync_period.as_secs_f64(),
        "unrelated_secrets": o.unrelated_secrets.unwrap_or(o.users),
        "unrelated_secret_kb": o.unrelated_secret_kb,
        "soak_minutes": o.soak_minutes,
        "edits": o.edits,
        "edit_rate": o.edit_rate,
        "baseline_sample": o.baseline_sample,
    })
}
