//! Packaging tests: the Helm chart (through Helm 4, `helm-python-sdk`), the plain manifests in
//! `deploy/`, the Argo CD health checks and the kstatus reading of our statuses, and the RBAC
//! rules against what the operator really requested.
//!
//! Helm runs in a Python child process (`helm_driver.py`); kubectl is the real binary; the
//! cluster is the in-process Kubernetes API emulator, one per test.

mod chart;
mod cli;
mod cluster;
mod crds;
mod deploy;
mod examples;
mod health;
mod health_fixtures;
mod health_live;
mod image;
mod install;
mod kstatus;
mod kubectl;
mod live_run;
mod observability;
mod rbac;
mod schema;
mod support;
mod upgrade_gap;
