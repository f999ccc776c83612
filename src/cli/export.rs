//! `export`: every Dashboard user as a `DashboardUser` manifest that the operator adopts
//! without a single Dashboard write (docs/guides/git-migration.md).

use std::collections::BTreeMap;
use std::path::Path;

use kube::api::ObjectMeta;
use serde_json::{Value, json};

use super::args::{ExportArgs, OutputFormat};
use super::names;
use super::target::Target;
use super::{CliError, EXIT_CLEAN};
use crate::backend::RemoteObject;
use crate::crd::ConnectionType;
use crate::crd::{
    AdoptionPolicy, ConnectionKind, ConnectionRef, DEFAULT_CONNECTION, DashboardUser,
    DashboardUserSpec, DeletionPolicy, PasswordSecretRef,
};
use crate::dashboard::{User, wire::normalize_id};
use crate::reconcile::plan::{check_permissions, desired_user, valid_email};

/// What every manifest of one export shares.
#[derive(Clone, Debug)]
pub struct Options {
    pub namespace: Option<String>,
    pub connection_ref: Option<ConnectionRef>,
    pub with_password_secret_refs: bool,
    pub deletion_policy: DeletionPolicy,
}

impl Default for Options {
    /// `Orphan`: applying an export and then deleting it never deletes anything.
    fn default() -> Self {
        Self {
            namespace: None,
            connection_ref: None,
            with_password_secret_refs: false,
            deletion_policy: DeletionPolicy::Orphan,
        }
    }
}

/// One exported user; `warnings` say what could not be carried over faithfully.
#[derive(Clone, Debug)]
pub struct Exported {
    pub name: String,
    pub user: DashboardUser,
    pub warnings: Vec<String>,
}

/// Users the export cannot express as a valid manifest (reported, not exported).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub email: String,
    pub reason: String,
}

/// Turns Dashboard users into manifests, sorted by name. Pure, so "the same Dashboard gives
/// byte-identical output" is a property of this function and the renderers.
pub fn manifests(users: &[User], opts: &Options) -> (Vec<Exported>, Vec<Skipped>) {
    let mut skipped = Vec::new();
    let mut kept: Vec<&User> = Vec::new();
    for u in users {
        let email = u.email_address.trim();
        // The CRD's and operator's own rules, one function for both.
        let problem = if !valid_email(email) {
            Some("the email is not of the form name@domain the CRD requires".to_string())
        } else {
            unrepresentable(u)
        };
        match problem {
            None => kept.push(u),
            Some(reason) => skipped.push(Skipped {
                email: email.to_string(),
                reason,
            }),
        }
    }
    // Sort before naming so ties never depend on the Dashboard's list order.
    kept.sort_by(|a, b| {
        (a.email_address.to_lowercase(), &a.org_id, &a.id).cmp(&(
            b.email_address.to_lowercase(),
            &b.org_id,
            &b.id,
        ))
    });
    let keys: Vec<(String, String)> = kept
        .iter()
        .map(|u| (normalize_id(&u.org_id), u.email_address.clone()))
        .collect();
    let names = names::assign(&keys);
    let mut out: Vec<Exported> = kept
        .into_iter()
        .zip(names)
        .map(|(u, name)| manifest(u, name, opts))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    (out, skipped)
}

