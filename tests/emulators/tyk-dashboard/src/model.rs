//! Stored objects, their wire shapes and the Go types request bodies decode into
//! (docs/tyk-dashboard-api.md §1.4, §2.6, §4, §5).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Map, Value, json};

use crate::gojson::{self, Ty, field, omitempty};
use crate::passwords::PasswordHash;

/// Go's zero `time.Time` as the Dashboard prints it ("never", docs/tyk-dashboard-api.md §1.4).
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `user_permissions` is a Go `map[string]string`: `encoding/json` prints it sorted by key,
/// which a `BTreeMap` reproduces.
pub type Permissions = BTreeMap<String, String>;

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email_address: String,
    pub active: bool,
    pub user_permissions: Permissions,
    pub group_id: String,
    pub access_key: String,
    pub password: Option<PasswordHash>,
    /// Previous hashes, newest first (current one excluded).
    pub pw_history: Vec<PasswordHash>,
    /// How many times a password was stored (never shown by the Dashboard API): lets a
    /// test count passwords re-sent that were already applied.
    pub password_sets: u64,
    pub password_max_days: i64,
    pub password_updated: String,
    pub last_login_date: String,
    pub created_at: String,
}

/// Per-response variations of the user object.
#[derive(Clone, Copy, Debug, Default)]
pub struct Render {
    /// `PWHistory:[]` appears only in the admin create / allow-reset answers
    /// (docs/tyk-dashboard-api.md §5).
    pub pw_history: bool,
    /// Older docs show `"password":""` in GET bodies (docs/tyk-dashboard-api.md §2.2); never the
    /// hash.
    pub blank_password: bool,
    /// `forbid_admin_view_access_token` blanks other users' keys (docs/tyk-dashboard-api.md §3.3).
    pub blank_key: bool,
}

impl User {
    pub fn new(org_id: String, email: &str) -> User {
        User {
            id: object_id(),
            org_id,
            first_name: String::new(),
            last_name: String::new(),
            email_address: email.to_lowercase(),
            active: false,
            user_permissions: Permissions::new(),
            group_id: String::new(),
            access_key: access_key(),
            password: None,
            pw_history: Vec::new(),
            password_sets: 0,
            password_max_days: 0,
            password_updated: ZERO_TIME.into(),
            last_login_date: ZERO_TIME.into(),
            created_at: now(),
        }
    }

    pub fn is_admin(&self) -> bool {
        // OPA `is_admin` checks exactly this value (docs/tyk-dashboard-api.md §6).
        self.user_permissions.get("IsAdmin").map(String::as_str) == Some("admin")
    }

    /// Field order follows the Go struct as the admin create answer shows it
    /// (docs/tyk-dashboard-api.md §2.1).
    pub fn to_json(&self, r: Render) -> Value {
        let mut m = Map::new();
        m.insert("api_model".into(), json!({}));
        m.insert("first_name".into(), json!(self.first_name));
        m.insert("last_name".into(), json!(self.last_name));
        m.insert("email_address".into(), json!(self.email_address));
        if r.blank_password {
            m.insert("password".into(), json!(""));
        }
        m.insert("org_id".into(), json!(self.org_id));
        m.insert("active".into(), json!(self.active));
        m.insert("id".into(), json!(self.id));
        let key = if r.blank_key { "" } else { &self.access_key };
        m.insert("access_key".into(), json!(key));
        m.insert("user_permissions".into(), json!(self.user_permissions));
        m.insert("group_id".into(), json!(self.group_id));
        m.insert("password_max_days".into(), json!(self.password_max_days));
        m.insert("password_updated".into(), json!(self.password_updated));
        if r.pw_history {
            // Hashes are never shown, so the history is always printed empty.
            m.insert("PWHistory".into(), json!([]));
        }
        m.insert("last_login_date".into(), json!(self.last_login_date));
        m.insert("created_at".into(), json!(self.created_at));
        Value::Object(m)
    }
}

#[derive(Clone, Debug)]
pub struct Group {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub password_max_days: i64,
    /// `None` is Go's nil map (a group created without permissions), rendered `null`.
    pub user_permissions: Option<Permissions>,
}

impl Group {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "description": self.description,
            "org_id": self.org_id, "active": self.active,
            "password_max_days": self.password_max_days,
            "user_permissions": self.user_permissions,
        })
    }

    /// The permissions, nil as empty.
    pub fn permissions(&self) -> Permissions {
        self.user_permissions.clone().unwrap_or_default()
    }
}

// The Go types the Dashboard decodes request bodies into (docs/tyk-dashboard-api.md §2–§5;
// field names and types from the swagger schemas `User`, `UserGroup`, `UserPassword`,
// `UserSearchPayload` and `OrganisationDocument`). Keys outside these types are ignored.

/// The user object of every user route (`User` schema, plus the write-only `password`).
pub static USER_BODY: Ty = Ty::Struct(&[
    field("id", Ty::ObjectId),
    field("api_model", Ty::Struct(&[])),
    field("first_name", Ty::Str),
    field("last_name", Ty::Str),
    field("email_address", Ty::Str),
    field("password", Ty::Str),
    field("org_id", Ty::Str),
    field("active", Ty::Bool),
    field("access_key", Ty::Str),
    field("user_permissions", Ty::Map(&Ty::Str)),
    field("group_id", Ty::Str),
    field("password_max_days", Ty::Int),
    field("password_updated", Ty::Time),
    field("last_login_date", Ty::Time),
    field("created_at", Ty::Time),
]);

