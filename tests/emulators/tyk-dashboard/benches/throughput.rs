//! Prints the emulator's throughput for the calls a reconciler makes most, so a slow emulator
//! is noticed before it slows the e2e suite. Figures only; no assertion on time.
//!
//! `cargo bench -p tyk-dashboard-emulator --bench throughput [-- <users> <concurrency>]`

use std::time::{Duration, Instant};

use serde_json::json;
use tyk_dashboard_emulator::{Settings, TykEmulator};

const SECRET: &str = "bench-secret";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let users: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let conc: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(8);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emu = TykEmulator::start(Settings {
        admin_secret: SECRET.into(),
        ..Default::default()
    })
    .await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(conc)
        .build()?;
    let org = emu.seed_org("bench");
    let admin = emu.seed_user(&org, "bench-admin@x.org", &[("IsAdmin", "admin")], true)?;
    let base = emu.url();

    let (took, ids) = run(users, conc, |i| {
        let (c, base, org) = (client.clone(), base.clone(), org.clone());
        async move {
            let body =
                json!({"org_id": org, "email_address": format!("u{i}@x.org"), "active": true});
            let r = c
                .post(format!("{base}/admin/users"))
                .header("admin-auth", SECRET)
                .body(body.to_string())
                .send()
                .await?;
            let v: serde_json::Value = r.json().await?;
            Ok(v["Meta"]["id"].as_str().unwrap_or_default().to_string())
        }
    })
    .await?;
    report("POST /admin/users", users, took);

    let (took, _) = run(users, conc, |i| {
        let (c, base, id) = (client.clone(), base.clone(), ids[i].clone());
        async move {
            let r = c
                .get(format!("{base}/admin/users/{id}"))
                .header("admin-auth", SECRET)
                .send()
                .await?;
            Ok(r.bytes().await?.len().to_string())
        }
    })
    .await?;
    report("GET /admin/users/{id}", users, took);

    let lists = (users / 10).max(10);
    let (took, _) = run(lists, conc, |_| {
        let (c, base, key) = (client.clone(), base.clone(), admin.access_key.clone());
        async move {
            let r = c
                .post(format!("{base}/api/users/search?p=-1"))
                .header("Authorization", key)
                .body(r#"{"filters":{"query":"u1"}}"#)
                .send()
                .await?;
            Ok(r.bytes().await?.len().to_string())
        }
    })
    .await?;
    report(
        &format!("POST /api/users/search ({users} users)"),
        lists,
        took,
    );

    emu.shutdown().await;
    Ok(())
}

/// Runs `n` calls of `f`, at most `conc` at a time; returns the elapsed time and the outputs.
async fn run<F, Fut>(n: usize, conc: usize, f: F) -> anyhow::Result<(Duration, Vec<String>)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<String>>,
{
    use futures::stream::{self, StreamExt, TryStreamExt};
    let start = Instant::now();
    let out: Vec<String> = stream::iter((0..n).map(&f))
        .buffered(conc)
        .try_collect()
        .await?;
    Ok((start.elapsed(), out))
}

fn report(what: &str, n: usize, took: Duration) {
    let rate = n as f64 / took.as_secs_f64().max(1e-9);
    println!(
        "{what:<45} {n:>7} calls  {:>9.1} ms  {rate:>9.0} req/s",
        took.as_secs_f64() * 1e3
    );
}
