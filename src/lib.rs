//! dashboard-user-operator: keeps Tyk Dashboard users in line with `DashboardUser` resources.

pub mod admin_users;
pub mod backend;
pub mod claims;
pub mod cli;
pub mod config;
pub mod connection;
pub mod connection_status;
pub mod context;
pub mod controller;
pub mod crd;
pub mod dashboard;
pub mod group;
pub mod leader;
pub mod metrics;
pub mod policy;
pub mod reconcile;
pub mod resync;
pub mod runtime;
pub mod secrets;
pub mod server;
pub mod status;
pub mod telemetry;
pub mod watch;

pub use runtime::{run, run_with};
#[cfg(test)]
pub(crate) mod fuzzing;
