//! Reconciling `DashboardUser`s: observe, [`plan`], act, write status once.

pub mod fingerprint;
pub mod plan;
