//! Admission checks shared by several CRD fields, as schemars transforms: each adds a
//! bound (`maxLength`/`maxProperties`) and a CEL rule whose message says what to fix.
//!
//! Every CEL rule sits on a value with a bounded size, so the API server's cost estimate
//! stays small (Kubernetes rejects CRDs whose rules could cost too much on unbounded
//! strings or maps). The regexes follow apimachinery's validation: `IsDNS1123Subdomain`,
//! `IsDNS1123Label`, `IsConfigMapKey`, `IsQualifiedName` and `IsValidLabelValue`.

use schemars::Schema;
use serde_json::{Value, json};

/// Kubernetes object names (Secrets, connections): DNS-1123 subdomain, ≤ 253.
pub const DNS1123_SUBDOMAIN: &str =
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/// Namespace names: DNS-1123 label, ≤ 63.
pub const DNS1123_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// Keys of a Secret's `data`, ≤ 253.
pub const SECRET_KEY: &str = "^[-._a-zA-Z0-9]+$";
/// Label and annotation keys: optional DNS prefix and `/`, then a qualified name.
pub const QUALIFIED_KEY: &str = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";
/// Label values: empty, or alphanumerics with `-_.` inside, ≤ 63.
pub const LABEL_VALUE: &str = "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$";
/// Tyk object ids (orgs, groups): 24 hex digits in practice; any id-shaped token is let through.
pub const TYK_ID: &str = "^[A-Za-z0-9_-]+$";

/// Most labels/annotations one access Secret may ask for.
pub const MAX_METADATA_ENTRIES: u64 = 64;
/// Longest annotation value: 64 × 4 KiB stays within Kubernetes' 256 KiB annotation total.
pub const MAX_ANNOTATION_VALUE: u64 = 4096;

fn push_rule(schema: &mut Schema, rule: String, message: String) {
    let obj = schema.ensure_object();
    let list = obj
        .entry("x-kubernetes-validations")
        .or_insert_with(|| Value::Array(vec![]));
    if let Value::Array(a) = list {
        a.push(json!({"rule": rule, "message": message}));
    }
}

fn string_rule(schema: &mut Schema, max: u64, regex: &str, message: &str) {
    schema.insert("maxLength".into(), json!(max));
    push_rule(
        schema,
        format!("self.matches('{regex}')"),
        message.to_owned(),
    );
}

/// The name of a Kubernetes object (Secret, connection).
pub fn object_name(schema: &mut Schema) {
    schema.insert("minLength".into(), json!(1));
    string_rule(
        schema,
        253,
        DNS1123_SUBDOMAIN,
        "must be a Kubernetes object name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
    );
}

/// A namespace name.
pub fn namespace_name(schema: &mut Schema) {
    schema.insert("minLength".into(), json!(1));
    string_rule(
        schema,
        63,
        DNS1123_LABEL,
        "must be a namespace name: lower-case letters, digits and '-', starting and ending with a letter or digit",
    );
}

/// A key inside a Secret.
pub fn secret_key(schema: &mut Schema) {
    schema.insert("minLength".into(), json!(1));
    string_rule(
        schema,
        253,
        SECRET_KEY,
        "must be a Secret key: letters, digits, '-', '_' and '.' only",
    );
}

/// A Tyk organisation or group id.
pub fn tyk_id(schema: &mut Schema) {
    // No minLength: the rule's message (omit an empty id) says more than "at least 1 chars".
    string_rule(
        schema,
        128,
        TYK_ID,
        "must be a Tyk id (letters, digits, '-' and '_'; omit the field instead of leaving it empty)",
    );
}

/// A list of Tyk organisation ids (a connection policy's `allowedOrgIds`).
pub fn tyk_id_list(schema: &mut Schema) {
    schema.insert("items".into(), json!({"type": "string", "maxLength": 128}));
    push_rule(
        schema,
        format!("self.all(o, o.matches('{TYK_ID}'))"),
        "allowedOrgIds must be Tyk ids (letters, digits, '-' and '_')".into(),
    );
}

/// A connection policy's `permissionCeiling`: section names as in `permissions`, or `*`.
pub fn permission_ceiling(schema: &mut Schema) {
    schema.insert("maxProperties".into(), json!(64));
    push_rule(
        schema,
        "self.all(k, size(k) <= 64 && (k == '*' || k.matches('^[A-Za-z][A-Za-z0-9_]*$')))".into(),
        "permissionCeiling keys are permission sections (e.g. apis) or '*' for the sections not listed".into(),
    );
    push_rule(
        schema,
        "!('IsAdmin' in self) && !('ResetPassword' in self)".into(),
        "admin rights are governed by allowAdminUsers, not by permissionCeiling".into(),
    );
}

