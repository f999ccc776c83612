//! An in-memory Tyk Dashboard that answers like the real one, quirks included
//! (`docs/tyk-dashboard-api.md`; see this crate's README for every choice made where
//! that document marks [?]).
//!
//! ```no_run
//! # async fn f() -> anyhow::Result<()> {
//! use tyk_dashboard_emulator::{Settings, TykEmulator};
//! let emu = TykEmulator::start(Settings { admin_secret: "s3cret".into(), ..Default::default() }).await?;
//! let base = emu.url(); // "http://127.0.0.1:<port>"
//! # emu.shutdown().await; Ok(()) }
//! ```

mod auth;
mod control;
mod envelope;
mod faults;
mod gojson;
mod model;
mod passwords;
mod routes;
mod server;
mod settings;
mod state;

use std::net::SocketAddr;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use control::{StatsSnapshot, UserState};
pub use faults::{FaultKind, FaultRule, Faults};
pub use settings::{Profile, Settings, SettingsPatch};
pub use state::RequestRecord;

use state::{AppState, Shared};

/// A running emulator bound to 127.0.0.1. Dropping it stops the server as well.
pub struct TykEmulator {
    addr: SocketAddr,
    state: AppState,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl TykEmulator {
    /// Starts with no faults.
    pub async fn start(settings: Settings) -> anyhow::Result<TykEmulator> {
        Self::start_with_faults(settings, Faults::default()).await
    }

    pub async fn start_with_faults(
        settings: Settings,
        faults: Faults,
    ) -> anyhow::Result<TykEmulator> {
        faults.validate().map_err(anyhow::Error::msg)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.port)).await?;
        let addr = listener.local_addr()?;
        let state = Shared::new(settings, faults);
        let (stop, stopped) = watch::channel(false);
        let app = server::app(state.clone());
        let task = tokio::spawn(server::serve(listener, app, stopped));
        Ok(TykEmulator {
            addr,
            state,
            stop,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The current settings (a copy).
    pub fn settings(&self) -> Settings {
        self.state.settings()
    }

    /// Same as `POST /__emulator/settings`.
    pub fn update_settings(&self, patch: SettingsPatch) -> anyhow::Result<()> {
        self.state.patch_settings(patch).map_err(anyhow::Error::msg)
    }

    /// Same as `POST /__emulator/faults`: replaces the fault configuration.
    pub fn set_faults(&self, faults: Faults) -> anyhow::Result<()> {
        self.state.set_faults(faults).map_err(anyhow::Error::msg)
    }

    pub fn faults(&self) -> Faults {
        self.state.faults.lock().clone()
    }

    /// Same as `GET /__emulator/users`.
    pub fn users(&self) -> Vec<UserState> {
        self.state.users_state()
    }

    /// Same as `POST /__emulator/check-password`.
    pub fn check_password(&self, email: &str, org_id: &str, password: &str) -> bool {
        self.state.check_password(email, org_id, password)
    }

    /// Same as `GET /__emulator/stats`.
    pub fn stats(&self) -> StatsSnapshot {
        self.state.stats_snapshot()
    }

    /// Adds a user directly (no request, no write counted); empty `permissions` get the
    /// admin defaults `IsAdmin`+`ResetPassword`. Fails on a duplicate (org, email).
    pub fn seed_user(
        &self,
        org_id: &str,
        email: &str,
        permissions: &[(&str, &str)],
        active: bool,
    ) -> anyhow::Result<UserState> {
        self.state
            .seed_user(org_id, email, permissions, active)
            .map_err(anyhow::Error::msg)
    }

    /// Adds an organisation directly; returns its id.
    pub fn seed_org(&self, owner_name: &str) -> String {
        self.state.seed_org(owner_name)
    }

    /// Adds an active user group directly (no request, no write counted); returns its id.
    pub fn seed_group(&self, org_id: &str, name: &str, permissions: &[(&str, &str)]) -> String {
        self.state.seed_group(org_id, name, permissions)
    }

    /// Same as `GET /__emulator/requests`: every /admin and /api request so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state.stats.lock().log.clone()
    }

    /// Same as `POST /__emulator/reset`.
    pub fn reset(&self) {
        self.state.reset()
    }

    /// Stops accepting, ends open connections (including hung requests) and waits.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
