//! dashboard-user-operator: keeps Tyk Dashboard users in line with `DashboardUser` resources.
pub mod dashboard;
