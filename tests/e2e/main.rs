//! End-to-end tests: the real `dashboard-user-operator` binary, as a child process, against the
//! Kubernetes API emulator and the Tyk Dashboard emulator over real HTTP (or a real cluster and
//! Dashboard, see tests/common). Behaviour per docs/design.md §2–§4; one scenario per test, each
//! with its own servers, so they run in parallel.

#[path = "../common/mod.rs"]
mod common;

mod access_secret;
mod admin_users;
mod api_key_only;
mod cli_export;
mod cli_plan;
mod conflicts;
mod deletion;
mod drift;
mod groups;
mod key_owner_probe;
mod kubectl;
mod lifecycle;
mod missing;
mod namespaces;
mod observability;
mod passwords;
mod prometheus;
mod rotation;
mod scan;
mod steady;
mod support;
mod tenancy;
mod validation;
mod walkthrough;
