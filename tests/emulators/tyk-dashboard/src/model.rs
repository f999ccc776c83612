//! Stored objects and their wire shapes (tyk-dashboard-api.md §1.4, §2.6, §4, §5).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Map, Value, json};

use crate::passwords::PasswordHash;

/// Go's zero `time.Time` as the Dashboard prints it ("never", §1.4).
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
    /// `PWHistory:[]` appears only in the admin create / allow-reset answers (§5).
    pub pw_history: bool,
    /// Older docs show `"password":""` in GET bodies (§2.2); never the hash.
    pub blank_password: bool,
    /// `forbid_admin_view_access_token` blanks other users' keys (§3.3).
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
        // OPA `is_admin` checks exactly this value (§6).
        self.user_permissions.get("IsAdmin").map(String::as_str) == Some("admin")
    }

    /// Field order follows the Go struct as the admin create answer shows it (§2.1).
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
    pub user_permissions: Permissions,
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
}

/// An organisation is kept as the JSON object the client sent, over these defaults (§2.6):
/// the emulator has no use for its fields beyond `id`.
pub fn org_template(id: &str) -> Map<String, Value> {
    let v = json!({
        "id": id, "owner_name": "", "owner_slug": "", "cname": "", "cname_enabled": false,
        "apis": [], "developer_quota": 0, "developer_count": 0, "event_options": {},
        "hybrid_enabled": false, "ui": {}, "org_options_meta": {},
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!("literal object"),
    }
}

/// A MongoDB-ObjectId-like id: 4-byte timestamp, 5 random bytes, 3-byte counter (§1.4).
/// The counter makes ids of one run strictly increasing within a second.
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

/// A uuid4 without dashes: 32 hex, character 13 always `4` (§1.4).
pub fn access_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// RFC 3339 with a variable fraction, as Go's `time.Time` marshals (§1.4).
pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}
