//! End-to-end tests: the real `dashboard-user-operator` binary, as a child process, against the
//! Kubernetes API emulator and the Tyk Dashboard emulator over real HTTP (or a real cluster and
//! Dashboard, see tests/common). Behaviour per DESIGN.md §2–§4; one scenario per test, each
//! with its own servers, so they run in parallel.
//!
//! Scenario modules are added here as the operator and emulator features they need land
//! (see README.md for the list and its status).

#[path = "../common/mod.rs"]
mod common;
