//! Discovery documents (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/<g>/<v>`), legacy and
//! aggregated (apidiscovery.k8s.io/v2), as pure functions over the resource registry.
//!
//! docs/kubernetes-api.md §3.1: client-go picks legacy vs aggregated parsing from the *response*
//! Content-Type, and kube's `Discovery::run_aggregated` sends only the aggregated Accept, so the
//! form is negotiated from the request's Accept header with [`negotiate`].

use serde_json::{Value, json};
use std::cmp::Ordering;

use crate::registry::ResourceType;

/// The Kubernetes version the emulator claims to be (kubectl 1.27–1.33 accept it without skew
/// warnings that matter; aggregated discovery v2 exists since 1.30).
pub const SERVER_MAJOR: &str = "1";
pub const SERVER_MINOR: &str = "33";
pub const SERVER_GIT_VERSION: &str = "v1.33.0";

/// Which discovery representation to answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscoveryForm {
    /// `APIVersions` / `APIGroupList` / `APIResourceList`.
    Legacy,
    /// `APIGroupDiscoveryList` with the given apidiscovery version (`v2` or `v2beta1`).
    Aggregated(AggregatedVersion),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregatedVersion {
    V2,
    V2Beta1,
}

impl AggregatedVersion {
    fn as_str(self) -> &'static str {
        match self {
            AggregatedVersion::V2 => "v2",
            AggregatedVersion::V2Beta1 => "v2beta1",
        }
    }
}

impl DiscoveryForm {
    /// The response Content-Type; client-go switches its parser on exactly this value.
    pub fn content_type(self) -> String {
        match self {
            DiscoveryForm::Legacy => "application/json".to_string(),
            DiscoveryForm::Aggregated(v) => format!(
                "application/json;g=apidiscovery.k8s.io;v={};as=APIGroupDiscoveryList",
                v.as_str()
            ),
        }
    }
}

/// Picks the first acceptable representation in the client's Accept order. An Accept that asks
/// only for forms we do not know still gets the legacy form (the real server would 406; no
/// client we target does that for discovery).
pub fn negotiate(accept: Option<&str>) -> DiscoveryForm {
    let Some(accept) = accept else {
        return DiscoveryForm::Legacy;
    };
    for media in accept.split(',') {
        let mut parts = media.split(';').map(str::trim);
        let base = parts.next().unwrap_or("");
        let (mut g, mut v, mut as_) = ("", "", "");
        for p in parts {
            match p.split_once('=') {
                Some(("g", x)) => g = x,
                Some(("v", x)) => v = x,
                Some(("as", x)) => as_ = x,
                _ => {}
            }
        }
        if as_.is_empty() && (base == "application/json" || base == "*/*") {
            return DiscoveryForm::Legacy;
        }
        if base == "application/json"
            && g == "apidiscovery.k8s.io"
            && as_ == "APIGroupDiscoveryList"
        {
            match v {
                "v2" => return DiscoveryForm::Aggregated(AggregatedVersion::V2),
                "v2beta1" => return DiscoveryForm::Aggregated(AggregatedVersion::V2Beta1),
                _ => {}
            }
        }
    }
    DiscoveryForm::Legacy
}

/// `GET /version`.
pub fn version() -> Value {
    json!({
        "major": SERVER_MAJOR,
        "minor": SERVER_MINOR,
        "gitVersion": SERVER_GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
        "emulationMajor": SERVER_MAJOR,
        "emulationMinor": SERVER_MINOR,
        "minCompatibilityMajor": SERVER_MAJOR,
        "minCompatibilityMinor": "32"
    })
}

