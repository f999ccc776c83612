//! `drift`: for the DashboardUsers in the cluster, the same per-user plan against the
//! Dashboard (field-level diff included), read-only — what a reviewer wants to see before
//! turning on a new operator version.

use super::CliError;
use super::args::DriftArgs;
use super::evaluate::Evaluator;
use super::plan::{live_users, print};
use super::report::Report;
use super::target::Target;

pub async fn run(args: DriftArgs) -> Result<i32, CliError> {
    let target = Target::open(&args.connection, true).await?;
    let cluster = target
        .cluster
        .as_ref()
        .expect("drift always reads a cluster");
    let mut live = live_users(cluster, args.namespace.as_deref()).await?;
    let all = if args.namespace.is_some() {
        live_users(cluster, None).await?
    } else {
        live.clone()
    };
    // Being deleted: the finalizer's cleanup is not a drift.
    live.retain(|u| u.metadata.deletion_timestamp.is_none());
    live.sort_by_key(|u| (u.metadata.namespace.clone(), u.metadata.name.clone()));
    let mut ev = Evaluator::new(&target, all).await?;
    let mut users = Vec::new();
    for u in &live {
        users.push(ev.user(u, None).await);
    }
    print(Report::new(users, None), args.output)
}