/// Tyk `user_permissions` (users and groups): at most 64 sections with short values, named
/// like Tyk's keys, valued read/write/deny, `admin` only for `IsAdmin`/`ResetPassword`.
pub fn permissions(schema: &mut Schema) {
    // Bounds keep the CEL cost estimate small.
    schema.insert("maxProperties".into(), json!(64));
    schema.insert(
        "additionalProperties".into(),
        json!({"type": "string", "maxLength": 16}),
    );
    for (rule, message) in [
        (
            "self.all(k, size(k) <= 64 && k.matches('^[A-Za-z][A-Za-z0-9_]*$'))",
            "permission names are a letter then letters, digits or '_' (e.g. apis, user_groups, IsAdmin), at most 64 long",
        ),
        (
            "self.all(k, self[k] in ['read', 'write', 'deny', 'admin'])",
            "permission values must be read, write, deny or admin",
        ),
        (
            "self.all(k, (self[k] == 'admin') == (k == 'IsAdmin' || k == 'ResetPassword'))",
            "only IsAdmin and ResetPassword take (and require) the value admin",
        ),
    ] {
        push_rule(schema, rule.into(), message.into());
    }
}

/// A user group's permissions: as a user's, at least one (Tyk's PUT refuses none), and no
/// admin roles (refused for groups since Tyk 5.6.0; `ResetPassword` is per user,
/// docs/tyk-dashboard-api.md §4).
pub fn group_permissions(schema: &mut Schema) {
    permissions(schema);
    schema.insert("minProperties".into(), json!(1));
    push_rule(
        schema,
        "!('IsAdmin' in self) && !('ResetPassword' in self)".into(),
        "groups cannot carry IsAdmin or ResetPassword (Tyk 5.6+ refuses admin roles for groups; ResetPassword is per user)".into(),
    );
}

/// A person's first or last name: free text, bounded.
pub fn display_name(schema: &mut Schema) {
    schema.insert("maxLength".into(), json!(256));
}

fn bounded_map(schema: &mut Schema, value_max: u64) {
    schema.insert("maxProperties".into(), json!(MAX_METADATA_ENTRIES));
    schema.insert(
        "additionalProperties".into(),
        json!({"type": "string", "maxLength": value_max}),
    );
}

fn key_rule(schema: &mut Schema, what: &str) {
    push_rule(
        schema,
        format!("self.all(k, size(k) <= 317 && k.matches('{QUALIFIED_KEY}'))"),
        format!(
            "{what} keys must be [prefix/]name: an optional DNS prefix, then letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        ),
    );
}

/// `accessKeySecret.labels`: Kubernetes label syntax, and the operator's own label reserved
/// (the owned-Secret watch selects on it).
pub fn secret_labels(schema: &mut Schema) {
    bounded_map(schema, 63);
    key_rule(schema, "label");
    push_rule(
        schema,
        format!("self.all(k, self[k].matches('{LABEL_VALUE}'))"),
        "label values must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit".into(),
    );
    push_rule(
        schema,
        format!("!('{}' in self)", super::MANAGED_BY_LABEL),
        format!(
            "the label {} is set by the operator and may not be given here",
            super::MANAGED_BY_LABEL
        ),
    );
}

/// `accessKeySecret.annotations`: Kubernetes key syntax, bounded values.
pub fn secret_annotations(schema: &mut Schema) {
    bounded_map(schema, MAX_ANNOTATION_VALUE);
    key_rule(schema, "annotation");
}

/// Both connection kinds' type/Secret rules, on the spec (schemars drops extensions of a
/// flattened struct): one list so the two CRDs cannot drift.
pub fn connection_type(schema: &mut Schema) {
    for (rule, message) in [
        (
            // Without adminSecretRef a Tyk connection is API-key-only (the Dashboard API alone).
            "(has(self.type) && self.type == 'AdminUsersAPI') || has(self.adminSecretRef) || has(self.apiKeySecretRef)",
            "type TykDashboard needs adminSecretRef, apiKeySecretRef (API-key-only), or both",
        ),
        (
            "(has(self.type) && self.type == 'AdminUsersAPI') || !has(self.tokenSecretRef)",
            "tokenSecretRef applies only to type AdminUsersAPI",
        ),
        (
            "!has(self.type) || self.type != 'AdminUsersAPI' || has(self.tokenSecretRef)",
            "tokenSecretRef is required for type AdminUsersAPI",
        ),
        (
            "!has(self.type) || self.type != 'AdminUsersAPI' || (!has(self.adminSecretRef) && !has(self.apiKeySecretRef) && !has(self.orgId))",
            "adminSecretRef, apiKeySecretRef and orgId apply only to type TykDashboard",
        ),
        (
            // Users record remote ids of this system: another type would make them meaningless.
            "(has(self.type) && self.type == 'AdminUsersAPI') == (has(oldSelf.type) && oldSelf.type == 'AdminUsersAPI')",
            "type is immutable",
        ),
    ] {
        push_rule(schema, rule.into(), message.into());
    }
}