/// Kubernetes version priority (`version.CompareKubeAwareVersionStrings`): GA > beta > alpha,
/// higher numbers first; non-kube-like strings last, alphabetically.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn key(v: &str) -> Option<(u32, u8, u32)> {
        let rest = v.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let major: u32 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((major, 2, 0));
        }
        let (level, num) = if let Some(n) = tail.strip_prefix("beta") {
            (1, n)
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (0, n)
        } else {
            return None;
        };
        Some((major, level, num.parse().ok()?))
    }
    match (key(a), key(b)) {
        // Higher priority sorts first.
        (Some((ma, la, na)), Some((mb, lb, nb))) => {
            (lb, mb, nb).cmp(&(la, ma, na)).then_with(|| a.cmp(b))
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Groups (excluding core) in first-seen registry order, each with its versions by priority.
pub fn groups(types: &[ResourceType]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for t in types.iter().filter(|t| !t.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == t.group) {
            Some((_, vs)) => {
                if !vs.contains(&t.version) {
                    vs.push(t.version.clone());
                }
            }
            None => out.push((t.group.clone(), vec![t.version.clone()])),
        }
    }
    for (_, vs) in &mut out {
        vs.sort_by(|a, b| compare_versions(a, b));
    }
    out
}

fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// `GET /api` (legacy).
pub fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]
    })
}

