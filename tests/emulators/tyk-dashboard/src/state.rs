//! Shared emulator state: the store, settings, faults and statistics behind one `Arc`.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::faults::Faults;
use crate::model::{Group, User};
use crate::settings::Settings;

/// Users, organisations and groups. Vectors keep creation order, which is also list order;
/// test data sets are small enough that linear lookups cost nothing.
#[derive(Default)]
pub struct Store {
    pub users: Vec<User>,
    pub orgs: Vec<Map<String, Value>>,
    pub groups: Vec<Group>,
}

impl Store {
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn user_mut(&mut self, id: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|u| u.id == id)
    }

    pub fn user_by_key(&self, key: &str) -> Option<&User> {
        if key.is_empty() {
            return None;
        }
        self.users.iter().find(|u| u.access_key == key)
    }

    /// Emails are unique per org (docs/tyk-dashboard-api.md §8.2), compared lower-cased; `global`
    /// is the other reading of docs/tyk-dashboard-api.md §13.6 (without `enable_multi_org_users`).
    pub fn email_taken(
        &self,
        org_id: &str,
        email: &str,
        except_id: Option<&str>,
        global: bool,
    ) -> bool {
        let email = email.to_lowercase();
        self.users.iter().any(|u| {
            (global || u.org_id == org_id)
                && u.email_address == email
                && Some(u.id.as_str()) != except_id
        })
    }

    pub fn org_index(&self, id: &str) -> Option<usize> {
        self.orgs
            .iter()
            .position(|o| o.get("id").and_then(Value::as_str) == Some(id))
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }
}

/// One served request, for `GET /__emulator/requests`. Never carries bodies or headers
/// other than the user agent, so no credential can leak through it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub route: String,
    /// HTTP status, or `hang` / `reset` / `dropped` for injected faults without an answer.
    pub outcome: String,
    #[serde(rename = "userAgent")]
    pub user_agent: String,
    /// Milliseconds since the emulator started, when the answer was decided.
    #[serde(rename = "atMs", default)]
    pub at_ms: u64,
}

#[derive(Default)]
pub struct Stats {
    /// `"<METHOD> <route pattern> <status>"` → count.
    pub requests: BTreeMap<String, u64>,
    /// Successful mutating calls on /admin and /api, counted when the write commits.
    pub writes: u64,
    pub log: Vec<RequestRecord>,
    /// Requests on /admin and /api being handled right now, and the most at once since the
    /// last stats reset: lets a test prove a client's concurrency limit.
    pub in_flight: u64,
    pub max_in_flight: u64,
}

/// Bound on the request log so a long bench cannot grow memory without limit.
const MAX_LOG: usize = 100_000;

impl Stats {
    pub fn record(&mut self, rec: RequestRecord) {
        let key = format!("{} {} {}", rec.method, rec.route, rec.outcome);
        *self.requests.entry(key).or_default() += 1;
        if self.log.len() < MAX_LOG {
            self.log.push(rec);
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "requests": self.requests,
            "writes": self.writes,
            "max_in_flight": self.max_in_flight,
        })
    }

    pub fn enter(&mut self) {
        self.in_flight += 1;
        self.max_in_flight = self.max_in_flight.max(self.in_flight);
    }

    pub fn leave(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Forgets everything but the requests still being handled (they leave later).
    pub fn reset(&mut self) {
        let in_flight = self.in_flight;
        *self = Stats {
            in_flight,
            max_in_flight: in_flight,
            ..Stats::default()
        };
    }
}

pub struct Shared {
    pub store: Mutex<Store>,
    pub settings: RwLock<Settings>,
    pub faults: Mutex<Faults>,
    pub stats: Mutex<Stats>,
    /// A gauge, not a counter: kept out of `Stats` so `reset-stats` cannot skew it.
    pub in_flight_writes: std::sync::atomic::AtomicU64,
    pub started: std::time::Instant,
}

pub type AppState = Arc<Shared>;

impl Shared {
    pub fn new(settings: Settings, faults: Faults) -> AppState {
        Arc::new(Shared {
            store: Mutex::new(Store::default()),
            settings: RwLock::new(settings),
            faults: Mutex::new(faults),
            stats: Mutex::new(Stats::default()),
            in_flight_writes: Default::default(),
            started: std::time::Instant::now(),
        })
    }

    /// A snapshot, so handlers never hold the settings lock across the store lock.
    pub fn settings(&self) -> Settings {
        self.settings.read().clone()
    }

    pub fn wrote(&self) {
        self.stats.lock().writes += 1;
    }
}
