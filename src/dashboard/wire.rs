//! Wire shapes of the Dashboard user API and their tolerant decoding.
//!
//! Tyk answers in several shapes depending on route and version (docs/tyk-dashboard-api.md §1.3):
//! the `{Status, Message, Meta}` envelope with a polymorphic `Meta`, bare user objects on GET,
//! and `{"users":[..],"pages":N}` lists. Decoding is deliberately lenient (nulls, missing
//! fields, unknown fields, 48-hex ids) and never keeps anything that could leak a credential
//! into `Debug` output.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::secret::AccessKey;

/// The legacy envelope `{"Status","Message","Meta"}` (docs/tyk-dashboard-api.md §1.3). `Meta` stays
/// raw JSON because it is `null`, `""`, an id string or a whole user object depending on route and
/// version.
#[derive(Clone, Default, Deserialize)]
pub struct Envelope {
    #[serde(rename = "Status", default, deserialize_with = "null_default")]
    pub status: String,
    /// On the admin create this is the new user's access key (docs/tyk-dashboard-api.md §10.2):
    /// never log it.
    #[serde(rename = "Message", default, deserialize_with = "null_default")]
    pub message: String,
    #[serde(rename = "Meta", default)]
    pub meta: Value,
    #[serde(rename = "ID", default)]
    pub id: Option<String>,
    #[serde(rename = "Errors", default)]
    pub errors: Option<Vec<String>>,
}

impl Envelope {
    /// Decodes an envelope; `None` when the body is not one (no `Status` key).
    pub fn from_slice(body: &[u8]) -> Option<Envelope> {
        // Every answer goes through here, large user lists included: look for `Status`
        // without building a tree, and decode the (small) envelope only when it is one.
        #[derive(Deserialize)]
        struct Probe {
            #[serde(rename = "Status")]
            status: Option<serde::de::IgnoredAny>,
        }
        serde_json::from_slice::<Probe>(body).ok()?.status?;
        serde_json::from_slice(body).ok()
    }

    /// `Status` is "OK" (older helm bootstrap also accepts "Ok"): compare ignoring case
    /// (docs/tyk-dashboard-api.md §1.3).
    pub fn is_ok(&self) -> bool {
        self.status.eq_ignore_ascii_case("ok")
    }

    /// The shape of `Meta`, for decisions that depend on the version variant.
    pub fn meta_kind(&self) -> MetaKind {
        match &self.meta {
            Value::Null => MetaKind::Null,
            Value::String(s) if s.is_empty() => MetaKind::Empty,
            Value::String(_) => MetaKind::String,
            Value::Object(_) => MetaKind::Object,
            _ => MetaKind::Other,
        }
    }

    /// `Meta` as an id (`POST /api/users`, `POST /admin/organisations`), normalised
    /// (docs/tyk-dashboard-api.md §1.4).
    pub fn meta_id(&self) -> Option<String> {
        match &self.meta {
            Value::String(s) if !s.is_empty() => Some(normalize_id(s)),
            _ => None,
        }
    }

    /// `Meta` as a user object (admin create, 5.8+ admin update, allow/disallow reset).
    pub fn meta_user(&self) -> Option<Result<User, serde_json::Error>> {
        match &self.meta {
            Value::Object(_) => Some(User::deserialize(&self.meta)),
            _ => None,
        }
    }
}

// Never prints Message (it can be an access key) nor Meta (it can hold a user with its key).
impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("status", &self.status)
            .field("message", &"<hidden>")
            .field("meta", &self.meta_kind())
            .finish()
    }
}

/// The JSON type of an envelope's `Meta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaKind {
    Null,
    Empty,
    String,
    Object,
    Other,
}

/// A Dashboard user as GET returns it (docs/tyk-dashboard-api.md §5). Unknown fields are kept in
/// `other` so the admin PUT can send the whole object back (docs/tyk-dashboard-api.md §2.3: the
/// update is a whole-object replace).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    #[serde(default, deserialize_with = "id_field")]
    pub id: String,
    /// `""` for a super user.
    #[serde(default, deserialize_with = "id_field")]
    pub org_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub first_name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub last_name: String,
    /// Stored lower-cased by Tyk (docs/tyk-dashboard-api.md §1.4); compare ignoring case.
    #[serde(default, deserialize_with = "null_default")]
    pub email_address: String,
    #[serde(default, deserialize_with = "null_default")]
    pub active: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub user_permissions: BTreeMap<String, String>,
    /// `""` when the user has no group.
    #[serde(default, deserialize_with = "id_field")]
    pub group_id: String,
    /// May be `""` when `forbid_admin_view_access_token` hides other users' keys
    /// (docs/tyk-dashboard-api.md §10.8).
    #[serde(default, deserialize_with = "null_default")]
    pub access_key: AccessKey,
    #[serde(default, deserialize_with = "null_default")]
    pub password_max_days: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_updated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Every other field (`api_model`, `PWHistory`, future fields), sent back on PUT.
    #[serde(flatten)]
    pub other: Extra,
}

impl User {
    /// True when the email matches ignoring case (Tyk lower-cases emails,
    /// docs/tyk-dashboard-api.md §10.9).
    pub fn email_matches(&self, email: &str) -> bool {
        self.email_address.trim().eq_ignore_ascii_case(email.trim())
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("email_address", &self.email_address)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("active", &self.active)
            .field("user_permissions", &self.user_permissions)
            .field("group_id", &self.group_id)
            .field("access_key", &self.access_key)
            .field("password_max_days", &self.password_max_days)
            .field("other", &self.other)
            .finish()
    }
}

