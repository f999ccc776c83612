#![recursion_limit = "512"]
//! Black-box conformance suite for the kube emulator (docs/kubernetes-api.md §6).
//!
//! With `KUBECONFIG` set, every case runs against that cluster instead (unique namespaces and
//! CRD groups, cleaned up at the end), so the same expectations can be checked against a real
//! kube-apiserver. One binary on purpose: linking several kube-heavy test binaries would
//! dominate CI time on 2 cores.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod control;
mod crd;
mod helm;
mod kubectl;
mod objects;
mod runtime;
mod ssa;
mod watch;
