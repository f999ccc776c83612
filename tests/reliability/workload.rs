//! The workload every process-level scenario runs — N users with passwords, then password
//! edits, spec edits and deletions mixed in — and the checks against the Tyk emulator's
//! state afterwards: duplicates, orphans, missing users, access Secrets, passwords.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::json;

use crate::common::{Env, READY, kube, random_hex};

pub struct Member {
    pub name: String,
    pub email: String,
    pub password: String,
    /// Every password value written to the Secret (the first included).
    pub passwords: BTreeSet<String>,
    pub orphan: bool,
    pub deleted: bool,
}

#[derive(Default)]
pub struct Workload {
    pub members: BTreeMap<String, Member>,
}

/// What the checks found; every field should be 0 (see `Counts::problems`).
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub duplicates: usize,
    pub orphans: usize,
    pub missing: usize,
    pub key_mismatches: usize,
    pub passwords_refused: usize,
    pub passwords_resent: u64,
}

impl Counts {
    /// Everything that must be 0. Re-sent passwords are not in it: a crash after the
    /// Dashboard applied a password but before the fingerprint reached the status makes
    /// the next run send it again (at least once: the Dashboard cannot be asked whether a
    /// password is set); callers bound that count instead (docs/operations/reliability.md).
    pub fn problems(&self) -> usize {
        self.duplicates + self.orphans + self.missing + self.key_mismatches + self.passwords_refused
    }

    pub fn rows(&self, f: &mut crate::figures::Figures) {
        f.row("duplicate users", self.duplicates)
            .row("orphaned users", self.orphans)
            .row("missing users", self.missing)
            .row(
                "access Secrets not equal to the Dashboard key",
                self.key_mismatches,
            )
            .row(
                "passwords refused by check-password",
                self.passwords_refused,
            )
            .row(
                "passwords re-sent after being applied",
                self.passwords_resent,
            );
    }
}

/// Retries a test-side Kubernetes call: under injected 409/500 the harness's own writes fail
/// too, and a failed setup step must not end the scenario.
pub async fn retry<T, F, Fut>(what: &str, f: F) -> anyhow::Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut last = None;
    for _ in 0..40 {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last
        .unwrap_or_else(|| anyhow::anyhow!("no attempt"))
        .context(what.to_string()))
}

impl Workload {
    /// Creates `n` users, each with its own password Secret; every tenth has
    /// `deletionPolicy: Orphan` (left in the Dashboard when deleted, by design).
    pub async fn create(env: &Env, n: usize) -> anyhow::Result<Workload> {
        let mut w = Workload::default();
        for i in 0..n {
            let name = format!("u-{i}");
            let email = env.email(&name);
            let password = env.password();
            let orphan = i % 10 == 9;
            w.members.insert(
                name.clone(),
                Member {
                    name: name.clone(),
                    email,
                    password: password.clone(),
                    passwords: BTreeSet::from([password]),
                    orphan,
                    deleted: false,
                },
            );
            w.apply(env, &name).await?;
        }
        Ok(w)
    }

    async fn apply(&self, env: &Env, name: &str) -> anyhow::Result<()> {
        let m = &self.members[name];
        let secret = format!("pw-{name}");
        retry("password Secret", || env.put_password(&secret, &m.password)).await?;
        let mut u = env.user(name, &m.email);
        u["spec"]["passwordSecretRef"] = json!({"name": format!("pw-{name}")});
        u["spec"]["deletionPolicy"] = json!(if m.orphan { "Orphan" } else { "Delete" });
        retry("DashboardUser", || env.apply(&u)).await?;
        Ok(())
    }

    pub fn live(&self) -> impl Iterator<Item = &Member> {
        self.members.values().filter(|m| !m.deleted)
    }