/// Unknown user fields. `password` is dropped on decode: old Dashboards echo `""` or even a
/// bcrypt hash (docs/tyk-dashboard-api.md §3.1, §5), and sending that back on PUT would overwrite
/// the real password. `Debug` shows field names only, since a future field could hold something
/// sensitive.
#[derive(Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Extra(pub Map<String, Value>);

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = Map::<String, Value>::deserialize(d)?;
        map.retain(|k, _| !k.eq_ignore_ascii_case("password"));
        Ok(Extra(map))
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// The body of `POST /admin/users` (docs/tyk-dashboard-api.md §2.1). No password: the admin create
/// may ignore it, so passwords are always set afterwards (docs/design.md §3.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewUser {
    /// `""` creates a super user (docs/tyk-dashboard-api.md §8.1); the caller must mean it.
    pub org_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email_address: String,
    pub active: bool,
    /// Empty → the Admin API fills in `IsAdmin` + `ResetPassword` (docs/tyk-dashboard-api.md §2.1).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub user_permissions: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_max_days: Option<i64>,
}

/// What a successful create yields: the stored user and its access key.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedUser {
    pub user: User,
    pub access_key: AccessKey,
}

/// `{"users":[..],"pages":N}` from `GET /api/users` and `POST /api/users/search`
/// (docs/tyk-dashboard-api.md §3.1, §3.9).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserList {
    /// Required: an answer without `users` is not a list, and must not pass for an empty one.
    #[serde(deserialize_with = "null_default")]
    pub users: Vec<User>,
    #[serde(default, deserialize_with = "null_default")]
    pub pages: i64,
}

/// Decodes the answer of `POST /admin/users` when it carries the user (5.8+ and 2019+ shape:
/// `Message` = access key, `Meta` = user, docs/tyk-dashboard-api.md §2.1). `None` for the pre-2019
/// `"User created"` / `Meta:""` shape, which identifies nothing.
pub fn created_user_from_envelope(
    env: &Envelope,
) -> Option<Result<CreatedUser, serde_json::Error>> {
    let user = match env.meta_user()? {
        Ok(user) => user,
        Err(e) => return Some(Err(e)),
    };
    // Meta.access_key is authoritative; Message is the same key on every known version.
    let access_key = if !user.access_key.is_empty() {
        user.access_key.clone()
    } else if looks_like_key(&env.message) {
        AccessKey::new(env.message.clone())
    } else {
        AccessKey::default()
    };
    Some(Ok(CreatedUser { user, access_key }))
}

/// True for a 32-hex key or a dashed UUID (old docs, docs/tyk-dashboard-api.md §1.4): tells
/// `Message` = key apart from `Message` = "User created".
pub fn looks_like_key(s: &str) -> bool {
    let hex = s.chars().filter(|c| c.is_ascii_hexdigit()).count();
    hex >= 32 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// Decodes a bare user object (GET). Also accepts an envelope whose `Meta` is the user, should
/// a version wrap it.
pub fn decode_user(body: &[u8]) -> Result<User, serde_json::Error> {
    let value: Value = serde_json::from_slice(body)?;
    if let Some(obj) = value.as_object()
        && obj.contains_key("Status")
        && !obj.contains_key("id")
        && let Some(Value::Object(_)) = obj.get("Meta")
    {
        return User::deserialize(&obj["Meta"]);
    }
    User::deserialize(&value)
}

/// Decodes a user list.
pub fn decode_user_list(body: &[u8]) -> Result<UserList, serde_json::Error> {
    serde_json::from_slice(body)
}

/// Normalises an id: a 48-hex string that is the hex encoding of a 24-hex ASCII id (the
/// swagger examples' `ObjectID` double encoding, docs/tyk-dashboard-api.md §1.4) becomes the 24-hex
/// id; anything else is returned unchanged (lower-cased when it is hex).
pub fn normalize_id(id: &str) -> String {
    let id = id.trim();
    if id.len() == 48 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        let decoded: Option<String> = (0..24)
            .map(|i| {
                u8::from_str_radix(&id[2 * i..2 * i + 2], 16)
                    .ok()
                    .map(char::from)
            })
            .collect();
        if let Some(inner) = decoded
            && inner.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return inner.to_ascii_lowercase();
        }
    }
    if id.bytes().all(|b| b.is_ascii_hexdigit()) {
        id.to_ascii_lowercase()
    } else {
        id.to_owned()
    }
}

pub(super) fn id_field<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.map(|s| normalize_id(&s)).unwrap_or_default())
}

pub(super) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_double_encoded_ids() {
        assert_eq!(
            normalize_id("363739613032343635373135656364643530376437323733"),
            "679a02465715ecdd507d7273"
        );
        assert_eq!(
            normalize_id("679A02465715ECDD507D7273"),
            "679a02465715ecdd507d7273"
        );
        // 48 hex that does not decode to hex text is left alone.
        let odd = "a".repeat(48);
        assert_eq!(normalize_id(&odd), odd);
        assert_eq!(normalize_id(""), "");
    }

    #[test]
    fn key_shapes() {
        assert!(looks_like_key("c8251902f3f44dfa729e0267d0d62859"));
        assert!(looks_like_key("7a7b140f-2480-4b1c-9a6c-0d1e2f3a4b5c"));
        assert!(!looks_like_key("User created"));
        assert!(!looks_like_key(""));
    }
}
