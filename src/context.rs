//! The one shared state every reconcile gets.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, OnceLock},
    time::{Duration, SystemTime},
};

use kube::{
    Client, ResourceExt,
    runtime::{events::Recorder, reflector::Store},
};
use parking_lot::Mutex;
use rand::Rng;

use crate::claims::{self, Claim};
use crate::config::Config;
use crate::connection::{ClientCache, Resolver};
use crate::crd::{DashboardUser, DashboardUserGroup};
use crate::metrics::Metrics;
use crate::reconcile::fingerprint::FingerprintKey;
use crate::reconcile::plan::confirmation::Confirmation;
use crate::resync::{Pace, phase_resync};
use crate::secrets::{self, SecretError};

const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

pub struct Context {
    pub client: Client,
    pub config: Config,
    pub recorder: Recorder,
    pub metrics: Arc<Metrics>,
    pub clients: ClientCache,
    /// This process's replica id (see `Config::replica_id`), sent with every Dashboard request.
    pub replica: String,
    fingerprint_key: tokio::sync::OnceCell<FingerprintKey>,
    /// Consecutive failures per object (`ns/name`), for exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
    /// Maps password Secret events to the users reading them.
    password_index: Mutex<PasswordIndex>,
    /// Per user uid: the last reconcile that found it in line (plan::confirmation).
    confirmations: Mutex<HashMap<String, Confirmation>>,
    /// Maps events of access Secrets the operator may not write to the users naming them.
    foreign_index: Mutex<PasswordIndex>,
    /// The users cache, once the controller exists (for "is this id claimed?" checks).
    pub users: OnceLock<Store<DashboardUser>>,
    /// The groups cache, once its controller exists (for "is this group id claimed?").
    pub groups: OnceLock<Store<DashboardUserGroup>>,
    /// Resync pacing of the users and the groups controllers (see crate::resync).
    user_pace: Pace,
    group_pace: Pace,
}

impl Context {
    pub fn new(client: Client, config: Config, recorder: Recorder, metrics: Arc<Metrics>) -> Self {
        for controller in [crate::reconcile::CONTROLLER, crate::group::CONTROLLER] {
            metrics.resync_period(controller, config.resync_period);
        }
        Self {
            client,
            config: config.clone(),
            recorder,
            metrics,
            clients: ClientCache::default(),
            replica: config
                .replica_id
                .clone()
                .unwrap_or_else(crate::dashboard::default_replica_id),
            fingerprint_key: tokio::sync::OnceCell::new(),
            failures: Mutex::default(),
            password_index: Mutex::default(),
            foreign_index: Mutex::default(),
            confirmations: Mutex::default(),
            users: OnceLock::new(),
            groups: OnceLock::new(),
            user_pace: Pace::new(config.resync_period, config.concurrency),
            group_pace: Pace::new(config.resync_period, config.concurrency),
        }
    }

