//! An in-memory Kubernetes API server that real clients accept unchanged.
pub mod discovery;
pub mod openapi;
pub mod patch;
pub mod schema;
pub mod table;
