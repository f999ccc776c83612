//! Credential newtypes whose `Debug`/`Display` never show the value.
//!
//! Every credential the client touches (the `admin-auth` secret, an admin's Dashboard API key,
//! a user's access key, passwords) travels in one of these types, so a stray `{:?}` in a log
//! line, an error or an Event prints `<redacted>` instead of the secret. `Serialize`/`Deserialize`
//! exist only because the Dashboard's wire bodies carry these values
//! (docs/tyk-dashboard-api.md §2.1, §3.6); nothing in this crate serialises them anywhere else.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a credential value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The raw value, for the one place that must put it on the wire.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// True when no value is set (e.g. an `access_key` blanked by
            /// `forbid_admin_view_access_token`, docs/tyk-dashboard-api.md §10.8).
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        // Empty is shown as such: "no key" is useful when debugging and reveals nothing.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.0.is_empty() {
                    write!(f, "{}(<empty>)", stringify!($name))
                } else {
                    write!(f, "{}(<redacted>)", stringify!($name))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(if self.0.is_empty() { "<empty>" } else { "<redacted>" })
            }
        }
    };
}

secret_type!(
    /// The Dashboard `admin_secret`, sent as the `admin-auth` header on `/admin/*`.
    AdminSecret
);
secret_type!(
    /// An admin user's Dashboard API key, sent as `Authorization` on `/api/*`.
    ApiKey
);
secret_type!(
    /// A Dashboard user's own `access_key` (32 hex, treated as opaque;
    /// docs/tyk-dashboard-api.md §1.4).
    AccessKey
);
secret_type!(
    /// A Dashboard user's password (write-only on the wire; docs/tyk-dashboard-api.md §7).
    Password
);
secret_type!(
    /// An admin's Bearer token for the admin users API (`Authorization: Bearer <token>`).
    BearerToken
);

impl AccessKey {
    /// A user's own access key used as the credential of a Dashboard API call (self-reset,
    /// own key reset; docs/tyk-dashboard-api.md §3.6, §3.7).
    pub fn as_api_key(&self) -> ApiKey {
        ApiKey(self.0.clone())
    }
}
