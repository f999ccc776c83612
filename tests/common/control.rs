//! The emulators' control APIs beyond what `users.rs` and `dashboard.rs` need: kube fault
//! knobs and controls, and the Tyk emulator's in-flight write gauge (reliability suite).

use anyhow::Context;
use serde_json::Value;

use super::{Env, http_client};

async fn get_json(url: String) -> anyhow::Result<Value> {
    Ok(http_client()
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

impl Env {
    /// `POST /__emulator/knobs` on the kube emulator (fault rates, watch churn, 410s).
    pub async fn kube_knobs(&self, body: &Value) -> anyhow::Result<()> {
        let base = self
            .kube_emu
            .as_ref()
            .context("needs the kube emulator")?
            .url();
        let r = http_client()
            .post(format!("{base}/__emulator/knobs"))
            .json(body)
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "knobs: HTTP {}", r.status());
        Ok(())
    }

    /// `POST /__emulator/<action>` on the kube emulator (`compact`, `drop-watches`).
    pub async fn kube_control(&self, action: &str) -> anyhow::Result<()> {
        let base = self
            .kube_emu
            .as_ref()
            .context("needs the kube emulator")?
            .url();
        let r = http_client()
            .post(format!("{base}/__emulator/{action}"))
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "{action}: HTTP {}", r.status());
        Ok(())
    }

    /// Mutating Dashboard requests being served right now.
    pub async fn tyk_in_flight_writes(&self) -> anyhow::Result<u64> {
        anyhow::ensure!(self.dashboard.is_emulator(), "needs the Tyk emulator");
        let v = get_json(format!("{}/__emulator/in-flight", self.dashboard.url)).await?;
        v["writes"].as_u64().context("in-flight writes")
    }
}
