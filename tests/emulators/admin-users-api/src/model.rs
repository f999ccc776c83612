//! Users as the API stores and answers them (`UserResponse`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
    Viewer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "editor" => Some(Role::Editor),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: uuid::Uuid,
    pub username: String,
    pub email: Option<String>,
    pub role: Role,
    pub is_active: bool,
    /// SHA-256 of salt ‖ password: the emulator never keeps the password itself.
    pub password_hash: String,
    pub salt: String,
    pub password_changes: u64,
    pub last_login_at: Option<String>,
    pub created_at: String,
}

pub fn hash(salt: &str, password: &str) -> String {
    hex::encode(Sha256::digest(format!("{salt}{password}").as_bytes()))
}

/// pydantic's rendering of an aware UTC datetime: `2026-12-04T19:43:11.123456Z`.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

impl User {
    pub fn new(username: String, email: Option<String>, role: Role, password: &str) -> User {
        let salt = uuid::Uuid::new_v4().simple().to_string();
        User {
            id: uuid::Uuid::new_v4(),
            username,
            email,
            role,
            is_active: true,
            password_hash: hash(&salt, password),
            salt,
            password_changes: 0,
            last_login_at: None,
            created_at: now(),
        }
    }

    pub fn password_matches(&self, password: &str) -> bool {
        hash(&self.salt, password) == self.password_hash
    }

    pub fn set_password(&mut self, password: &str) {
        self.password_hash = hash(&self.salt, password);
        self.password_changes += 1;
    }

    /// `status`: `disabled` when inactive, `pending` until the first login, then `active`.
    pub fn status(&self) -> &'static str {
        if !self.is_active {
            "disabled"
        } else if self.last_login_at.is_none() {
            "pending"
        } else {
            "active"
        }
    }

    /// `UserResponse`. `roles` lists the one role a user has (the documented example
    /// `["admin","editor"]` shows the field is an array; one role per user is inferred).
    pub fn response(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "username": self.username,
            "email": self.email,
            "is_active": self.is_active,
            "status": self.status(),
            "last_login_at": self.last_login_at,
            "created_at": self.created_at,
            "roles": [self.role.as_str()],
        })
    }
}