    pub fn resolver(&self) -> Resolver<'_> {
        Resolver {
            client: &self.client,
            operator_namespace: &self.config.operator_namespace,
            cache: &self.clients,
            metrics: &self.metrics,
            replica: Some(&self.replica),
            fresh_key_owner: false,
        }
    }

    /// Loaded once per process from the operator namespace (created on first use).
    pub async fn fingerprint_key(&self) -> Result<&FingerprintKey, SecretError> {
        self.fingerprint_key
            .get_or_try_init(|| {
                secrets::load_or_create_fingerprint_key(
                    &self.client,
                    &self.config.operator_namespace,
                )
            })
            .await
    }

    /// Records a failure and returns how long to wait: 1 s doubling to 60 s, ±10 %.
    pub fn backoff(&self, key: &str) -> Duration {
        let mut f = self.failures.lock();
        let n = f.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        let exp = BACKOFF_BASE.saturating_mul(1u32 << (*n - 1).min(16));
        jitter(exp.min(BACKOFF_MAX))
    }

    pub fn succeeded(&self, key: &str) {
        self.failures.lock().remove(key);
    }

    /// How long until object `key` of `controller` is next re-read for drift: at its phase
    /// of the resync period, stretched while the resyncs would crowd out new work.
    pub fn resync(&self, controller: &'static str, key: &str) -> Duration {
        let (pace, objects) = self.pace(controller);
        let p = pace.period(objects);
        if p.changed {
            self.metrics.resync_period(controller, p.period);
            tracing::info!(
                controller,
                objects,
                configured_s = self.config.resync_period.as_secs_f64(),
                period_s = p.period.as_secs_f64(),
                mean_reconcile_ms = p.mean.as_millis() as u64,
                slots = self.config.concurrency,
                "resync period changed: drift checks may take at most half of the reconcile slots"
            );
        }
        phase_resync(p.period, key, SystemTime::now())
    }

    /// Feeds a reconcile's duration into its controller's resync pacing.
    pub fn reconciled(&self, controller: &'static str, took: Duration) {
        self.pace(controller).0.observe(took);
    }

    fn pace(&self, controller: &str) -> (&Pace, usize) {
        if controller == crate::group::CONTROLLER {
            (&self.group_pace, self.groups.get().map_or(0, Store::len))
        } else {
            (&self.user_pace, self.users.get().map_or(0, Store::len))
        }
    }

    /// Remembers which password Secret `user` reads (or none).
    pub fn index_password_secret(&self, user: &DashboardUser) {
        let ns = user.namespace().unwrap_or_default();
        let secret = user
            .spec
            .password_secret_ref
            .as_ref()
            .filter(|_| user.metadata.deletion_timestamp.is_none())
            .map(|r| r.name.clone());
        self.password_index.lock().set(ns, user.name_any(), secret);
    }

    /// Users (names, in `namespace`) waiting on the Secret `name`: as their password, or as
    /// an access Secret they may not write.
    pub fn users_of_password_secret(&self, namespace: &str, name: &str) -> Vec<String> {
        let key = (namespace.to_string(), name.to_string());
        let mut users: BTreeSet<String> = BTreeSet::new();
        for index in [&self.password_index, &self.foreign_index] {
            if let Some(s) = index.lock().by_secret.get(&key) {
                users.extend(s.iter().cloned());
            }
        }
        users.into_iter().collect()
    }

    /// Does another DashboardUser record `user_id` on `dashboard` (crate::claims)?
    pub fn user_id_claimed(&self, me: &DashboardUser, dashboard: &str, user_id: &str) -> bool {
        let Some(store) = self.users.get() else {
            return false;
        };
        let all = store.state();
        claims::held_by_other(
            recording(&all, user_id).map(Claim::of_user),
            &Claim::of_user(me),
            user_id,
            dashboard,
        )
    }

    /// Does an earlier DashboardUser record the id `me` records (crate::claims)?
    pub fn user_id_held_before(&self, me: &DashboardUser, dashboard: &str) -> bool {
        let Some(store) = self.users.get() else {
            return false;
        };
        let Some(id) = me.status.as_ref().and_then(|s| s.user_id.as_deref()) else {
            return false;
        };
        let all = store.state();
        claims::held_before(
            recording(&all, id).map(Claim::of_user),
            &Claim::of_user(me),
            dashboard,
        )
    }

    pub fn confirmation(&self, uid: &str) -> Option<Confirmation> {
        self.confirmations.lock().get(uid).copied()
    }

    pub fn confirm(&self, uid: &str, c: Confirmation) {
        self.confirmations.lock().insert(uid.to_string(), c);
    }

    pub fn forget_confirmation(&self, uid: &str) {
        self.confirmations.lock().remove(uid);
    }

    /// Reconciles `user` when the Secret `name` of its namespace changes: an access Secret
    /// it may not write (someone else's) is waited on like a password Secret.
    pub fn watch_foreign_secret(&self, user: &DashboardUser, name: Option<String>) {
        let ns = user.namespace().unwrap_or_default();
        let name = name.filter(|_| user.metadata.deletion_timestamp.is_none());
        self.foreign_index.lock().set(ns, user.name_any(), name);
    }
}

/// The users recording `id`: a cheap filter first, since every Dashboard write asks and
/// a claim compares allocated names (10,000 users, docs/operations/performance.md).
fn recording<'a>(
    all: &'a [Arc<DashboardUser>],
    id: &'a str,
) -> impl Iterator<Item = &'a DashboardUser> {
    all.iter()
        .map(|u| u.as_ref())
        .filter(move |u| u.status.as_ref().and_then(|s| s.user_id.as_deref()) == Some(id))
}

/// Both directions, so that re-indexing one user costs O(log n) rather than a scan of
/// every entry: every reconcile re-indexes, and with 10,000 users a scan made the index
/// a measurable share of the operator's CPU (docs/operations/performance.md).
#[derive(Default)]
struct PasswordIndex {
    /// (namespace, Secret name) → users reading it.
    by_secret: HashMap<(String, String), BTreeSet<String>>,
    /// (namespace, user name) → the Secret it reads.
    by_user: HashMap<(String, String), String>,
}

impl PasswordIndex {
    fn set(&mut self, ns: String, user: String, secret: Option<String>) {
        let key = (ns, user);
        let old = match &secret {
            Some(s) => self.by_user.insert(key.clone(), s.clone()),
            None => self.by_user.remove(&key),
        };
        if old == secret {
            return;
        }
        if let Some(old) = old {
            let skey = (key.0.clone(), old);
            if let Some(users) = self.by_secret.get_mut(&skey) {
                users.remove(&key.1);
                if users.is_empty() {
                    self.by_secret.remove(&skey);
                }
            }
        }
        if let Some(s) = secret {
            self.by_secret.entry((key.0, s)).or_default().insert(key.1);
        }
    }
}

