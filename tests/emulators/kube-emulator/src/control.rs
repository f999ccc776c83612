//! The `/__emulator/` control API (not Kubernetes): stats, request log, knobs, and hooks to
//! compact history and drop watches (docs/development/emulators.md; docs/kubernetes-api.md §6 Must 5).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};

use crate::Shared;
use crate::status::{ApiError, json_response};

/// Entries kept in the request log; older ones are dropped first.
const LOG_CAP: usize = 200_000;

/// One API request as the log reports it.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestEntry {
    pub verb: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub api_group: String,
    pub api_version: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    pub user_agent: String,
    pub code: u16,
}

#[derive(Default)]
pub struct RequestLog {
    entries: std::collections::VecDeque<RequestEntry>,
    counts: BTreeMap<String, u64>,
}

impl RequestLog {
    pub fn record(&mut self, e: RequestEntry) {
        let mut key = format!("{} {}/{}", e.verb, e.api_group, e.resource);
        if !e.subresource.is_empty() {
            key.push('/');
            key.push_str(&e.subresource);
        }
        *self.counts.entry(key).or_default() += 1;
        self.entries.push_back(e);
        if self.entries.len() > LOG_CAP {
            self.entries.pop_front();
        }
    }

    pub fn counts(&self) -> &BTreeMap<String, u64> {
        &self.counts
    }

    pub fn entries(&self) -> impl Iterator<Item = &RequestEntry> {
        self.entries.iter()
    }

    pub fn reset(&mut self) {
        self.entries.clear();
        self.counts.clear();
    }
}

/// Serves `/__emulator/<what>`.
pub fn handle(shared: &Arc<Shared>, method: &http::Method, what: &str, body: &[u8]) -> Response {
    let ok = || json_response(200, &json!({"ok": true}));
    match (method.as_str(), what) {
        ("GET", "stats") => {
            let (changed, noop, rv, watchers) = {
                let st = shared.state.lock();
                (
                    st.store.writes.changed,
                    st.store.writes.noop,
                    st.store.rv(),
                    st.store.watcher_count(),
                )
            };
            let requests = shared.log.lock().counts().clone();
            json_response(
                200,
                &json!({
                    "requests": requests,
                    "writes": {"changed": changed, "noop": noop},
                    "resourceVersion": rv,
                    "watches": watchers,
                }),
            )
        }
        ("GET", "requests") => {
            let log = shared.log.lock();
            let all: Vec<&RequestEntry> = log.entries().collect();
            json_response(200, &serde_json::to_value(all).unwrap_or(Value::Null))
        }
        ("GET", "knobs") => json_response(
            200,
            &serde_json::to_value(&*shared.knobs.lock()).unwrap_or(Value::Null),
        ),
        ("POST", "knobs") => {
            let patch: Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => {
                    return ApiError::bad_request(format!("bad knobs body: {e}"))
                        .into_response_ext();
                }
            };
            let mut k = shared.knobs.lock();
            match k.apply(&patch) {
                Ok(()) => json_response(200, &serde_json::to_value(&*k).unwrap_or(Value::Null)),
                Err(e) => ApiError::bad_request(e).into_response_ext(),
            }
        }
        ("POST", "compact") => {
            shared.state.lock().store.compact();
            ok()
        }
        ("POST", "drop-watches") => {
            shared.state.lock().store.drop_watches();
            ok()
        }
        ("POST", "reset-stats") => {
            shared.log.lock().reset();
            let mut st = shared.state.lock();
            st.store.writes = Default::default();
            ok()
        }
        _ => ApiError::new(
            404,
            "NotFound",
            format!("no emulator control endpoint {method} /__emulator/{what}"),
        )
        .into_response_ext(),
    }
}

impl ApiError {
    fn into_response_ext(self) -> Response {
        axum::response::IntoResponse::into_response(self)
    }
}
