//! Reliability suite (issue #9): crash loops, Dashboard and Kubernetes faults, two replicas,
//! hostile manifests and hostile Dashboard answers, each against the real operator binary
//! and the emulators (see tests/reliability/README.md). `RELIABILITY_LONG=1` runs the long
//! form and prints the figures table; the default is the short form CI runs.

#[path = "../common/mod.rs"]
mod common;

mod crash;
mod faults;
mod figures;
mod hostile;
mod manifests;
mod overload;
mod replicas;
mod workload;
