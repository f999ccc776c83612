//! Request decoding: API paths, tolerant query strings (`?&…`, docs/kubernetes-api.md §1.1) and
//! `Accept` forms.

use http::HeaderMap;

use crate::status::ApiError;

/// Query parameters in order; empty segments (kube's leading `&`) are skipped.
#[derive(Clone, Debug, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let raw = raw.unwrap_or("");
        Query(
            url::form_urlencoded::parse(raw.as_bytes())
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    /// Go's `strconv.ParseBool`-ish reading of flags like `watch=1`.
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1" | "True" | "TRUE" | "t"))
    }

    pub fn is_dry_run(&self) -> bool {
        self.get("dryRun") == Some("All")
    }

    /// `dryRun` accepts only `All` (docs/kubernetes-api.md §6 Should 5).
    pub fn check_dry_run(&self) -> Result<(), ApiError> {
        match self.get("dryRun") {
            None | Some("All") => Ok(()),
            Some(v) => Err(ApiError::bad_request(format!(
                "unsupported dry run value: {v:?}; supported values: \"All\""
            ))),
        }
    }
}

/// A parsed resource path: `/api/v1/...` or `/apis/<g>/<v>/...`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiPath {
    pub group: String,
    pub version: String,
    pub namespace: String,
    pub resource: String,
    pub name: String,
    pub subresource: String,
    /// The legacy `/watch/` path prefix.
    pub watch_prefix: bool,
}

/// Parses a resource path; `None` for paths without a resource (discovery) or other shapes.
pub fn parse_api_path(path: &str) -> Option<ApiPath> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, mut rest) = match parts.as_slice() {
        ["api", v, rest @ ..] => ("", *v, rest.to_vec()),
        ["apis", g, v, rest @ ..] => (*g, *v, rest.to_vec()),
        _ => return None,
    };
    if rest.is_empty() || rest.iter().any(|p| p.is_empty()) {
        return None;
    }
    let mut p = ApiPath {
        group: group.to_string(),
        version: version.to_string(),
        ..Default::default()
    };
    if rest[0] == "watch" {
        p.watch_prefix = true;
        rest.remove(0);
    }
    // RequestInfoFactory: `namespaces/<ns>/<resource>…` unless the next part is a namespace
    // subresource (`status`, `finalize`).
    if rest.first() == Some(&"namespaces") && rest.len() > 1 {
        p.namespace = rest[1].to_string();
        if rest.len() > 2 && rest[2] != "status" && rest[2] != "finalize" {
            rest.drain(..2);
        } else {
            p.namespace.clear();
            p.resource = "namespaces".into();
            p.name = rest[1].to_string();
            p.subresource = rest.get(2).map(|s| s.to_string()).unwrap_or_default();
            return (rest.len() <= 3).then_some(p);
        }
    }
    if rest.len() > 3 {
        return None;
    }
    p.resource = rest[0].to_string();
    p.name = rest.get(1).map(|s| s.to_string()).unwrap_or_default();
    p.subresource = rest.get(2).map(|s| s.to_string()).unwrap_or_default();
    Some(p)
}

/// The representation asked for through `Accept` (docs/kubernetes-api.md §2.11, §3.3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Want {
    Full,
    Meta,
    Table,
}

/// Picks the first supported alternative; 406 if the client asked only for `as=` forms the
/// server does not serve.
pub fn negotiate(headers: &HeaderMap, table_supported: bool) -> Result<Want, ApiError> {
    let Some(accept) = headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(Want::Full);
    };
    if accept.trim().is_empty() {
        return Ok(Want::Full);
    }
    for alt in accept.split(',') {
        let mut parts = alt.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        let mut as_ = "";
        let mut g = "";
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                match k.trim() {
                    "as" => as_ = v.trim(),
                    "g" => g = v.trim(),
                    _ => {}
                }
            }
        }
        let json_ok = matches!(
            media,
            "application/json" | "*/*" | "application/*" | "application/yaml"
        );
        if !json_ok {
            continue;
        }
        match as_ {
            "" => return Ok(Want::Full),
            "PartialObjectMetadata" | "PartialObjectMetadataList" if g == "meta.k8s.io" => {
                return Ok(Want::Meta);
            }
            "Table" if g == "meta.k8s.io" && table_supported => return Ok(Want::Table),
            _ => {}
        }
    }
    Err(ApiError::not_acceptable())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_query() {
        let q = Query::parse(Some("&limit=500&&continue=a%3Db&watch=1"));
        assert_eq!(q.get("limit"), Some("500"));
        assert_eq!(q.get("continue"), Some("a=b"));
        assert!(q.flag("watch"));
        assert!(Query::parse(Some("")).0.is_empty());
    }

    #[test]
    fn paths() {
        let p = parse_api_path("/api/v1/namespaces/default/secrets/s1").unwrap();
        assert_eq!(
            (p.namespace.as_str(), p.resource.as_str(), p.name.as_str()),
            ("default", "secrets", "s1")
        );
        let p = parse_api_path("/apis/example.com/v1/namespaces/d/widgets/w1/status").unwrap();
        assert_eq!(p.subresource, "status");
        assert_eq!(p.group, "example.com");
        let p = parse_api_path("/api/v1/namespaces/foo").unwrap();
        assert_eq!(
            (p.resource.as_str(), p.name.as_str(), p.namespace.as_str()),
            ("namespaces", "foo", "")
        );
        let p = parse_api_path("/api/v1/namespaces/foo/status").unwrap();
        assert_eq!(p.subresource, "status");
        let p = parse_api_path("/api/v1/namespaces").unwrap();
        assert_eq!((p.resource.as_str(), p.name.as_str()), ("namespaces", ""));
        let p = parse_api_path("/api/v1/watch/namespaces/d/secrets").unwrap();
        assert!(p.watch_prefix);
        assert_eq!(p.resource, "secrets");
        assert!(parse_api_path("/api/v1").is_none());
        assert!(parse_api_path("/apis/apps/v1").is_none());
        assert!(parse_api_path("/api/v1/secrets").is_some());
    }

    #[test]
    fn accept_negotiation() {
        let mut h = HeaderMap::new();
        h.insert(
            "accept",
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
                .parse()
                .unwrap(),
        );
        assert_eq!(negotiate(&h, false).unwrap(), Want::Meta);
        h.insert(
            "accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
                .parse()
                .unwrap(),
        );
        assert_eq!(negotiate(&h, false).unwrap(), Want::Full);
        assert_eq!(negotiate(&h, true).unwrap(), Want::Table);
        h.insert(
            "accept",
            "application/json;as=Foo;g=meta.k8s.io;v=v1"
                .parse()
                .unwrap(),
        );
        assert_eq!(negotiate(&h, true).unwrap_err().code, 406);
        h.insert(
            "accept",
            "application/vnd.kubernetes.protobuf, */*".parse().unwrap(),
        );
        assert_eq!(negotiate(&h, true).unwrap(), Want::Full);
    }
}