/// `UserGroup`.
pub static GROUP_BODY: Ty = Ty::Struct(&[
    field("id", Ty::ObjectId),
    field("org_id", Ty::Str),
    field("name", Ty::Str),
    field("description", Ty::Str),
    field("active", Ty::Bool),
    field("password_max_days", Ty::Int),
    field("user_permissions", Ty::Map(&Ty::Str)),
]);

/// `UserPassword` (bootstraps also send `user_permissions`, which it has no field for,
/// docs/tyk-dashboard-api.md §3.6).
pub static PASSWORD_BODY: Ty = Ty::Struct(&[
    field("api_model", Ty::Struct(&[])),
    field("new_password", Ty::Str),
    field("current_password", Ty::Str),
]);

/// `UserSearchPayload`.
pub static SEARCH_BODY: Ty =
    Ty::Struct(&[field("filters", Ty::Struct(&[field("query", Ty::Str)]))]);

static EVENT_CONFIG: Ty = Ty::Struct(&[
    field("email", Ty::Str),
    field("redis", Ty::Bool),
    field("webhook", Ty::Str),
]);
static OPEN_POLICY: Ty = Ty::Struct(&[field("enabled", Ty::Bool), field("rules", Ty::Str)]);
static LABS: Ty = Ty::Struct(&[field("streaming", Ty::Map(&Ty::Any))]);
static ONBOARDING: Ty = Ty::Struct(&[field("enabled", Ty::Bool)]);
static HUBSPOT_FORM: Ty = Ty::Struct(&[
    field("form_id", Ty::Str),
    field("portal_id", Ty::Str),
    field("region", Ty::Str),
]);
static TRIAL: Ty = Ty::Struct(&[
    field("end_date", Ty::Int),
    omitempty("hubspot_form", Ty::Ptr(&HUBSPOT_FORM)),
]);

/// `OrganisationDocument`. Field order: docs/tyk-dashboard-api.md §2.6's list, then the fields
/// the swagger examples never show, taken as `omitempty`; `ui` (`ConfigUIOptions`) likewise,
/// in the examples' order.
pub static ORG: Ty = Ty::Struct(&[
    field("id", Ty::ObjectId),
    field("owner_name", Ty::Str),
    field("owner_slug", Ty::Str),
    field("cname", Ty::Str),
    field("cname_enabled", Ty::Bool),
    field(
        "apis",
        Ty::Slice(&Ty::Struct(&[
            field("api_human_name", Ty::Str),
            field("api_id", Ty::Str),
        ])),
    ),
    field("developer_quota", Ty::Int),
    field("developer_count", Ty::Int),
    field("event_options", Ty::Map(&EVENT_CONFIG)),
    field("hybrid_enabled", Ty::Bool),
    field(
        "ui",
        Ty::Struct(&[
            field("cloud", Ty::Bool),
            omitempty("cloudmenu", Ty::Bool),
            field("default_lang", Ty::Str),
            field("designer", Ty::Map(&Ty::Any)),
            omitempty("dev", Ty::Bool),
            field("dont_allow_license_management", Ty::Bool),
            field("dont_allow_license_management_view", Ty::Bool),
            field("dont_show_admin_sockets", Ty::Bool),
            field("hide_help", Ty::Bool),
            omitempty("labs", Ty::Ptr(&LABS)),
            field("languages", Ty::Map(&Ty::Str)),
            field("login_page", Ty::Map(&Ty::Any)),
            field("nav", Ty::Map(&Ty::Any)),
            omitempty("onboarding", Ty::Ptr(&ONBOARDING)),
            field("portal_section", Ty::Map(&Ty::Any)),
            omitempty("trial", Ty::Ptr(&TRIAL)),
            field("uptime", Ty::Map(&Ty::Any)),
        ]),
    ),
    field("org_options_meta", Ty::Map(&Ty::Any)),
    omitempty("open_policy", Ty::Ptr(&OPEN_POLICY)),
    omitempty("additional_permissions", Ty::Map(&Ty::Str)),
    omitempty("sso_enabled", Ty::Bool),
]);

/// A new organisation before its body is decoded onto it: the maps and the API list start
/// empty rather than nil, as every org in the swagger examples shows them
/// (docs/tyk-dashboard-api.md §2.6).
pub fn org_template(id: &str) -> Map<String, Value> {
    let mut v = gojson::zero(&ORG);
    v["id"] = json!(id);
    v["apis"] = json!([]);
    for k in ["event_options", "org_options_meta"] {
        v[k] = json!({});
    }
    for k in [
        "designer",
        "languages",
        "login_page",
        "nav",
        "portal_section",
        "uptime",
    ] {
        v["ui"][k] = json!({});
    }
    match v {
        Value::Object(m) => m,
        _ => unreachable!("a struct is an object"),
    }
}

/// An organisation as the Admin API shows it.
pub fn org_json(org: &Map<String, Value>) -> Value {
    gojson::render(&Value::Object(org.clone()), &ORG)
}

/// A MongoDB-ObjectId-like id: 4-byte timestamp, 5 random bytes, 3-byte counter
/// (docs/tyk-dashboard-api.md §1.4). The counter makes ids of one run strictly increasing within a
/// second.
pub fn object_id() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let secs = jiff::Timestamp::now().as_second() as u32;
    let mut rnd = [0u8; 5];
    rand::fill(&mut rnd);
    let c = COUNTER.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
    format!(
        "{secs:08x}{}{:06x}",
        rnd.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        c
    )
}

/// True for a 24-char lowercase-or-uppercase hex id, as mgo's ObjectId accepts.
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A uuid4 without dashes: 32 hex, character 13 always `4` (docs/tyk-dashboard-api.md §1.4).
pub fn access_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// RFC 3339 with a variable fraction, as Go's `time.Time` marshals
/// (docs/tyk-dashboard-api.md §1.4).
pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}
