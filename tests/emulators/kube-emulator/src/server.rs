//! HTTP routing: one catch-all handler that classifies each request the way the apiserver's
//! `RequestInfoFactory` does, logs it, and dispatches to the verb handlers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method};

use crate::Shared;
use crate::control::RequestEntry;
use crate::registry::ResourceType;
use crate::request::{ApiPath, Query, parse_api_path};
use crate::status::{ApiError, page_not_found};

/// Largest request body accepted (the apiserver's limit is 3 MiB for most writes).
const MAX_BODY: usize = 16 * 1024 * 1024;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// Everything a verb handler needs about one request.
pub struct Ctx {
    pub shared: Arc<Shared>,
    pub t: ResourceType,
    pub path: ApiPath,
    pub query: Query,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub verb: &'static str,
    /// `Warning:` headers to send (docs/kubernetes-api.md §6 Should 6).
    pub warnings: Vec<String>,
}

impl Ctx {
    pub fn content_type(&self) -> String {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    }

    /// The manager name of a non-apply write: `fieldManager`, else the User-Agent prefix
    /// (`managerOrUserAgent`, docs/kubernetes-api.md §1.1) — empty for kube-rs, which sends no
    /// User-Agent.
    pub fn manager(&self) -> String {
        if let Some(m) = self.query.get("fieldManager") {
            return m.to_string();
        }
        let ua = self
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        ua.split('/').next().unwrap_or("").to_string()
    }
}

fn verb_of(method: &Method, p: &ApiPath, q: &Query) -> Option<&'static str> {
    let watching = p.watch_prefix || q.flag("watch");
    Some(match (method.as_str(), p.name.is_empty()) {
        ("GET", _) if watching => "watch",
        ("GET", true) => "list",
        ("GET", false) => "get",
        ("POST", true) => "create",
        ("PUT", false) => "update",
        ("PATCH", false) => "patch",
        ("DELETE", false) => "delete",
        ("DELETE", true) => "deletecollection",
        _ => return None,
    })
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(413, "RequestEntityTooLarge", "request body too large")
                .into_response();
        }
    };
    if let Some(what) = path.strip_prefix("/__emulator/") {
        return crate::control::handle(&shared, &parts.method, what, &body);
    }
    let latency = shared.knobs.lock().latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let query = Query::parse(Some(&raw_query));
    let mut entry = RequestEntry {
        verb: "get".into(),
        method: parts.method.to_string(),
        path: path.clone(),
        query: raw_query.clone(),
        user_agent: parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
        ..Default::default()
    };
    let resp = match parse_api_path(&path) {
        Some(p) => {
            entry.api_group = p.group.clone();
            entry.api_version = p.version.clone();
            entry.resource = p.resource.clone();
            entry.subresource = p.subresource.clone();
            entry.namespace = p.namespace.clone();
            entry.name = p.name.clone();
            match verb_of(&parts.method, &p, &query) {
                Some(v) => entry.verb = v.into(),
                None => entry.verb = parts.method.as_str().to_lowercase(),
            }
            api_request(&shared, p, query, parts.method, parts.headers, body).await
        }
        None => crate::discovery_routes::serve(&shared, &path, &parts.headers),
    };
    entry.code = resp.status().as_u16();
    shared.log.lock().record(entry);
    resp
}

async fn api_request(
    shared: &Arc<Shared>,
    p: ApiPath,
    query: Query,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = {
        let st = shared.state.lock();
        st.registry.get(&p.group, &p.version, &p.resource).cloned()
    };
    let Some(t) = t else {
        return page_not_found();
    };
    // Scope checks: cluster types have no namespaced path, namespaced types only list/watch
    // across namespaces.
    if !t.namespaced && !p.namespace.is_empty() {
        return page_not_found();
    }
    let Some(verb) = verb_of(&method, &p, &query) else {
        return ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )
        .into_response();
    };
    if t.namespaced && p.namespace.is_empty() && !matches!(verb, "list" | "watch") {
        return if p.name.is_empty() {
            ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource",
            )
            .into_response()
        } else {
            page_not_found()
        };
    }
    if !p.subresource.is_empty() {
        let known = t.has_subresource(&p.subresource) && matches!(verb, "get" | "update" | "patch");
        if !known {
            return page_not_found();
        }
    }
    if let Some(fault) = shared.knobs.lock().draw_fault(verb) {
        return fault.into_response();
    }
    let mut ctx = Ctx {
        shared: shared.clone(),
        t,
        path: p,
        query,
        headers,
        body,
        verb,
        warnings: Vec::new(),
    };
    let result = match verb {
        _ if ctx.path.subresource == "scale" => crate::scale::handle(&mut ctx),
        "get" => crate::read::get(&ctx),
        "list" => crate::read::list(&ctx).await,
        "watch" => return crate::watch::watch(&ctx),
        "create" => crate::write::create(&mut ctx),
        "update" => crate::write::update(&mut ctx),
        "patch" => crate::write::patch(&mut ctx),
        "delete" => crate::delete::delete(&mut ctx),
        "deletecollection" => crate::delete::delete_collection(&mut ctx),
        _ => Err(ApiError::method_not_allowed("unsupported verb")),
    };
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    for w in &ctx.warnings {
        // apiserver NewWarningHeader: the text is quoted with `"` and `\` escaped,
        // so kubectl prints `Warning: unknown field "spec.foo"`
        // (docs/kubernetes-api.md §6 Should 6).
        let text = format!("299 - \"{}\"", w.replace('\\', "\\\\").replace('"', "\\\""));
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().append("warning", v);
        }
    }
    resp
}