impl Context {
    /// Dashboard group ids that other `DashboardUserGroup`s record on `dashboard`.
    pub fn group_ids_claimed(&self, me: &DashboardUserGroup, dashboard: &str) -> BTreeSet<String> {
        let Some(store) = self.groups.get() else {
            return BTreeSet::new();
        };
        let all = store.state();
        claims::ids_held_by_others(
            all.iter().map(|g| Claim::of_group(g)),
            &Claim::of_group(me),
            dashboard,
        )
    }

    /// Does an earlier DashboardUserGroup record the group id `me` records?
    pub fn group_id_held_before(&self, me: &DashboardUserGroup, dashboard: &str) -> bool {
        let Some(store) = self.groups.get() else {
            return false;
        };
        let all = store.state();
        claims::held_before(
            all.iter().map(|g| Claim::of_group(g)),
            &Claim::of_group(me),
            dashboard,
        )
    }

    /// Users (names) in `namespace`, not being deleted, whose `groupRef` names `group`.
    pub fn users_of_group(&self, namespace: &str, group: &str) -> Vec<String> {
        let Some(store) = self.users.get() else {
            return vec![];
        };
        let mut names: Vec<String> = store
            .state()
            .iter()
            .filter(|u| {
                u.namespace().as_deref() == Some(namespace)
                    && u.metadata.deletion_timestamp.is_none()
                    && u.spec.group_ref.as_ref().is_some_and(|r| r.name == group)
            })
            .map(|u| u.name_any())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

fn jitter(d: Duration) -> Duration {
    let f = rand::rng().random_range(0.9..=1.1);
    d.mul_f64(f)
}

#[cfg(test)]
mod tests {
    use kube::runtime::events::Reporter;

    use super::*;
    use crate::crd::DashboardUser;

    fn ctx() -> Context {
        let client =
            Client::try_from(kube::Config::new("http://127.0.0.1:9".parse().unwrap())).unwrap();
        let recorder = Recorder::new(
            client.clone(),
            Reporter {
                controller: "test".into(),
                instance: None,
            },
        );
        Context::new(client, Config::defaults(), recorder, Arc::default())
    }

    #[tokio::test]
    async fn backoff_doubles_caps_and_resets() {
        let c = ctx();
        let waits: Vec<Duration> = (0..10).map(|_| c.backoff("ns/u")).collect();
        assert!(waits[0] <= Duration::from_millis(1100));
        assert!(waits[3] >= Duration::from_millis(7200) && waits[3] <= Duration::from_millis(8800));
        assert!(
            waits[9] <= BACKOFF_MAX.mul_f64(1.1),
            "capped: {:?}",
            waits[9]
        );
        assert!(
            c.backoff("ns/other") <= Duration::from_millis(1100),
            "per object"
        );
        c.succeeded("ns/u");
        assert!(
            c.backoff("ns/u") <= Duration::from_millis(1100),
            "reset after success"
        );
    }

    #[tokio::test]
    async fn password_index_follows_the_spec() {
        let c = ctx();
        let alice = DashboardUser::test().with_password_ref("pw-a");
        c.index_password_secret(&alice);
        assert_eq!(
            c.users_of_password_secret("default", "pw-a"),
            vec!["alice".to_string()]
        );
        // Pointing at another Secret moves the entry; other namespaces are unaffected.
        let mut other_ns = DashboardUser::test().with_password_ref("pw-a");
        other_ns.metadata.namespace = Some("team-b".into());
        c.index_password_secret(&other_ns);
        c.index_password_secret(&alice.clone().with_password_ref("pw-b"));
        assert!(c.users_of_password_secret("default", "pw-a").is_empty());
        assert_eq!(
            c.users_of_password_secret("default", "pw-b"),
            vec!["alice".to_string()]
        );
        assert_eq!(
            c.users_of_password_secret("team-b", "pw-a"),
            vec!["alice".to_string()]
        );
        // A deleted user leaves the index.
        c.index_password_secret(&alice.with_password_ref("pw-b").deleting());
        assert!(c.users_of_password_secret("default", "pw-b").is_empty());
    }

    #[test]
    fn password_index_keeps_sharers_and_forgets_the_departed() {
        let mut idx = PasswordIndex::default();
        let ns = || "ns".to_string();
        idx.set(ns(), "a".into(), Some("shared".into()));
        idx.set(ns(), "b".into(), Some("shared".into()));
        // Re-indexing with the same Secret (every reconcile does) changes nothing.
        idx.set(ns(), "a".into(), Some("shared".into()));
        idx.set(ns(), "a".into(), Some("own".into()));
        let users =
            |idx: &PasswordIndex, s: &str| idx.by_secret.get(&(ns(), s.to_string())).cloned();
        assert_eq!(users(&idx, "shared"), Some(["b".to_string()].into()));
        assert_eq!(users(&idx, "own"), Some(["a".to_string()].into()));
        idx.set(ns(), "a".into(), None);
        idx.set(ns(), "b".into(), None);
        // Nothing is left behind for users that are gone (no growth over time).
        assert!(idx.by_secret.is_empty() && idx.by_user.is_empty());
    }
}
