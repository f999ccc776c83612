//! `plan -f FILE|DIR|-`: what the operator would do to the Dashboard for each manifest.

use std::collections::BTreeMap;

use kube::{Api, ResourceExt, api::ListParams};

use super::CliError;
use super::args::{OutputFormat, PlanArgs};
use super::evaluate::Evaluator;
use super::input::{self, InputError};
use super::report::{Report, Unmanaged};
use super::target::{Cluster, Target};
use crate::crd::DashboardUser;
use crate::dashboard::wire::normalize_id;

pub async fn run(args: PlanArgs) -> Result<i32, CliError> {
    let manifests = input::read_all(&args.file)?;
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    for m in &manifests {
        let ns = m.user.namespace().unwrap_or_else(|| args.namespace.clone());
        if let Some(first) = seen.insert((ns.clone(), m.user.name_any()), m.source.clone()) {
            let (path, doc) = m.source.rsplit_once('#').unwrap_or((&m.source, "0"));
            return Err(InputError::Document {
                path: path.to_string(),
                doc: doc.parse().unwrap_or(0),
                message: format!(
                    "DashboardUser {ns}/{} is also defined in {first}",
                    m.user.name_any()
                ),
            }
            .into());
        }
    }
    let target = Target::open(&args.connection, false).await?;
    let live = match &target.cluster {
        Some(c) => live_users(c, None).await?,
        None => vec![],
    };
    let mut ev = Evaluator::new(&target, live).await?;
    let mut users = Vec::new();
    for m in &manifests {
        let user = ev.as_applied(&m.user, &args.namespace);
        users.push(ev.user(&user, Some(m.source.clone())).await);
    }
    let unmanaged = if args.prune_report {
        Some(unmanaged(&ev).await?)
    } else {
        None
    };
    print(Report::new(users, unmanaged), args.output)
}

pub fn print(report: Report, format: OutputFormat) -> Result<i32, CliError> {
    match format {
        OutputFormat::Json => print!("{}", report.json().map_err(CliError::Render)?),
        _ => print!("{}", report.text()),
    }
    Ok(report.exit_code())
}

/// Every DashboardUser in the cluster (or one namespace); none when the CRD is not installed.
pub async fn live_users(c: &Cluster, ns: Option<&str>) -> Result<Vec<DashboardUser>, CliError> {
    let api: Api<DashboardUser> = match ns {
        Some(ns) => Api::namespaced(c.client.clone(), ns),
        None => Api::all(c.client.clone()),
    };
    match api.list(&ListParams::default()).await {
        Ok(l) => Ok(l.items),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(vec![]),
        Err(source) => Err(CliError::Kube {
            what: "DashboardUsers".into(),
            source,
        }),
    }
}

/// Dashboard users of every connection the plan used that no manifest mentions.
async fn unmanaged(ev: &Evaluator<'_>) -> Result<Vec<Unmanaged>, CliError> {
    let mut out = Vec::new();
    for (label, c) in &ev.used {
        let Some(client) = c.backend.tyk().filter(|t| t.has_api_key()) else {
            eprintln!(
                "warning: {label}: --prune-report lists Tyk Dashboard users, with the connection's API key"
            );
            continue;
        };
        let ids = ev.seen_ids.get(label);
        let planned = ev.creating_emails.get(label);
        for u in client.list_users().await? {
            let org = normalize_id(&u.org_id);
            let email = u.email_address.trim().to_lowercase();
            let known = ids.is_some_and(|s| s.contains(&u.id))
                || planned.is_some_and(|s| s.contains(&(org.clone(), email.clone())));
            if !known {
                out.push(Unmanaged {
                    connection: label.clone(),
                    email,
                    org_id: org,
                    user_id: u.id.clone(),
                });
            }
        }
    }
    out.sort();
    Ok(out)
}
