//! dashboard-user-operator: keeps Tyk Dashboard users in line with `DashboardUser` resources.

pub mod config;
pub mod crd;
pub mod dashboard;
pub mod reconcile;
