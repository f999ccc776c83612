//! Teardown: the secret scan over what the test produced, the operator's request log for the
//! RBAC check, and cleanup (on real targets, through the operator so no finalizer is left).

use super::{Env, corpus, kube, wait};

impl Env {
    // ---- teardown ----

    /// Collects the corpus (statuses were watched all along; now Events, metrics, the
    /// emulator's access keys and the operator's log), stops the operator with SIGTERM,
    /// records its requests for the RBAC check, scans for secrets and shuts everything down.
    /// Fails the test on any leak.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        self.finished = true;
        if !(self.is_emulated_cluster() && self.is_emulated_dashboard()) {
            self.remove_users().await?;
        }
        if let Some(op) = &self.operator
            && let Ok(m) = op.metrics().await
        {
            self.corpus.text("metrics", m);
        }
        for e in kube::all_events(&self.client).await? {
            let src = format!("event {}", e["reason"].as_str().unwrap_or(""));
            self.corpus.text(src, e.to_string());
        }
        for ar in [
            kube::user_resource(),
            kube::group_resource(),
            kube::connection_resource(),
            kube::cluster_connection_resource(),
        ] {
            for o in kube::list(&self.client, &ar, None).await? {
                self.corpus
                    .text(format!("status of {}", ar.kind), o["status"].to_string());
            }
        }
        if self.dashboard.is_emulator() {
            for u in self.dashboard.emu_users().await.unwrap_or_default() {
                if let Some(k) = u["access_key"].as_str() {
                    self.corpus.secret(k);
                }
            }
        }
        self.stop_operator().await?;
        for w in self.watchers.drain(..) {
            w.abort();
        }
        for (i, line) in self.logs.all().into_iter().enumerate() {
            self.corpus.text(format!("operator log line {i}"), line);
        }
        if self.kube_emu.is_some() {
            let reqs = self.kube_requests().await?;
            corpus::record_operator_requests(&reqs)?;
        }
        let findings = self.corpus.scan();
        eprintln!(
            "{}: secret scan of {} texts (logs, Events, statuses, metrics) for {} credentials: {} finding(s)",
            self.test,
            self.corpus.texts_len(),
            self.corpus.secrets_len(),
            findings.len()
        );
        if let Some(emu) = self.kube_emu.take() {
            emu.shutdown().await;
        }
        self.dashboard.shutdown().await;
        if self.kube_emu.is_none() && std::env::var_os("KUBECONFIG").is_some() {
            for ns in &self.namespaces {
                let api: ::kube::Api<k8s_openapi::api::core::v1::Namespace> =
                    ::kube::Api::all(self.client.clone());
                let _ = api.delete(ns, &Default::default()).await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        anyhow::ensure!(
            findings.is_empty(),
            "{} secret leak(s):\n{}",
            findings.len(),
            findings
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        Ok(())
    }

    /// On real targets nothing vanishes with the test: delete every DashboardUser of the
    /// test's namespaces while an operator runs, so their Dashboard users go (default policy)
    /// and no finalizer is left to block the namespaces' deletion.
    async fn remove_users(&mut self) -> anyhow::Result<()> {
        if self.operator.is_none() {
            self.start_operator().await?;
        }
        // Users first: a group is held while users still name it.
        for ar in [kube::user_resource(), kube::group_resource()] {
            self.remove_all(&ar).await?;
        }
        Ok(())
    }

    async fn remove_all(&mut self, ar: &::kube::core::ApiResource) -> anyhow::Result<()> {
        let ar = ar.clone();
        for ns in self.namespaces.clone() {
            for u in kube::list(&self.client, &ar, Some(&ns)).await? {
                let name = u["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                kube::delete(&self.client, &ar, Some(&ns), &name).await?;
            }
            let client = self.client.clone();
            wait::until(&format!("{} objects in {ns} removed", ar.kind), || {
                let (client, ar, ns) = (client.clone(), ar.clone(), ns.clone());
                async move {
                    let left = kube::list(&client, &ar, Some(&ns))
                        .await
                        .map_err(|e| e.to_string())?;
                    if left.is_empty() {
                        Ok(())
                    } else {
                        Err(format!("{} left", left.len()))
                    }
                }
            })
            .await?;
        }
        Ok(())
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for w in &self.watchers {
            w.abort();
        }
        if !self.finished && !self.logs.is_empty() {
            // The test failed before teardown: show what the operator was doing.
            eprintln!("--- {}: last operator log lines ---", self.test);
            for l in self.logs.tail(60) {
                eprintln!("{l}");
            }
        }
        // The operator child is killed by `kill_on_drop`; the emulators stop with the runtime.
    }
}
