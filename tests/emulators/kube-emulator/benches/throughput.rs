//! Emulator throughput figures (not a test; nothing here asserts on time).
//!
//! `cargo bench -p kube-emulator --bench throughput` prints: sequential and concurrent
//! writes/s, the time to list 10,000 objects unpaged and in pages of 500 (full and
//! metadata-only), and watch fan-out latency (N watchers, one write).

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": {"bench": "yes"}}, "data": {"k": "v"}}),
    )
    .unwrap()
}

async fn namespace(client: &kube::Client, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
}

fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

async fn writes(client: &kube::Client) {
    namespace(client, "bench-writes").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "bench-writes");
    let n = 2000;
    let start = Instant::now();
    for i in 0..n {
        api.create(&PostParams::default(), &cm(&format!("seq-{i}")))
            .await
            .unwrap();
    }
    println!(
        "writes (sequential creates):      {:>8.0} /s  ({n} in {:?})",
        per_sec(n, start.elapsed()),
        start.elapsed()
    );
    let start = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &cm(&format!("par-{i}")))
                    .await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    println!(
        "writes (16 concurrent creates):   {:>8.0} /s  ({n} in {:?})",
        per_sec(n, start.elapsed()),
        start.elapsed()
    );
}

async fn lists(client: &kube::Client) {
    namespace(client, "bench-list").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "bench-list");
    stream::iter(0..10_000)
        .map(|i| {
            let api = api.clone();
            async move {
                api.create(&PostParams::default(), &cm(&format!("o-{i:05}")))
                    .await
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let start = Instant::now();
    let all = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), 10_000);
    println!(
        "list 10,000 unpaged:              {:>8.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let start = Instant::now();
    let mut lp = ListParams::default().limit(500);
    let mut n = 0;
    loop {
        let page = api.list(&lp).await.unwrap();
        n += page.items.len();
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    assert_eq!(n, 10_000);
    println!(
        "list 10,000 in pages of 500:      {:>8.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let start = Instant::now();
    let meta = api.list_metadata(&ListParams::default()).await.unwrap();
    assert_eq!(meta.items.len(), 10_000);
    println!(
        "list 10,000 metadata-only:        {:>8.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
}

async fn fan_out(client: &kube::Client, watchers: usize) {
    let ns = format!("bench-watch-{watchers}");
    namespace(client, &ns).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let rv = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut streams = Vec::new();
    for _ in 0..watchers {
        streams.push(
            api.watch(&WatchParams::default(), &rv)
                .await
                .unwrap()
                .boxed(),
        );
    }
    let mut latencies = Vec::new();
    for round in 0..5 {
        let start = Instant::now();
        api.create(&PostParams::default(), &cm(&format!("w-{round}")))
            .await
            .unwrap();
        let waits = streams.iter_mut().map(|s| async move {
            loop {
                match s.try_next().await.unwrap().expect("open") {
                    WatchEvent::Added(_) => return start.elapsed(),
                    _ => continue,
                }
            }
        });
        let all = futures::future::join_all(waits).await;
        latencies.push(*all.iter().max().unwrap());
    }
    latencies.sort();
    println!(
        "watch fan-out {watchers:>4} watchers:       median {:>7.2} ms, worst {:>7.2} ms (write → last watcher, 5 writes)",
        latencies[2].as_secs_f64() * 1e3,
        latencies[4].as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let emu = kube_emulator::Emulator::start(kube_emulator::Options::default())
        .await
        .unwrap();
    let client = emu.client().await;
    println!(
        "kube-emulator bench at {} ({} CPUs)",
        emu.url(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    writes(&client).await;
    lists(&client).await;
    for n in [1, 10, 100] {
        fan_out(&client, n).await;
    }
    emu.shutdown().await;
}