fn manifest(u: &User, name: String, opts: &Options) -> Exported {
    let mut warnings = Vec::new();
    let org = normalize_id(&u.org_id);
    let mut spec = DashboardUserSpec::for_email(u.email_address.trim());
    spec.connection_ref = opts.connection_ref.clone();
    spec.first_name = Some(u.first_name.clone()).filter(|s| !s.is_empty());
    spec.last_name = Some(u.last_name.clone()).filter(|s| !s.is_empty());
    // A super user has no org (docs/tyk-dashboard-api.md §5); the CRD says so with superUser.
    spec.super_user = org.is_empty();
    spec.org_id = Some(org).filter(|o| !o.is_empty());
    spec.active = u.active;
    spec.group_id = Some(normalize_id(&u.group_id)).filter(|g| !g.is_empty());
    let perms: BTreeMap<String, String> = u.user_permissions.clone();
    match check_permissions(&perms) {
        Ok(()) => spec.permissions = perms,
        Err(e) => warnings.push(format!(
            "permissions left unmanaged ({e}); the operator keeps whatever the Dashboard has"
        )),
    }
    spec.password_max_days = Some(u.password_max_days).filter(|d| *d > 0);
    if u.password_max_days > 36_500 {
        spec.password_max_days = None;
        warnings.push("passwordMaxDays left unmanaged (more than the CRD's 36500)".into());
    }
    if opts.with_password_secret_refs {
        spec.password_secret_ref = Some(PasswordSecretRef {
            name: format!("{name}-password"),
            key: "password".into(),
        });
    }
    spec.deletion_policy = opts.deletion_policy;
    spec.adoption_policy = AdoptionPolicy::IfExists;
    let mut user = DashboardUser::new(&name, spec);
    user.metadata = ObjectMeta {
        name: Some(name.clone()),
        namespace: opts.namespace.clone(),
        ..Default::default()
    };
    // Self-check with the operator's own comparison: what it would change after adopting.
    match desired_user(&user.spec, ConnectionType::TykDashboard, None) {
        Ok(d) => {
            for c in d.diff(&RemoteObject::Tyk(u.clone()).view()) {
                warnings.push(format!(
                    "{} would still differ after adoption (dashboard {}, manifest {})",
                    c.field, c.dashboard, c.desired
                ));
            }
        }
        Err(e) => warnings.push(format!("the operator would refuse this spec: {e}")),
    }
    Exported {
        name,
        user,
        warnings,
    }
}

/// A field the CRD would refuse (src/crd/rules.rs) and that cannot be left out without the
/// operator then changing it in the Dashboard: such a user is not exported.
fn unrepresentable(u: &User) -> Option<String> {
    let id_ok = |s: &str| {
        s.len() <= 128
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if u.first_name.chars().count() > 256 || u.last_name.chars().count() > 256 {
        return Some("a name is longer than the CRD's 256 characters".into());
    }
    if !id_ok(&normalize_id(&u.org_id)) || !id_ok(&normalize_id(&u.group_id)) {
        return Some("its org or group id is not id-shaped as the CRD requires".into());
    }
    None
}

/// The manifest as it is written: apiVersion/kind first, no server fields.
pub fn to_value(e: &Exported) -> Value {
    let mut meta = json!({"name": e.name});
    if let Some(ns) = &e.user.metadata.namespace {
        meta["namespace"] = ns.clone().into();
    }
    json!({
        "apiVersion": "userop.dev/v1alpha1",
        "kind": "DashboardUser",
        "metadata": meta,
        "spec": serde_json::to_value(&e.user.spec).expect("a spec serialises"),
    })
}

/// Multi-document YAML (`---` before each) or a JSON `v1` List that `kubectl apply -f` takes.
pub fn render(items: &[Exported], format: OutputFormat) -> Result<String, CliError> {
    match format {
        OutputFormat::Json => {
            let list = json!({
                "apiVersion": "v1",
                "kind": "List",
                "items": items.iter().map(to_value).collect::<Vec<_>>(),
            });
            let mut s = serde_json::to_string_pretty(&list).map_err(CliError::Render)?;
            s.push('\n');
            Ok(s)
        }
        _ => {
            let mut out = String::new();
            for e in items {
                out.push_str("---\n");
                out.push_str(&serde_yaml::to_string(&to_value(e)).map_err(CliError::RenderYaml)?);
            }
            Ok(out)
        }
    }
}

/// `--split-dir`: `<name>.yaml` per user and a `kustomization.yaml` listing them.
pub fn write_split(dir: &Path, items: &[Exported]) -> Result<(), CliError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| CliError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut resources = Vec::new();
    for e in items {
        let file = format!("{}.yaml", e.name);
        let path = dir.join(&file);
        let text = serde_yaml::to_string(&to_value(e)).map_err(CliError::RenderYaml)?;
        std::fs::write(&path, text).map_err(io(&path))?;
        resources.push(file);
    }
    let kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    });
    let path = dir.join("kustomization.yaml");
    let text = serde_yaml::to_string(&kustomization).map_err(CliError::RenderYaml)?;
    std::fs::write(&path, text).map_err(io(&path))?;
    Ok(())
}

