//! Typed client for the admin users API: `POST {base}/admin/users/` with a Bearer token is
//! documented; read, find, update, password and delete are inferred (FastAPI and REST
//! conventions, see `README.md` here for the table). Shares the Dashboard client's error
//! type, credential types, TLS set-up and request observer, so the reconciler and the
//! metrics treat both backends alike.

mod client;
mod wire;

pub use client::{AdminUsersClient, AdminUsersConfig};
pub use wire::{AdminUser, NewAdminUser, UserPatch};
