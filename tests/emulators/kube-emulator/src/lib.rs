//! An in-memory Kubernetes API server that real clients (kube-rs, kubectl, Helm) accept
//! unchanged. The wire behaviour it reproduces is described in
//! `docs/kubernetes-api.md`; each module cites the section it follows.

// Handlers return `Result<_, ApiError>` everywhere; the error is a full Status body and boxing
// it would only add noise on a test server.
#![allow(clippy::result_large_err)]

pub mod apply;
pub mod builtins;
pub mod control;
pub mod crd;
pub mod datamaps;
pub mod decode;
pub mod delete;
pub mod discovery;
pub mod discovery_routes;
pub mod events;
pub mod gc;
pub mod knobs;
pub mod meta;
pub mod namespaces;
pub mod openapi;
pub mod patch;
pub mod patching;
pub mod protobuf;
pub mod read;
pub mod registry;
pub mod request;
pub mod scale;
pub mod schema;
pub mod schema_hooks;
pub mod selectors;
pub mod server;
pub mod ssa;
pub mod status;
pub mod store;
pub mod table;
pub mod typed;
pub mod watch;
pub mod write;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{Notify, watch as tokio_watch};
use tokio::task::JoinHandle;

pub use knobs::Knobs;
pub use registry::{PrinterColumn, Registry, ResourceType};

/// How to start an emulator.
#[derive(Clone, Debug)]
pub struct Options {
    /// 0 picks a free port.
    pub port: u16,
    pub knobs: Knobs,
    /// Watch events kept for resumes; older resumes get 410 (docs/kubernetes-api.md §2.1).
    pub history_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 0,
            knobs: Knobs::default(),
            history_size: 20_000,
        }
    }
}

/// Everything a request handler may touch under one lock: objects and the type registry
/// change together (a CRD create registers its type atomically).
pub struct State {
    pub store: store::Store,
    pub registry: Registry,
}

/// Shared between the HTTP handlers and the background controllers.
pub struct Shared {
    pub state: Mutex<State>,
    pub knobs: Mutex<Knobs>,
    pub log: Mutex<control::RequestLog>,
    /// Woken after deletions so the garbage collector / namespace controller run.
    pub gc_wake: Notify,
    pub shutdown: tokio_watch::Receiver<bool>,
}

impl Shared {
    pub fn new(opts: &Options, shutdown: tokio_watch::Receiver<bool>) -> Arc<Shared> {
        let mut st = State {
            store: store::Store::new(opts.history_size),
            registry: Registry::with_builtins(),
        };
        namespaces::bootstrap(&mut st);
        Arc::new(Shared {
            state: Mutex::new(st),
            knobs: Mutex::new(opts.knobs.clone()),
            log: Mutex::new(control::RequestLog::default()),
            gc_wake: Notify::new(),
            shutdown,
        })
    }
}

/// A running emulator bound to 127.0.0.1.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown_tx: tokio_watch::Sender<bool>,
    server: JoinHandle<()>,
    background: JoinHandle<()>,
}

impl Emulator {
    pub async fn start(opts: Options) -> anyhow::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
        let addr = listener.local_addr()?;
        let (shutdown_tx, shutdown_rx) = tokio_watch::channel(false);
        let shared = Shared::new(&opts, shutdown_rx.clone());
        let app = server::router(shared.clone());
        let stop = shutdown_rx.clone();
        // Watch events are small writes; without TCP_NODELAY, Nagle + delayed ACK can hold
        // one back ~40 ms, which would make the emulator the bottleneck of watch latency.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = tokio::spawn(async move {
            let res = axum::serve(listener, app)
                .with_graceful_shutdown(stopped(stop))
                .await;
            if let Err(e) = res {
                tracing::error!(error = %e, "kube-emulator server failed");
            }
        });
        let background = tokio::spawn(gc::run(shared.clone()));
        Ok(Emulator {
            addr,
            shared,
            shutdown_tx,
            server,
            background,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Shared state, for in-process tests that need to look behind the API.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Plain http, no auth, default namespace `default`.
    pub fn kube_config(&self) -> kube::Config {
        let mut c = kube::Config::new(self.url().parse().expect("emulator url is a valid uri"));
        c.default_namespace = "default".to_string();
        c
    }

    pub async fn client(&self) -> kube::Client {
        kube::Client::try_from(self.kube_config()).expect("kube client for the emulator")
    }

    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, kubeconfig_yaml(&self.url()))
    }

    /// Stops serving: watches end, in-flight requests finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown_tx.send(true);
        let _ = self.server.await;
        self.background.abort();
        let _ = self.background.await;
    }
}

/// A kubeconfig naming the emulator as the only cluster, context and (anonymous) user.
pub fn kubeconfig_yaml(url: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: kube-emulator
  cluster:
    server: {url}
users:
- name: kube-emulator
  user: {{}}
contexts:
- name: kube-emulator
  context:
    cluster: kube-emulator
    user: kube-emulator
    namespace: default
current-context: kube-emulator
preferences: {{}}
"
    )
}

/// Resolves once shutdown was requested (or the sender is gone).
pub async fn stopped(mut rx: tokio_watch::Receiver<bool>) {
    loop {
        if *rx.borrow() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}
