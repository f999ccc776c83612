//! Non-resource paths: discovery (`/api`, `/apis`, `/version`) and OpenAPI. The documents
//! themselves are built by `discovery`/`openapi` from the registry; this only routes.

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, HeaderValue, header};
use serde_json::Value;

use crate::Shared;
use crate::discovery::{self, DiscoveryForm};
use crate::openapi;
use crate::registry::ResourceType;
use crate::status::{json_response, page_not_found};

fn ok(body: Option<Value>) -> Response {
    match body {
        Some(b) => json_response(200, &b),
        None => page_not_found(),
    }
}

/// Serves a non-resource path, or the real server's plain-text 404.
pub fn serve(shared: &Arc<Shared>, path: &str, headers: &HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let types: Vec<ResourceType> = shared.state.lock().registry.all().cloned().collect();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => ok(Some(discovery::version())),
        [root @ ("api" | "apis")] => {
            let core = *root == "api";
            // docs/kubernetes-api.md §3.1: client-go parses by the response Content-Type.
            match discovery::negotiate(accept) {
                DiscoveryForm::Legacy if core => ok(Some(discovery::core_versions())),
                DiscoveryForm::Legacy => ok(Some(discovery::group_list(&types))),
                form @ DiscoveryForm::Aggregated(v) => {
                    let mut resp = json_response(200, &discovery::aggregated(&types, core, v));
                    if let Ok(ct) = HeaderValue::from_str(&form.content_type()) {
                        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
                    }
                    resp
                }
            }
        }
        ["api", v] => ok(discovery::resource_list(&types, "", v)),
        ["apis", g] => ok(discovery::group(&types, g)),
        ["apis", g, v] => ok(discovery::resource_list(&types, g, v)),
        ["openapi", "v2"] => {
            let (ct, body) = openapi::v2(accept);
            let mut resp = json_response(200, &Value::Null);
            *resp.body_mut() = axum::body::Body::from(body);
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            resp
        }
        ["openapi", "v3"] => ok(Some(openapi::index(&types))),
        ["openapi", "v3", rest @ ..] => ok(openapi::parse_gv_path(&rest.join("/"))
            .and_then(|(g, v)| openapi::document(&types, &g, &v))),
        _ => page_not_found(),
    }
}
