//! The resource types the emulator serves: compiled-in built-ins plus types registered by CRDs.
//!
//! Discovery, OpenAPI and Table output are pure functions over this registry, so it carries
//! everything they need (names, scope, verbs, subresources, printer columns, CRD schema).

use std::collections::BTreeMap;

/// One `additionalPrinterColumns` entry (or a built-in's equivalent), for Table output.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub json_path: String,
    pub description: String,
    pub priority: i32,
    pub format: String,
}

/// A group/version/resource the emulator serves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub list_kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub verbs: Vec<String>,
    /// "status", "scale".
    pub subresources: Vec<String>,
    pub printer_columns: Vec<PrinterColumn>,
    /// The CRD's `openAPIV3Schema`; `None` for built-ins. Shared: a type is cloned per
    /// request, and a deep copy of a large schema each time was a hot spot at bench sizes.
    pub schema: Option<std::sync::Arc<serde_json::Value>>,
}

/// The verbs every stored resource supports.
pub const ALL_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl ResourceType {
    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` (or `plural` for core): the qualified resource used in error messages.
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Kind.group` (or `Kind` for core): the qualified kind used in 422 messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// Objects live in one store per resource, shared across API groups where Kubernetes
    /// serves one store twice (core/v1 and events.k8s.io/v1 Events, docs/kubernetes-api.md §1.6).
    pub fn store_key(&self) -> String {
        if self.plural == "events" && (self.group.is_empty() || self.group == "events.k8s.io") {
            return "events.k8s.io/events".to_string();
        }
        format!("{}/{}", self.group, self.plural)
    }

    /// True for types registered by a CustomResourceDefinition.
    pub fn is_custom(&self) -> bool {
        self.schema.is_some()
    }

    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.iter().any(|s| s == sub)
    }
}

/// All served types, keyed by (group, version, plural).
#[derive(Clone, Debug, Default)]
pub struct Registry {
    types: BTreeMap<(String, String, String), ResourceType>,
}

impl Registry {
    /// A registry holding the compiled-in built-in types.
    pub fn with_builtins() -> Registry {
        let mut r = Registry::default();
        for t in crate::builtins::builtin_types() {
            r.insert(t);
        }
        r
    }

    pub fn insert(&mut self, t: ResourceType) {
        self.types
            .insert((t.group.clone(), t.version.clone(), t.plural.clone()), t);
    }

    pub fn remove(&mut self, group: &str, version: &str, plural: &str) -> Option<ResourceType> {
        self.types
            .remove(&(group.to_string(), version.to_string(), plural.to_string()))
    }

    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
    }

    /// Finds a type by group and kind (any version), e.g. for ownerReference checks.
    pub fn by_kind(&self, group: &str, kind: &str) -> Option<&ResourceType> {
        self.types
            .values()
            .find(|t| t.group == group && t.kind == kind)
    }

    /// Every served type, ordered by group, version, plural.
    pub fn all(&self) -> impl Iterator<Item = &ResourceType> {
        self.types.values()
    }

    /// Whether a group/version is served at all (unknown ones get a plain-text 404).
    pub fn has_group_version(&self, group: &str, version: &str) -> bool {
        self.types
            .keys()
            .any(|(g, v, _)| g == group && v == version)
    }
}

/// Shorthand used by the built-in table.
#[allow(clippy::too_many_arguments)]
pub(crate) fn builtin(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
    short_names: &[&str],
    categories: &[&str],
    subresources: &[&str],
) -> ResourceType {
    ResourceType {
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
        list_kind: format!("{kind}List"),
        plural: plural.to_string(),
        singular: kind.to_lowercase(),
        namespaced,
        short_names: short_names.iter().map(|s| s.to_string()).collect(),
        categories: categories.iter().map(|s| s.to_string()).collect(),
        verbs: ALL_VERBS.iter().map(|s| s.to_string()).collect(),
        subresources: subresources.iter().map(|s| s.to_string()).collect(),
        printer_columns: Vec::new(),
        schema: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_share_one_store_across_groups() {
        let r = Registry::with_builtins();
        let core = r.get("", "v1", "events").unwrap();
        let ev = r.get("events.k8s.io", "v1", "events").unwrap();
        assert_eq!(core.store_key(), ev.store_key());
        assert_ne!(
            r.get("", "v1", "secrets").unwrap().store_key(),
            core.store_key()
        );
    }

    #[test]
    fn qualified_names() {
        let r = Registry::with_builtins();
        let s = r.get("", "v1", "secrets").unwrap();
        assert_eq!(s.qualified_resource(), "secrets");
        let l = r.get("coordination.k8s.io", "v1", "leases").unwrap();
        assert_eq!(l.qualified_resource(), "leases.coordination.k8s.io");
        assert_eq!(l.api_version(), "coordination.k8s.io/v1");
    }
}
