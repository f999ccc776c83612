//! Watches: newline-delimited JSON events over a chunked 200 response (docs/kubernetes-api.md
//! §1.2, §1.3, §2.9, §2.10). A too-old RV is answered with HTTP 200 and one ERROR event
//! carrying 410 — never HTTP 410, which would trap kube-rs in a retry loop.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::read::{Filter, parse_rv, render_one, want};
use crate::registry::ResourceType;
use crate::request::Want;
use crate::selectors::FieldSelector;
use crate::server::Ctx;
use crate::status::{ApiError, Cause};
use crate::store::{Event, EventType};

/// Default watch lifetime when the client sends no timeoutSeconds (the apiserver picks a
/// random value between 30 and 60 minutes).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// How often a periodic BOOKMARK is sent (the cacher's is roughly every minute).
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);
pub const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

pub fn watch(ctx: &Ctx) -> Response {
    match start(ctx) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn invalid(causes: Vec<Cause>) -> ApiError {
    ApiError::invalid_kind(
        "ListOptions.meta.k8s.io",
        "meta.k8s.io",
        "ListOptions",
        "",
        causes,
    )
}

/// What one committed event looks like through this watch's selectors
/// (docs/kubernetes-api.md §2.9): entering → ADDED, leaving → DELETED with the previous content at
/// the new RV.
pub fn transform(ev: &Event, filter: &Filter) -> Option<(EventType, Value)> {
    match ev.etype {
        EventType::Added => filter
            .matches(&ev.obj)
            .then(|| (EventType::Added, (*ev.obj).clone())),
        EventType::Deleted => {
            let was = ev.old.as_deref().unwrap_or(&ev.obj);
            filter
                .matches(was)
                .then(|| (EventType::Deleted, (*ev.obj).clone()))
        }
        EventType::Modified => {
            let old_m = ev.old.as_deref().is_some_and(|o| filter.matches(o));
            let new_m = filter.matches(&ev.obj);
            match (old_m, new_m) {
                (true, true) => Some((EventType::Modified, (*ev.obj).clone())),
                (false, true) => Some((EventType::Added, (*ev.obj).clone())),
                (true, false) => {
                    let mut prev = ev.old.as_deref().cloned().unwrap_or(Value::Null);
                    prev["metadata"]["resourceVersion"] = json!(ev.rv.to_string());
                    Some((EventType::Deleted, prev))
                }
                (false, false) => None,
            }
        }
    }
}

fn line(v: &Value) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

fn event_line(t: &ResourceType, want: Want, etype: EventType, obj: &Value) -> Bytes {
    line(&json!({"type": etype.as_str(), "object": render_one(t, want, obj)}))
}

fn bookmark(t: &ResourceType, want: Want, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({INITIAL_EVENTS_END: "true"});
    }
    let (kind, av) = match want {
        Want::Meta => (
            "PartialObjectMetadata".to_string(),
            "meta.k8s.io/v1".to_string(),
        ),
        _ => (t.kind.clone(), t.api_version()),
    };
    line(&json!({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": av, "metadata": meta}}))
}

fn error_line(e: &ApiError) -> Bytes {
    line(&json!({"type": "ERROR", "object": e.to_status()}))
}

fn stream_response(rx: mpsc::Receiver<Bytes>) -> Response {
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<Bytes, Infallible>(b), rx))
    });
    let mut resp = (StatusCode::OK, Body::from_stream(stream)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn start(ctx: &Ctx) -> Result<Response, ApiError> {
    let want = want(ctx)?;
    let q = &ctx.query;
    let rv = q
        .get("resourceVersion")
        .filter(|s| !s.is_empty())
        .map(String::from);
    let rv_match = q.get("resourceVersionMatch").filter(|s| !s.is_empty());
    let send_initial = q.get("sendInitialEvents").map(|v| v == "true");
    let bookmarks = q.flag("allowWatchBookmarks");
    // docs/kubernetes-api.md §1.3: validation of streaming-list parameters.
    if send_initial.is_some() {
        if rv_match != Some("NotOlderThan") {
            return Err(invalid(vec![Cause::forbidden(
                "sendInitialEvents",
                "sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan",
            )]));
        }
        if send_initial == Some(true) && !bookmarks {
            return Err(invalid(vec![Cause::forbidden(
                "allowWatchBookmarks",
                "allowWatchBookmarks must be set when sendInitialEvents is true",
            )]));
        }
    } else if rv_match.is_some() {
        return Err(invalid(vec![Cause::forbidden(
            "resourceVersionMatch",
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        )]));
    }
    let rv_num = rv.as_deref().map(parse_rv).transpose()?;
    let timeout = match q.get("timeoutSeconds").filter(|s| !s.is_empty()) {
        Some(s) => Duration::from_secs(
            s.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds {s:?}")))?,
        ),
        None => DEFAULT_TIMEOUT,
    };
    let (force410, close_every) = {
        let k = ctx.shared.knobs.lock();
        (k.force_410_on_resume, k.watch_close_every_secs)
    };
    let t = ctx.t.clone();
    let key = t.store_key();
    let (tx, body_rx) = mpsc::channel::<Bytes>(1024);
    let mut first: Vec<Bytes> = Vec::new();
    let (events_rx, start_rv, filter) = {
        let mut st = ctx.shared.state.lock();
        let mut filter = Filter::from_query(&st, &t, &ctx.path.namespace, q)?;
        if !ctx.path.name.is_empty() {
            // A watch on `…/name` (or `/watch/…/name`) is a watch filtered on metadata.name.
            filter.fields.0.extend(
                FieldSelector::parse(
                    &format!("metadata.name={}", ctx.path.name),
                    &["metadata.name".to_string()],
                )?
                .0,
            );
        }
        let current = st.store.rv();
        let synthetic = send_initial == Some(true) || matches!(rv_num, None | Some(0));
        if synthetic {
            for obj in st
                .store
                .objects(&key)
                .values()
                .filter(|o| filter.matches(o))
            {
                first.push(event_line(&t, want, EventType::Added, obj));
            }
            if send_initial == Some(true) {
                first.push(bookmark(&t, want, current, true));
            }
        } else {
            let from = rv_num.unwrap_or(0);
            match st.store.events_since(&key, from).filter(|_| !force410) {
                Some(evs) => {
                    for ev in evs {
                        if let Some((et, obj)) = transform(&ev, &filter) {
                            first.push(event_line(&t, want, et, &obj));
                        }
                    }
                }
                None => {
                    let e = ApiError::expired(format!(
                        "too old resource version: {from} ({})",
                        st.store.compacted_rv()
                    ));
                    first.push(error_line(&e));
                    drop(st);
                    tokio::spawn(async move {
                        for b in first {
                            let _ = tx.send(b).await;
                        }
                    });
                    return Ok(stream_response(body_rx));
                }
            }
        }
        (st.store.subscribe(&key), current, filter)
    };
    let mut life = timeout;
    if close_every > 0 {
        life = life.min(Duration::from_secs(close_every));
    }
    let task = Pump {
        shared: ctx.shared.clone(),
        t,
        want,
        filter,
        bookmarks,
        last_rv: start_rv,
    };
    tokio::spawn(task.run(first, events_rx, tx, life));
    Ok(stream_response(body_rx))
}

/// Moves committed events of one watch to its HTTP body until timeout, shutdown, a dropped
/// subscription or a gone client.
struct Pump {
    shared: Arc<crate::Shared>,
    t: ResourceType,
    want: Want,
    filter: Filter,
    bookmarks: bool,
    last_rv: u64,
}

impl Pump {
    async fn run(
        mut self,
        first: Vec<Bytes>,
        mut rx: mpsc::UnboundedReceiver<Arc<Event>>,
        tx: mpsc::Sender<Bytes>,
        life: Duration,
    ) {
        for b in first {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::sleep(life);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(BOOKMARK_EVERY);
        tick.tick().await;
        let shutdown = crate::stopped(self.shared.shutdown.clone());
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = &mut shutdown => break,
                ev = rx.recv() => match ev {
                    Some(ev) => {
                        if !self.send_event(&ev, &tx).await {
                            return;
                        }
                    }
                    None => break,
                },
                _ = tick.tick(), if self.bookmarks => {
                    // Drain under the store lock so the bookmark RV never overtakes an
                    // event this watch has not delivered yet.
                    let (pending, rv) = {
                        let st = self.shared.state.lock();
                        let mut pending = Vec::new();
                        while let Ok(ev) = rx.try_recv() {
                            pending.push(ev);
                        }
                        (pending, st.store.rv())
                    };
                    for ev in pending {
                        if !self.send_event(&ev, &tx).await {
                            return;
                        }
                    }
                    self.last_rv = self.last_rv.max(rv);
                    if tx.send(bookmark(&self.t, self.want, self.last_rv, false)).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn send_event(&mut self, ev: &Event, tx: &mpsc::Sender<Bytes>) -> bool {
        self.last_rv = ev.rv;
        match transform(ev, &self.filter) {
            Some((et, obj)) => tx
                .send(event_line(&self.t, self.want, et, &obj))
                .await
                .is_ok(),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selectors::LabelSelector;

    fn filter(sel: &str) -> Filter {
        Filter {
            namespace: String::new(),
            labels: LabelSelector::parse(sel).unwrap(),
            fields: Default::default(),
            is_event: false,
        }
    }

    fn obj(app: &str, rv: u64) -> Arc<Value> {
        Arc::new(
            json!({"metadata":{"name":"a","namespace":"d","labels":{"app":app},"resourceVersion":rv.to_string()}}),
        )
    }

    #[test]
    fn selector_transitions() {
        let f = filter("app=x");
        let enter = Event {
            rv: 3,
            store_key: "k".into(),
            etype: EventType::Modified,
            obj: obj("x", 3),
            old: Some(obj("y", 2)),
        };
        assert_eq!(transform(&enter, &f).unwrap().0, EventType::Added);
        let leave = Event {
            rv: 4,
            store_key: "k".into(),
            etype: EventType::Modified,
            obj: obj("y", 4),
            old: Some(obj("x", 3)),
        };
        let (et, o) = transform(&leave, &f).unwrap();
        assert_eq!(et, EventType::Deleted);
        assert_eq!(o["metadata"]["labels"]["app"], "x");
        assert_eq!(o["metadata"]["resourceVersion"], "4");
        let outside = Event {
            rv: 5,
            store_key: "k".into(),
            etype: EventType::Modified,
            obj: obj("y", 5),
            old: Some(obj("z", 4)),
        };
        assert!(transform(&outside, &f).is_none());
    }
}
