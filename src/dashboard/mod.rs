//! Typed client for the Tyk Dashboard Admin API and Dashboard API user routes.
//!
//! A thin layer over reqwest/rustls: one [`DashboardClient`] per connection, a timeout on every
//! request, a bound on requests in flight, tolerant decoding of every documented answer shape
//! (`docs/tyk-dashboard-api.md` §1.3), errors classified from status *and* message, and credentials
//! that never print. See `README.md` in this directory for the behaviour and its limits.

mod api_users;
pub(crate) mod classify;
pub(crate) mod client;
mod config;
pub mod error;
mod groups;
pub(crate) mod observe;
mod search;
pub mod secret;
pub(crate) mod tls;
pub(crate) mod users;
pub mod wire;

pub use client::{DashboardClient, MAX_BODY_BYTES, MAX_LIST_BODY_BYTES, default_replica_id};
pub use config::ConnectionConfig;
pub use error::DashboardError;
pub use groups::Group;
pub use observe::{RequestObservation, RequestObserver};
pub use secret::{AccessKey, AdminSecret, ApiKey, BearerToken, Password};
pub use wire::{CreatedUser, Envelope, MetaKind, NewUser, User, UserList};
#[cfg(test)]
mod fuzz_tests;
