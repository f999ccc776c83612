//! Emulator settings: the Dashboard's own `tyk_analytics.conf` knobs that matter for users,
//! plus response-shape profiles and the choices we made where the reference marks [?].

use serde::{Deserialize, Serialize};

/// Which Dashboard version's response shapes to reproduce (docs/tyk-dashboard-api.md §1.3, §9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Profile {
    /// Current shapes (5.8+ swagger, confirmed by TYK-DEMO on 5.13).
    #[default]
    #[serde(rename = "v5_8")]
    #[value(name = "v5_8")]
    V5_8,
    /// Dashboard 3.2.1 to 5.7: `POST /api/users` already answers "User and session have been
    /// created" with the id, but the admin PUT still answers "User updated" / `Meta:""`.
    #[serde(rename = "pre_5_8")]
    #[value(name = "pre_5_8")]
    Pre5_8,
    /// Older documented shapes (2016–2019): admin PUT "User updated" / `Meta:""`, `POST
    /// /api/users` "User created" / `Meta:""`, delete/reset `Meta:""`, GET carries
    /// `"password":""`.
    #[serde(rename = "legacy")]
    #[value(name = "legacy")]
    Legacy,
}

impl Profile {
    pub const ALL: [Profile; 3] = [Profile::V5_8, Profile::Pre5_8, Profile::Legacy];

    /// `PUT /admin/users/{id}` answers the key and the user (5.8+ swagger,
    /// docs/tyk-dashboard-api.md §2.3).
    pub fn admin_put_returns_user(self) -> bool {
        self == Profile::V5_8
    }

    /// `POST /api/users` answers "User and session have been created" + id (v3.2.1+,
    /// docs/tyk-dashboard-api.md §3.2).
    pub fn api_create_returns_id(self) -> bool {
        self != Profile::Legacy
    }

    /// Simple successes carry `Meta:""` rather than `null` (older docs,
    /// docs/tyk-dashboard-api.md §1.3), and GETs show `"password":""`
    /// (docs/tyk-dashboard-api.md §2.2).
    pub fn is_legacy(self) -> bool {
        self == Profile::Legacy
    }
}

/// Runtime settings. Field names match the Dashboard config keys where one exists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// `admin_secret`: value expected in the `admin-auth` header. Never echoed back.
    #[serde(skip_serializing, default)]
    pub admin_secret: String,
    /// `security.forbid_admin_view_access_token`: blank other users' `access_key` on /api reads.
    pub forbid_admin_view_access_token: bool,
    /// `security.forbid_admin_reset_access_token`: 403 on resetting another user's key.
    pub forbid_admin_reset_access_token: bool,
    /// `security.allow_admin_reset_password`: admins may reset other users' passwords.
    pub allow_admin_reset_password: bool,
    /// `schemas/password.json` `minLength` (docs/tyk-dashboard-api.md §7).
    pub password_min_length: usize,
    /// `security.enforce_password_history`: how many previous passwords may not be reused
    /// (0 = no check).
    pub password_history: usize,
    /// `page_size` for paged lists.
    pub page_size: usize,
    pub profile: Profile,
    /// Port to bind on 127.0.0.1 (0 = any free port). Ignored at run time.
    pub port: u16,
    /// docs/tyk-dashboard-api.md §13.1 [?]: whether `POST /admin/users` honours `password`. Default
    /// false (docs since 2018: "created without a password"); bootstraps then self-reset without
    /// `current_password`, which only works if the create did not set one.
    #[serde(default)]
    pub admin_create_sets_password: bool,
    /// docs/tyk-dashboard-api.md §13.4 [?]: whether an admin resetting *another* user's existing
    /// password must send that user's `current_password`. Default false.
    #[serde(default)]
    pub admin_reset_requires_current_password: bool,
    /// docs/tyk-dashboard-api.md §13.10 [?]: status for a request made with an inactive user's key.
    /// Default 403 (OPA "User is not active"); 401 is the other plausible answer.
    #[serde(default = "default_inactive_status")]
    pub inactive_key_status: u16,
    /// docs/tyk-dashboard-api.md §13.9 [?]: whether `forbid_admin_view_access_token` also blanks
    /// `access_key` in `GET /admin/users/{id}`. Default false: it is an Admin API (TYK-DEMO reads
    /// keys there).
    #[serde(default)]
    pub forbid_applies_to_admin_get: bool,
    /// docs/tyk-dashboard-api.md §13.6 [?]: emails unique across all orgs instead of per org (the
    /// per-org default is the `enable_multi_org_users` behaviour).
    #[serde(default)]
    pub unique_email_globally: bool,
    /// docs/tyk-dashboard-api.md §13.11 [?]: status for routes the Dashboard does not have (`GET
    /// /admin/users`, `DELETE /admin/users/{id}`, ...). Default 404; 405 is the other plausible
    /// answer.
    #[serde(default = "default_missing_route_status")]
    pub missing_route_status: u16,
}

fn default_inactive_status() -> u16 {
    403
}

fn default_missing_route_status() -> u16 {
    404
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            // The Dashboard's shipped default (docs/tyk-dashboard-api.md §1.2); tests should pass
            // their own.
            admin_secret: "12345".into(),
            forbid_admin_view_access_token: false,
            forbid_admin_reset_access_token: false,
            allow_admin_reset_password: false,
            password_min_length: 6,
            password_history: 0,
            page_size: 10,
            profile: Profile::V5_8,
            port: 0,
            admin_create_sets_password: false,
            admin_reset_requires_current_password: false,
            forbid_applies_to_admin_get: false,
            unique_email_globally: false,
            inactive_key_status: default_inactive_status(),
            missing_route_status: default_missing_route_status(),
        }
    }
}

/// A partial update for `POST /__emulator/settings`: only the given fields change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub admin_secret: Option<String>,
    pub forbid_admin_view_access_token: Option<bool>,
    pub forbid_admin_reset_access_token: Option<bool>,
    pub allow_admin_reset_password: Option<bool>,
    pub password_min_length: Option<usize>,
    pub password_history: Option<usize>,
    pub page_size: Option<usize>,
    pub profile: Option<Profile>,
    pub admin_create_sets_password: Option<bool>,
    pub admin_reset_requires_current_password: Option<bool>,
    pub forbid_applies_to_admin_get: Option<bool>,
    pub unique_email_globally: Option<bool>,
    pub inactive_key_status: Option<u16>,
    pub missing_route_status: Option<u16>,
}

impl Settings {
    /// Applies a patch; rejects values that would make the emulator misbehave.
    pub fn apply(&mut self, p: SettingsPatch) -> Result<(), String> {
        if p.page_size == Some(0) {
            return Err("page_size must be at least 1".into());
        }
        for s in [p.inactive_key_status, p.missing_route_status]
            .into_iter()
            .flatten()
        {
            if !(400..=599).contains(&s) {
                return Err(format!("status {s} is not an error status"));
            }
        }
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = p.$f { self.$f = v; } )* };
        }
        set!(
            admin_secret,
            forbid_admin_view_access_token,
            forbid_admin_reset_access_token,
            allow_admin_reset_password,
            password_min_length,
            password_history,
            page_size,
            profile,
            admin_create_sets_password,
            admin_reset_requires_current_password,
            forbid_applies_to_admin_get,
            unique_email_globally,
            inactive_key_status,
            missing_route_status
        );
        Ok(())
    }
}