    /// `count` random actions: a new password, a spec edit or (for at most a fifth of the
    /// users) a deletion.
    pub async fn mix(&mut self, env: &Env, count: usize) -> anyhow::Result<()> {
        for _ in 0..count {
            let live: Vec<String> = self.live().map(|m| m.name.clone()).collect();
            if live.is_empty() {
                return Ok(());
            }
            let (pick, action) = {
                let mut rng = rand::rng();
                (
                    live[rng.random_range(0..live.len())].clone(),
                    rng.random_range(0..6u8),
                )
            };
            let deleted = self.members.values().filter(|m| m.deleted).count();
            match action {
                0..=1 => {
                    let pw = env.password();
                    let m = self.members.get_mut(&pick).expect("member");
                    m.password = pw.clone();
                    m.passwords.insert(pw.clone());
                    let secret = format!("pw-{pick}");
                    retry("password edit", || env.put_password(&secret, &pw)).await?;
                }
                2..=4 => {
                    let patch = json!({"spec": {"firstName": format!("F-{}", random_hex(6))}});
                    retry("spec edit", || env.patch_user(&pick, &patch)).await?;
                }
                _ if deleted * 5 < self.members.len() => {
                    retry("delete", || env.delete_user(&pick)).await?;
                    self.members.get_mut(&pick).expect("member").deleted = true;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Waits until every live user is Ready=True/Synced at its generation and every deleted
    /// one is gone; returns how long it took.
    pub async fn converge(&self, env: &Env, deadline: Duration) -> anyhow::Result<Duration> {
        let start = Instant::now();
        loop {
            let last = match kube::list(&env.client, &kube::user_resource(), Some(&env.ns)).await {
                Ok(list) => self.unconverged(&list),
                Err(e) => format!("list failed: {e:#}"),
            };
            if last.is_empty() {
                return Ok(start.elapsed());
            }
            if start.elapsed() > deadline {
                anyhow::bail!(
                    "not converged after {:?}: {last}\n--- last operator log lines ---\n{}",
                    start.elapsed(),
                    env.logs.tail(30).join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn unconverged(&self, list: &[serde_json::Value]) -> String {
        let by_name: BTreeMap<&str, &serde_json::Value> = list
            .iter()
            .filter_map(|u| u["metadata"]["name"].as_str().map(|n| (n, u)))
            .collect();
        let mut bad = vec![];
        for m in self.members.values() {
            match (by_name.get(m.name.as_str()), m.deleted) {
                (Some(_), true) => bad.push(format!("{} not yet deleted", m.name)),
                (None, false) => bad.push(format!("{} missing", m.name)),
                (Some(u), false) => {
                    let ready = kube::condition(u, READY);
                    let observed = u["status"]["observedGeneration"] == u["metadata"]["generation"];
                    if !matches!(&ready, Some((s, r, _)) if s == "True" && r == "Synced")
                        || !observed
                    {
                        bad.push(format!("{}: {}", m.name, kube::conditions_summary(u)));
                    }
                }
                (None, true) => {}
            }
        }
        let n = bad.len();
        bad.truncate(5);
        if n == 0 {
            String::new()
        } else {
            format!("{n} users, e.g. {}", bad.join("; "))
        }
    }

    /// Compares the Dashboard with the workload (emulator state, so exact).
    pub async fn check(&self, env: &Env) -> anyhow::Result<Counts> {
        let remote = env.dashboard.emu_users().await?;
        let mut by_email: BTreeMap<String, Vec<&serde_json::Value>> = BTreeMap::new();
        for u in &remote {
            let email = u["email_address"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase();
            by_email.entry(email).or_default().push(u);
        }
        let mut c = Counts {
            duplicates: by_email
                .values()
                .filter(|v| v.len() > 1)
                .map(|v| v.len() - 1)
                .sum(),
            ..Default::default()
        };
        let known: BTreeMap<String, &Member> = self
            .members
            .values()
            .map(|m| (m.email.to_lowercase(), m))
            .collect();
        for email in by_email.keys() {
            let allowed = match known.get(email) {
                Some(m) => !m.deleted || m.orphan,
                // The harness's own admin user.
                None => email.starts_with("e2e-admin-"),
            };
            if !allowed {
                c.orphans += 1;
            }
        }
        for m in self.live() {
            let Some(u) = by_email
                .get(&m.email.to_lowercase())
                .and_then(|v| v.first())
            else {
                c.missing += 1;
                continue;
            };
            let secret = env.secret(&format!("{}-dashboard-access", m.name)).await?;
            let published = secret
                .as_ref()
                .and_then(|s| kube::secret_str(s, "accessKey"));
            if let Some(k) = &published {
                env.corpus.secret(k);
            }
            if published.as_deref() != u["access_key"].as_str() {
                c.key_mismatches += 1;
            }
            if !env.check_password(&m.email, &m.password).await? {
                c.passwords_refused += 1;
            }
            // Each distinct password is applied at most once; more sets are re-sends.
            let sets = u["password_sets"].as_u64().unwrap_or_default();
            c.passwords_resent += sets.saturating_sub(m.passwords.len() as u64);
        }
        Ok(c)
    }
}
