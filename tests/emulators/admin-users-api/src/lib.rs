//! An in-memory admin users API: the documented `POST /api/admin/users/` and the inferred
//! read, list, update, password and delete routes (this crate's README has the table), with
//! FastAPI's exact answer shapes and a `/__emulator/` control API.
//!
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! use admin_users_emulator::{AdminUsersEmulator, Settings};
//! let emu = AdminUsersEmulator::start(Settings { token: "T".into(), ..Default::default() }).await?;
//! let base = emu.api_url(); // "http://127.0.0.1:<port>/api"
//! # emu.shutdown().await; Ok(()) }
//! ```

mod control;
mod model;
mod routes;
mod state;
mod validate;

use std::net::SocketAddr;

use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use control::{Seed, UserState};
pub use model::Role;
pub use routes::{COLLECTION, ITEM, PASSWORD};
pub use state::{FaultRule, RequestRecord, Settings};

use state::AppState;

/// A running emulator bound to 127.0.0.1. Dropping it stops the server as well.
pub struct AdminUsersEmulator {
    addr: SocketAddr,
    state: AppState,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

pub fn app(st: AppState) -> Router {
    control::router().fallback(routes::api).with_state(st)
}

impl AdminUsersEmulator {
    pub async fn start(settings: Settings) -> anyhow::Result<AdminUsersEmulator> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.port)).await?;
        let addr = listener.local_addr()?;
        let state = state::new(settings);
        let (stop, mut stopped) = watch::channel(false);
        let app = app(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.changed().await;
                })
                .await;
        });
        Ok(AdminUsersEmulator {
            addr,
            state,
            stop,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>`: the control API lives below it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:<port>/api`: the base URL a connection names.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.url())
    }

    pub fn users(&self) -> Vec<UserState> {
        self.state.users_state()
    }

    pub fn seed_user(&self, s: Seed) -> Result<UserState, String> {
        self.state.seed(s)
    }

    pub fn check_password(&self, username: &str, password: &str) -> bool {
        self.state.check_password(username, password)
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state.stats.lock().log.clone()
    }

    /// Successful non-GET calls on `/api`.
    pub fn writes(&self) -> u64 {
        self.state.stats.lock().writes
    }

    pub fn add_fault(&self, rule: FaultRule) {
        self.state.faults.lock().push(rule);
    }

    pub fn clear_faults(&self) {
        self.state.faults.lock().clear();
    }

    pub fn update_settings(&self, f: impl FnOnce(&mut Settings)) {
        f(&mut self.state.settings.lock());
    }

    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for AdminUsersEmulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