/// `GET /apis` (legacy).
pub fn group_list(types: &[ResourceType]) -> Value {
    let groups: Vec<Value> = groups(types)
        .into_iter()
        .map(|(g, vs)| {
            let versions: Vec<Value> = vs
                .iter()
                .map(|v| json!({"groupVersion": group_version(&g, v), "version": v}))
                .collect();
            let preferred = versions[0].clone();
            json!({"name": g, "versions": versions, "preferredVersion": preferred})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/<g>` (legacy `APIGroup`), or `None` if the group is unknown.
pub fn group(types: &[ResourceType], name: &str) -> Option<Value> {
    let (g, vs) = groups(types).into_iter().find(|(g, _)| g == name)?;
    let versions: Vec<Value> = vs
        .iter()
        .map(|v| json!({"groupVersion": group_version(&g, v), "version": v}))
        .collect();
    let preferred = versions[0].clone();
    Some(json!({"kind": "APIGroup", "apiVersion": "v1", "name": g,
                "versions": versions, "preferredVersion": preferred}))
}

/// Verbs a subresource answers to; `scale` answers with autoscaling/v1 `Scale`.
fn subresource_kind(t: &ResourceType, sub: &str) -> (String, String, String) {
    match sub {
        "scale" => ("autoscaling".into(), "v1".into(), "Scale".into()),
        _ => (t.group.clone(), t.version.clone(), t.kind.clone()),
    }
}

fn subresource_verbs(sub: &str) -> Vec<&'static str> {
    match sub {
        "status" | "scale" => vec!["get", "patch", "update"],
        "finalize" => vec!["update"],
        _ => vec!["get"],
    }
}

/// `GET /api/v1` or `GET /apis/<g>/<v>` (legacy `APIResourceList`), `None` if unknown.
pub fn resource_list(types: &[ResourceType], group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for t in types
        .iter()
        .filter(|t| t.group == group && t.version == version)
    {
        let mut r = json!({
            "name": t.plural,
            "singularName": t.singular,
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": t.verbs,
        });
        if !t.short_names.is_empty() {
            r["shortNames"] = json!(t.short_names);
        }
        if !t.categories.is_empty() {
            r["categories"] = json!(t.categories);
        }
        resources.push(r);
        for sub in &t.subresources {
            let (g, v, k) = subresource_kind(t, sub);
            let mut s = json!({
                "name": format!("{}/{}", t.plural, sub),
                "singularName": "",
                "namespaced": t.namespaced,
                "kind": k,
                "verbs": subresource_verbs(sub),
            });
            if g != t.group || v != t.version {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    if resources.is_empty() {
        return None;
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version(group, version),
        "resources": resources
    }))
}

fn aggregated_resource(t: &ResourceType) -> Value {
    let subresources: Vec<Value> = t
        .subresources
        .iter()
        .map(|sub| {
            let (g, v, k) = subresource_kind(t, sub);
            json!({
                "subresource": sub,
                "responseKind": {"group": g, "version": v, "kind": k},
                "verbs": subresource_verbs(sub),
            })
        })
        .collect();
    let mut r = json!({
        "resource": t.plural,
        "responseKind": {"group": t.group, "version": t.version, "kind": t.kind},
        "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": t.singular,
        "verbs": t.verbs,
    });
    if !t.short_names.is_empty() {
        r["shortNames"] = json!(t.short_names);
    }
    if !t.categories.is_empty() {
        r["categories"] = json!(t.categories);
    }
    if !subresources.is_empty() {
        r["subresources"] = json!(subresources);
    }
    r
}

/// Aggregated discovery for `/api` (`core == true`: one item named `""`) or `/apis`.
pub fn aggregated(types: &[ResourceType], core: bool, version: AggregatedVersion) -> Value {
    let group_names: Vec<(String, Vec<String>)> = if core {
        vec![(String::new(), vec!["v1".to_string()])]
    } else {
        groups(types)
    };
    let items: Vec<Value> = group_names
        .into_iter()
        .map(|(g, vs)| {
            let versions: Vec<Value> = vs
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = types
                        .iter()
                        .filter(|t| t.group == g && &t.version == v)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{}", version.as_str()),
        "metadata": {},
        "items": items
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn rt(group: &str, version: &str, kind: &str, namespaced: bool) -> ResourceType {
        let plural = format!("{}s", kind.to_lowercase());
        ResourceType {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            list_kind: format!("{kind}List"),
            singular: kind.to_lowercase(),
            plural,
            namespaced,
            verbs: ["get", "list"].map(String::from).to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn negotiation_follows_accept_order() {
        assert_eq!(negotiate(None), DiscoveryForm::Legacy);
        assert_eq!(
            negotiate(Some("application/json, */*")),
            DiscoveryForm::Legacy
        );
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(
            negotiate(Some(kubectl)),
            DiscoveryForm::Aggregated(AggregatedVersion::V2)
        );
        let old = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(
            negotiate(Some(old)),
            DiscoveryForm::Aggregated(AggregatedVersion::V2Beta1)
        );
        assert_eq!(
            DiscoveryForm::Aggregated(AggregatedVersion::V2).content_type(),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        );
    }

    #[test]
    fn versions_sort_by_kube_priority() {
        let mut v = vec!["v1alpha1", "v1beta2", "v2", "v1", "foo", "v1beta1"];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(v, ["v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
    }

    #[test]
    fn resource_list_has_subresources_and_names() {
        let mut w = rt("example.com", "v1", "Widget", true);
        w.subresources = vec!["status".into(), "scale".into()];
        w.short_names = vec!["wd".into()];
        w.categories = vec!["all".into()];
        let types = vec![rt("", "v1", "Secret", true), w];
        let l = resource_list(&types, "example.com", "v1").unwrap();
        assert_eq!(l["groupVersion"], "example.com/v1");
        let r = l["resources"].as_array().unwrap();
        assert_eq!(r[0]["name"], "widgets");
        assert_eq!(r[0]["shortNames"], json!(["wd"]));
        assert_eq!(r[1]["name"], "widgets/status");
        assert_eq!(r[1]["verbs"], json!(["get", "patch", "update"]));
        assert_eq!(r[2]["kind"], "Scale");
        assert_eq!(r[2]["group"], "autoscaling");
        assert!(resource_list(&types, "nope", "v1").is_none());
        assert_eq!(
            resource_list(&types, "", "v1").unwrap()["groupVersion"],
            "v1"
        );
    }

    #[test]
    fn aggregated_core_and_groups() {
        let types = vec![
            rt("", "v1", "Secret", true),
            rt("apps", "v1", "Deployment", true),
            rt("example.com", "v1beta1", "Widget", true),
            rt("example.com", "v1", "Widget", true),
        ];
        let core = aggregated(&types, true, AggregatedVersion::V2);
        assert_eq!(core["items"][0]["metadata"]["name"], "");
        assert_eq!(
            core["items"][0]["versions"][0]["resources"][0]["resource"],
            "secrets"
        );
        let apis = aggregated(&types, false, AggregatedVersion::V2);
        let list: kube::core::discovery::v2::APIGroupDiscoveryList =
            serde_json::from_value(apis.clone()).unwrap();
        assert_eq!(list.items.len(), 2);
        assert_eq!(apis["items"][1]["versions"][0]["version"], "v1");
        assert_eq!(apis["items"][1]["versions"][1]["version"], "v1beta1");
        let gl = group_list(&types);
        assert_eq!(gl["groups"][1]["preferredVersion"]["version"], "v1");
    }
}
