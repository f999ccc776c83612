//! Shared state: settings, users, faults, the request log and counters.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::model::User;

/// Behaviour switches; each stands for a way a real server may differ where the API is
/// documented only by its create call (see README).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// An admin's Bearer token.
    pub token: String,
    /// Tokens that authenticate but are not admins: 403.
    pub viewer_tokens: Vec<String>,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// `DELETE /admin/users/{id}` exists; without it the path answers 405.
    pub delete_route: bool,
    /// `PUT /admin/users/{id}/password` exists; without it the path answers 405.
    pub password_route: bool,
    /// Largest `limit` of the list.
    pub max_limit: i64,
    /// The list ignores `?username=` and answers every user (a server without the filter).
    pub ignore_username_filter: bool,
    /// The list honours `limit` but ignores `skip`: every page is the first one.
    pub ignore_skip: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token: "emulator-token".into(),
            viewer_tokens: vec![],
            port: 0,
            delete_route: true,
            password_route: true,
            max_limit: 100,
            ignore_username_filter: false,
            ignore_skip: false,
        }
    }
}

/// A scoped fault: the next `count` matching requests get `status` (with FastAPI's
/// `{"detail": ...}`), or never an answer (`hang: true`), after `latency_ms`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRule {
    /// Any method when absent.
    pub method: Option<String>,
    /// Route pattern, e.g. `/api/admin/users/{user_id}`; any when absent.
    pub route: Option<String>,
    pub status: Option<u16>,
    pub hang: bool,
    pub latency_ms: u64,
    /// The answer's `detail` (a string or FastAPI's list of errors); a generic string when
    /// absent.
    pub detail: Option<serde_json::Value>,
    /// Unlimited when absent; spent rules are removed.
    pub count: Option<u64>,
}

/// One request as the log shows it: never a header value or a body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub route: String,
    /// The status, or `hang`.
    pub outcome: String,
    /// `bearer`, `none` or `other` (another scheme).
    pub auth: String,
    pub user_agent: String,
}

#[derive(Default)]
pub struct Stats {
    pub requests: BTreeMap<String, u64>,
    pub writes: u64,
    pub log: Vec<RequestRecord>,
}

/// At most this many requests are kept in the log (counters are unbounded).
pub const LOG_LIMIT: usize = 10_000;

impl Stats {
    pub fn record(&mut self, r: RequestRecord) {
        let success = r.outcome.starts_with('2');
        if success && r.method != "GET" {
            self.writes += 1;
        }
        *self
            .requests
            .entry(format!("{} {} {}", r.method, r.route, r.outcome))
            .or_default() += 1;
        if self.log.len() < LOG_LIMIT {
            self.log.push(r);
        }
    }
}

pub struct Inner {
    pub settings: Mutex<Settings>,
    pub users: Mutex<Vec<User>>,
    pub faults: Mutex<Vec<FaultRule>>,
    pub stats: Mutex<Stats>,
}

pub type AppState = Arc<Inner>;

pub fn new(settings: Settings) -> AppState {
    Arc::new(Inner {
        settings: Mutex::new(settings),
        users: Mutex::new(vec![]),
        faults: Mutex::new(vec![]),
        stats: Mutex::new(Stats::default()),
    })
}

impl Inner {
    /// The fault for this request, if any (and spends one use of it).
    pub fn fault(&self, method: &str, route: &str) -> Option<FaultRule> {
        let mut rules = self.faults.lock();
        let i = rules.iter().position(|r| {
            r.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && r.route.as_deref().is_none_or(|p| p == route)
        })?;
        let rule = rules[i].clone();
        if let Some(n) = &mut rules[i].count {
            *n = n.saturating_sub(1);
            if *n == 0 {
                rules.remove(i);
            }
        }
        Some(rule)
    }
}