fn parse_connection_ref(s: &str) -> Result<ConnectionRef, CliError> {
    let (kind, name) = s
        .split_once('/')
        .ok_or_else(|| CliError::Usage(format!("--connection-ref {s:?}: expected KIND/NAME")))?;
    let kind = match kind {
        "ClusterDashboardConnection" => ConnectionKind::ClusterDashboardConnection,
        "DashboardConnection" => ConnectionKind::DashboardConnection,
        other => {
            return Err(CliError::Usage(format!(
                "--connection-ref: kind {other:?} is neither DashboardConnection nor ClusterDashboardConnection"
            )));
        }
    };
    if !names::is_dns_label(name) && !name.split('.').all(names::is_dns_label) {
        return Err(CliError::Usage(format!(
            "--connection-ref: {name:?} is not a valid name"
        )));
    }
    Ok(ConnectionRef {
        kind,
        name: name.to_string(),
    })
}

pub async fn run(mut args: ExportArgs) -> Result<i32, CliError> {
    if args.output == OutputFormat::Text {
        return Err(CliError::Usage("export writes yaml or json".into()));
    }
    let opts = Options {
        namespace: args.namespace.clone(),
        connection_ref: args
            .connection_ref
            .as_deref()
            .map(parse_connection_ref)
            .transpose()?,
        with_password_secret_refs: args.with_password_secret_refs,
        deletion_policy: args.deletion_policy,
    };
    if args.connection.url.is_none() && args.connection.connection.is_none() {
        // The connection users get without a connectionRef.
        args.connection.connection = Some(DEFAULT_CONNECTION.into());
    }
    let target = Target::open(&args.connection, false).await?;
    let conn = target.fixed.expect("export always has a fixed connection");
    let Some(client) = conn.backend.tyk() else {
        return Err(CliError::Usage(format!(
            "connection {}: export reads Tyk Dashboards only",
            conn.label
        )));
    };
    let mut users = client.list_users().await?;
    if let Some(org) = &args.org {
        let org = normalize_id(org);
        users.retain(|u| normalize_id(&u.org_id) == org);
    }
    if args.skip_managed {
        let Some(cluster) = &target.cluster else {
            return Err(CliError::Usage(
                "--skip-managed reads the cluster's DashboardUsers: use --connection, not --url"
                    .into(),
            ));
        };
        // Ids on this Dashboard only (whichever connection object reaches it: claims are
        // per Dashboard, docs/multi-tenancy.md); another Dashboard may reuse the id space.
        let mut managed = std::collections::BTreeSet::new();
        // Whether (namespace, connectionRef) reaches this Dashboard, asked once each, for
        // users whose status does not say it yet.
        let mut same: BTreeMap<(Option<String>, String), bool> = BTreeMap::new();
        for u in super::plan::live_users(cluster, None).await? {
            let Some(st) = &u.status else { continue };
            let Some(id) = st.user_id.clone() else {
                continue;
            };
            let key = (
                u.metadata.namespace.clone(),
                format!("{:?}", u.connection()),
            );
            let on_this = match (&st.dashboard, same.get(&key)) {
                (Some(d), _) => *d == conn.dashboard,
                (None, Some(b)) => *b,
                (None, None) => {
                    let b = matches!(cluster.for_user(&u).await?, Ok(c) if c.dashboard == conn.dashboard);
                    same.insert(key, b);
                    b
                }
            };
            if on_this {
                managed.insert(id);
            }
        }
        let before = users.len();
        users.retain(|u| !managed.contains(&u.id));
        eprintln!(
            "left out {} users already managed by a DashboardUser",
            before - users.len()
        );
    }
    // The user whose key the connection holds is never adopted (docs/multi-tenancy.md):
    // exporting it would only give `plan` a refusal to report.
    let owner = client.key_owner().await?;
    if let Some(i) = users.iter().position(|u| u.id == owner.id) {
        users.remove(i);
        eprintln!(
            "left out {}: it holds the API key of connection {}, which is never adopted",
            owner.email_address, conn.label
        );
    }
    let (items, skipped) = manifests(&users, &opts);
    for s in &skipped {
        eprintln!("warning: skipped {}: {}", s.email, s.reason);
    }
    for e in &items {
        for w in &e.warnings {
            eprintln!("warning: {}: {w}", e.name);
        }
    }
    match &args.split_dir {
        Some(dir) => {
            write_split(dir, &items)?;
            eprintln!(
                "wrote {} users and kustomization.yaml to {}",
                items.len(),
                dir.display()
            );
        }
        None => print!("{}", render(&items, args.output)?),
    }
    Ok(EXIT_CLEAN)
}

#[cfg(test)]
mod tests;
