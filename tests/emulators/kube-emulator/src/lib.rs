//! An in-memory Kubernetes API server that real clients accept unchanged.
pub mod patch;
pub mod schema;
