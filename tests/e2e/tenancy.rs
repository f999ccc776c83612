//! Tenancy guardrails (issue #20): what a namespace may ask of a Dashboard through a shared
//! connection. One attack per test, each through the real operator: the user (or group) ends
//! `NotAllowed`, `SecretNotOwned` or `AlreadyExists` with a Warning Event, the Dashboard holds
//! exactly what it held before, and a Secret the operator does not own is never written. Where
//! the platform then allows the request (`spec.policy`), the same object proceeds, which shows
//! the refusal was the policy's and nothing else's.

use std::time::Duration;

use ::kube::api::{Api, PostParams};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use serde_json::{Value, json};

use crate::common::{Env, EnvOptions, STALLED, dashboard, kube, merge, random_hex, wait};
use crate::support::{has, let_resyncs_pass, status_str};

// ---- helpers ----

/// The connection label messages name (`cluster/<name>`).
fn label(env: &Env) -> String {
    format!("cluster/{}", env.connection_name)
}

/// Every user the Dashboard holds, sorted by id: the emulator's full state (every org, with
/// password counters), or on a real Dashboard the admin key's org.
async fn dashboard_users(env: &Env) -> anyhow::Result<Vec<Value>> {
    let mut all = if env.is_emulated_dashboard() {
        env.dashboard.emu_users().await?
    } else {
        env.dashboard.api_list_users(&env.admin_key).await?
    };
    for u in &all {
        if let Some(k) = u["access_key"].as_str() {
            env.corpus.secret(k);
        }
    }
    all.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Ok(all)
}

/// Fails unless the Dashboard's users are exactly `before`; the report names users by their
/// summary, never their keys.
fn unchanged(what: &str, before: &[Value], after: &[Value]) -> anyhow::Result<()> {
    if before == after {
        return Ok(());
    }
    let show = |v: &[Value]| {
        v.iter()
            .map(dashboard::describe)
            .collect::<Vec<_>>()
            .join("\n  ")
    };
    let changed: Vec<String> = after
        .iter()
        .filter(|u| !before.contains(u))
        .map(|u| {
            let old = before.iter().find(|b| b["id"] == u["id"]);
            let fields: Vec<&str> = u
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, v)| old.is_none_or(|o| &o[k.as_str()] != *v))
                .map(|(k, _)| k.as_str())
                .collect();
            format!("{} (fields {fields:?})", dashboard::describe(u))
        })
        .collect();
    anyhow::bail!(
        "{what}: the Dashboard changed; new or changed: {changed:#?}\nbefore:\n  {}\nafter:\n  {}",
        show(before),
        show(after)
    )
}

/// Successful Dashboard writes so far (emulator), `None` on a real Dashboard.
async fn writes(env: &Env) -> anyhow::Result<Option<u64>> {
    Ok(if env.is_emulated_dashboard() {
        Some(env.tyk_stats().await?.writes())
    } else {
        None
    })
}

async fn same_writes(env: &Env, what: &str, before: Option<u64>) -> anyhow::Result<()> {
    let now = writes(env).await?;
    anyhow::ensure!(
        now == before,
        "{what}: {} Dashboard write(s)",
        now.unwrap_or(0) - before.unwrap_or(0)
    );
    Ok(())
}

/// Waits for a Warning Event of `reason` about `kind` `ns/name`; returns its message.
async fn warning(
    env: &Env,
    kind: &str,
    ns: &str,
    name: &str,
    reason: &str,
) -> anyhow::Result<String> {
    wait::until(
        &format!("a Warning Event {reason} about {kind} {ns}/{name}"),
        || async {
            let events = kube::all_events(&env.client)
                .await
                .map_err(|e| e.to_string())?;
            kube::events_about(&events, name, reason)
                .into_iter()
                .find(|e| {
                    let obj = if e["regarding"].is_object() {
                        &e["regarding"]
                    } else {
                        &e["involvedObject"]
                    };
                    e["type"] == "Warning" && obj["namespace"] == ns && obj["kind"] == kind
                })
                .map(|e| {
                    e["note"]
                        .as_str()
                        .or(e["message"].as_str())
                        .unwrap_or_default()
                        .to_string()
                })
                .ok_or_else(|| "no such Event yet".to_string())
        },
    )
    .await
    .map_err(|e| env.with_logs(e))
}

/// A refusal as the contract has it: Ready=False/`reason`, Stalled=True, a message naming
/// each of `needles`, a Warning Event of that reason, and (a user the operator never had)
/// no `status.userId`. Returns the user.
async fn refused_in(
    env: &Env,
    ns: &str,
    name: &str,
    reason: &str,
    needles: &[&str],
) -> anyhow::Result<Value> {
    let u = refusal(env, ns, name, reason, needles).await?;
    anyhow::ensure!(
        status_str(&u, "userId").is_empty(),
        "{ns}/{name}: a refused user records userId {}",
        u["status"]["userId"]
    );
    Ok(u)
}

/// [`refused_in`] without the `userId` check: a user managed before its refusal keeps it.
async fn refusal(
    env: &Env,
    ns: &str,
    name: &str,
    reason: &str,
    needles: &[&str],
) -> anyhow::Result<Value> {
    let u = env
        .wait_condition_in(ns, name, "Ready", "False", reason)
        .await?;
    has(&u, STALLED, "True", Some(reason)).map_err(|e| anyhow::anyhow!("{ns}/{name}: {e}"))?;
    let (_, _, message) = kube::condition(&u, "Ready").unwrap_or_default();
    for n in needles {
        anyhow::ensure!(
            message.contains(n),
            "{ns}/{name}: the {reason} message does not name {n:?}: {message}"
        );
    }
    let event = warning(env, "DashboardUser", ns, name, reason).await?;
    anyhow::ensure!(
        needles.iter().all(|n| event.contains(n)),
        "{ns}/{name}: the {reason} Event does not name {needles:?}: {event}"
    );
    Ok(u)
}

async fn refused(env: &Env, name: &str, reason: &str, needles: &[&str]) -> anyhow::Result<Value> {
    refused_in(env, &env.ns.clone(), name, reason, needles).await
}

/// Samples `ns/name` for `period` (a few resyncs): the refusal holds as it was first reported —
/// same reason, a message still naming each of `needles`, the same lastTransitionTime. A
/// retry must neither flap to another reason nor lose the explanation.
async fn holds(
    env: &Env,
    ns: &str,
    name: &str,
    reason: &str,
    needles: &[&str],
    period: Duration,
) -> anyhow::Result<()> {
    let first = env
        .get_user_in(ns, name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{ns}/{name} is gone"))?;
    let ltt = kube::condition_field(&first, "Ready", "lastTransitionTime");
    let deadline = tokio::time::Instant::now() + period;
    while tokio::time::Instant::now() < deadline {
        let u = env
            .get_user_in(ns, name)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{ns}/{name} is gone"))?;
        let (s, r, message) = kube::condition(&u, "Ready").unwrap_or_default();
        anyhow::ensure!(
            s == "False" && r == reason,
            "{ns}/{name} went from {reason} to Ready={s}/{r}: {message}"
        );
        for n in needles {
            anyhow::ensure!(
                message.contains(n),
                "{ns}/{name}: the {reason} message no longer names {n:?}: {message}"
            );
        }
        let now = kube::condition_field(&u, "Ready", "lastTransitionTime");
        anyhow::ensure!(
            now == ltt,
            "{ns}/{name}: Ready lastTransitionTime moved from {ltt:?} to {now:?}"
        );
        tokio::time::sleep(wait::POLL).await;
    }
    Ok(())
}

/// A few resyncs, for [`holds`].
fn resync_window(env: &Env) -> Duration {
    env.op_cfg.resync * 3 + Duration::from_millis(500)
}

/// The same for a DashboardUserGroup in the test namespace.
async fn group_refused(
    env: &Env,
    name: &str,
    reason: &str,
    needles: &[&str],
) -> anyhow::Result<()> {
    let g = env
        .wait_group(name, &format!("Ready=False/{reason}"), |g| {
            has(g, "Ready", "False", Some(reason))?;
            has(g, STALLED, "True", Some(reason))
        })
        .await?;
    let (_, _, message) = kube::condition(&g, "Ready").unwrap_or_default();
    for n in needles {
        anyhow::ensure!(
            message.contains(n),
            "group {name}: the {reason} message does not name {n:?}: {message}"
        );
    }
    warning(env, "DashboardUserGroup", &env.ns, name, reason).await?;
    anyhow::ensure!(
        g["status"]["groupId"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "a refused group records groupId {}",
        g["status"]["groupId"]
    );
    Ok(())
}

/// A user the connection allows, Ready: the operator and the connection work, and the drift
/// resyncs (counted as its reads) give a refusal time to be retried before it is checked.
async fn control_user(env: &Env) -> anyhow::Result<String> {
    env.apply(&env.user("control", &env.email("control")))
        .await?;
    Ok(status_str(&env.wait_ready("control").await?, "userId"))
}

/// Lets two resyncs pass on the emulator (retries of a refusal would show by then).
async fn resyncs(env: &Env) -> anyhow::Result<()> {
    if env.is_emulated_dashboard() {
        let_resyncs_pass(env, 2).await
    } else {
        tokio::time::sleep(env.op_cfg.resync * 3).await;
        Ok(())
    }
}

/// Writes `docs` to a file and returns its path, for `plan -f`.
fn manifest_file(env: &Env, file: &str, docs: &[&Value]) -> anyhow::Result<String> {
    let mut text = String::new();
    for d in docs {
        text.push_str("---\n");
        text.push_str(&serde_yaml::to_string(d)?);
    }
    let path = env.dir.join(file);
    std::fs::write(&path, text)?;
    Ok(path.display().to_string())
}

/// The Dashboard user whose API key the connection holds (the env's admin), if it can be
/// told on this Dashboard.
async fn key_owner(env: &Env) -> anyhow::Result<Option<Value>> {
    Ok(dashboard_users(env)
        .await?
        .into_iter()
        .find(|u| u["access_key"] == env.admin_key.as_str()))
}

// ---- a. super users ----

/// `superUser: true` through a shared connection with the default policy: refused, nothing
/// created, and `plan` says the same. The platform then allows super users on the
/// connection: the user, unchanged, becomes a super user — reached through the connection's
/// watch (the resync is 10 minutes here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn super_user_waits_for_the_connection_to_allow_it() -> anyhow::Result<()> {
    let opts = EnvOptions {
        resync: Duration::from_secs(600),
        ..EnvOptions::default()
    };
    let mut env = Env::new("tenancy-super", opts).await?;
    env.create_cluster_connection(&[]).await?;
    env.start_operator().await?;
    let before = dashboard_users(&env).await?;
    let w = writes(&env).await?;

    let email = env.email("root");
    let mut u = env.user("root", &email);
    // Deactivate on deletion: an org admin's key cannot delete a super user (real Dashboards).
    merge(
        &mut u,
        json!({"spec": {"superUser": true, "deletionPolicy": "Deactivate"}}),
    );
    env.apply(&u).await?;
    let refused_u = refused(
        &env,
        "root",
        "NotAllowed",
        &["superUser", "spec.policy.allowSuperUsers", &label(&env)],
    )
    .await?;
    // plan applies the connection's policy as the operator does.
    let file = manifest_file(&env, "root.yaml", &[&u])?;
    let plan = env
        .cli(&["plan", "-f", &file, "-o", "json"], &[], None)
        .await?
        .expect(1)?
        .json()?;
    let error = &plan["users"][0]["error"];
    anyhow::ensure!(
        error["reason"] == "NotAllowed"
            && error["message"]
                .as_str()
                .is_some_and(|m| m.contains("spec.policy.allowSuperUsers")),
        "plan: {plan}"
    );
    unchanged("super user refused", &before, &dashboard_users(&env).await?)?;
    same_writes(&env, "super user refused", w).await?;

    // The platform allows it: the connection change alone brings the user through.
    env.set_cluster_policy(&env.connection_name, json!({"allowSuperUsers": true}))
        .await?;
    let ready = env.wait_ready("root").await?;
    anyhow::ensure!(
        ready["metadata"]["generation"] == refused_u["metadata"]["generation"]
            && ready["spec"] == refused_u["spec"],
        "the user was changed on the way to Ready"
    );
    let remote = env.remote(&status_str(&ready, "userId")).await?;
    anyhow::ensure!(
        remote["org_id"] == "" && remote["email_address"] == email.to_lowercase(),
        "not the super user asked for: {}",
        dashboard::describe(&remote)
    );
    env.finish().await
}

// ---- b. another organisation ----

/// `orgId` of an organisation the connection does not name: refused, nothing created there
/// (nor anywhere). Listing the org in `allowedOrgIds` lets it through (emulator: it can make
/// a second org).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_org_is_refused_until_the_connection_lists_it() -> anyhow::Result<()> {
    let env = Env::ready("tenancy-org").await?;
    control_user(&env).await?;
    let other = if env.is_emulated_dashboard() {
        env.dashboard
            .create_org(&format!("e2e-other-{}", random_hex(6)))
            .await?
    } else {
        // Someone's real Dashboard: an org id that is not the connection's is enough.
        random_hex(24)
    };
    let before = dashboard_users(&env).await?;
    let w = writes(&env).await?;

    let email = env.email("elsewhere");
    let mut u = env.user("elsewhere", &email);
    merge(
        &mut u,
        json!({"spec": {"orgId": other, "deletionPolicy": "Deactivate"}}),
    );
    env.apply(&u).await?;
    refused(
        &env,
        "elsewhere",
        "NotAllowed",
        &[
            &format!("org {other}"),
            "spec.policy.allowedOrgIds",
            &label(&env),
        ],
    )
    .await?;
    resyncs(&env).await?;
    env.wait_condition("elsewhere", "Ready", "False", "NotAllowed")
        .await?;
    anyhow::ensure!(
        env.users_with_email(&email).await?.is_empty(),
        "a user was created for another org"
    );
    unchanged("other org refused", &before, &dashboard_users(&env).await?)?;
    same_writes(&env, "other org refused", w).await?;

    if env.is_emulated_dashboard() {
        env.set_cluster_policy(&env.connection_name, json!({"allowedOrgIds": [other]}))
            .await?;
        let id = status_str(&env.wait_ready("elsewhere").await?, "userId");
        let remote = env.remote(&id).await?;
        anyhow::ensure!(
            remote["org_id"] == other.as_str(),
            "org {}",
            remote["org_id"]
        );
    }
    env.finish().await
}

// ---- c. admin rights and the permission ceiling ----

/// `IsAdmin`, `ResetPassword` and a user without permissions (Tyk makes it an admin) are
/// refused by default; under `permissionCeiling: {"*": read}` a user and a group asking
/// `apis: write` are refused, and so is a literal `groupId`, while `read` passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_rights_and_the_permission_ceiling() -> anyhow::Result<()> {
    let env = Env::ready("tenancy-admin").await?;
    control_user(&env).await?;
    let before = dashboard_users(&env).await?;
    let w = writes(&env).await?;

    let conn = label(&env);
    let mut emails = Vec::new();
    for (name, perms, needles) in [
        (
            "is-admin",
            json!({"IsAdmin": "admin"}),
            vec!["permissions.IsAdmin", "spec.policy.allowAdminUsers"],
        ),
        (
            "reset-pw",
            json!({"ResetPassword": "admin"}),
            vec!["permissions.ResetPassword", "spec.policy.allowAdminUsers"],
        ),
        (
            "no-perms",
            Value::Null,
            vec!["without permissions", "spec.policy.allowAdminUsers"],
        ),
    ] {
        let email = env.email(name);
        let mut u = env.user(name, &email);
        if perms.is_null() {
            u["spec"].as_object_mut().unwrap().remove("permissions");
        } else {
            merge(&mut u, json!({"spec": {"permissions": perms}}));
        }
        env.apply(&u).await?;
        let mut needles = needles;
        needles.push(&conn);
        refused(&env, name, "NotAllowed", &needles).await?;
        emails.push(email);
    }
    resyncs(&env).await?;
    for e in &emails {
        anyhow::ensure!(env.users_with_email(e).await?.is_empty(), "{e} was created");
    }
    unchanged("admins refused", &before, &dashboard_users(&env).await?)?;
    same_writes(&env, "admins refused", w).await?;

    // A ceiling: read at most, for users and groups alike.
    env.set_cluster_policy(
        &env.connection_name,
        json!({"permissionCeiling": {"*": "read"}}),
    )
    .await?;
    let writer = env.email("writer");
    let mut u = env.user("writer", &writer);
    merge(
        &mut u,
        json!({"spec": {"permissions": {"apis": "write", "analytics": "read"}}}),
    );
    env.apply(&u).await?;
    refused(
        &env,
        "writer",
        "NotAllowed",
        &["permissions.apis: write", "spec.policy.permissionCeiling"],
    )
    .await?;
    let literal = env.email("literal");
    let mut u = env.user("literal", &literal);
    merge(
        &mut u,
        json!({"spec": {"groupId": "0123456789abcdef01234567"}}),
    );
    env.apply(&u).await?;
    refused(
        &env,
        "literal",
        "NotAllowed",
        &["groupId", "groupRef", "spec.policy.permissionCeiling"],
    )
    .await?;
    let wide = format!("e2e-wide-{}", random_hex(6));
    let mut g = env.group("wide", &wide);
    merge(&mut g, json!({"spec": {"permissions": {"apis": "write"}}}));
    env.apply(&g).await?;
    group_refused(
        &env,
        "wide",
        "NotAllowed",
        &["permissions.apis: write", "spec.policy.permissionCeiling"],
    )
    .await?;

    // What the ceiling allows still goes through: a reader, and a group of readers.
    let reader = env.email("reader");
    env.apply(&env.user("reader", &reader)).await?;
    env.wait_ready("reader").await?;
    let narrow = format!("e2e-narrow-{}", random_hex(6));
    env.apply(&env.group("narrow", &narrow)).await?;
    env.wait_group_ready("narrow").await?;
    for e in [&writer, &literal] {
        anyhow::ensure!(env.users_with_email(e).await?.is_empty(), "{e} was created");
    }
    anyhow::ensure!(
        env.groups_named(&wide).await?.is_empty(),
        "the group above the ceiling was created"
    );
    env.finish().await
}

// ---- d. adoption ----

/// `adoptionPolicy: IfExists` with the email of a Dashboard user nobody manages: refused by
/// default, that user untouched (names, permissions, password, key), no Secret with its key,
/// and deleting the DashboardUser does not delete it. With `allowAdoption: true` the
/// connection's own API-key owner is still never taken over; an ordinary user then is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adoption_needs_the_connection_and_never_takes_the_key_owner() -> anyhow::Result<()> {
    let env = Env::ready("tenancy-adopt").await?;
    control_user(&env).await?;
    let email = env.email("victim");
    let (victim, victim_key) = env
        .dashboard
        .admin_create_user(&json!({
            "org_id": env.org_id, "first_name": "Victor", "last_name": "Im",
            "email_address": email, "active": true, "user_permissions": {"apis": "read"}
        }))
        .await?;
    env.corpus.secret(&victim_key);
    let before = dashboard_users(&env).await?;
    let w = writes(&env).await?;

    let pw = env.password();
    env.put_password("grab-pw", &pw).await?;
    let mut grab = env.user("grab", &email);
    merge(
        &mut grab,
        json!({"spec": {"adoptionPolicy": "IfExists", "firstName": "Mallory",
                        "permissions": {"apis": "write"},
                        "passwordSecretRef": {"name": "grab-pw"}}}),
    );
    env.apply(&grab).await?;
    let grab_says = ["spec.policy.allowAdoption", &label(&env)];
    refused(&env, "grab", "NotAllowed", &grab_says).await?;
    // It stays refused (a retry must not turn it into something else) and writes nothing.
    let (ns, period) = (env.ns.clone(), resync_window(&env));
    holds(&env, &ns, "grab", "NotAllowed", &grab_says, period).await?;
    unchanged("adoption refused", &before, &dashboard_users(&env).await?)?;
    same_writes(&env, "adoption refused", w).await?;
    if env.is_emulated_dashboard() {
        anyhow::ensure!(
            !env.check_password(&email, &pw).await?,
            "the victim's password was replaced"
        );
    }
    if let Some(s) = env.secret("grab-dashboard-access").await? {
        anyhow::ensure!(
            kube::secret_str(&s, "accessKey").as_deref() != Some(victim_key.as_str()),
            "the victim's access key was published"
        );
    }
    // Deleting the refused DashboardUser must not delete the user it named.
    env.delete_user("grab").await?;
    env.wait_user_gone("grab").await?;
    env.remote(&victim).await?;
    unchanged(
        "refused DashboardUser deleted",
        &before,
        &dashboard_users(&env).await?,
    )?;

    // The platform allows adoption; the connection's own key owner is still never adopted.
    env.set_cluster_policy(&env.connection_name, json!({"allowAdoption": true}))
        .await?;
    match key_owner(&env).await? {
        Some(owner) => {
            let owner_email = owner["email_address"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let before = dashboard_users(&env).await?;
            let w = writes(&env).await?;
            let mut take = env.user("take-owner", &owner_email);
            merge(
                &mut take,
                json!({"spec": {"adoptionPolicy": "IfExists",
                                "passwordSecretRef": {"name": "grab-pw"}}}),
            );
            env.apply(&take).await?;
            let says = ["holds the API key of connection", &label(&env)];
            refused(&env, "take-owner", "NotAllowed", &says).await?;
            holds(&env, &ns, "take-owner", "NotAllowed", &says, period).await?;
            unchanged("key owner refused", &before, &dashboard_users(&env).await?)?;
            same_writes(&env, "key owner refused", w).await?;
            if let Some(s) = env.secret("take-owner-dashboard-access").await? {
                anyhow::ensure!(
                    kube::secret_str(&s, "accessKey").as_deref() != Some(env.admin_key.as_str()),
                    "the connection's own API key was published"
                );
            }
        }
        None => eprintln!(
            "SKIP {}: the Dashboard does not show which user holds the API key",
            env.test
        ),
    }

    // The same adoption the default policy refused now goes through: the policy was the gate.
    env.apply(&grab).await?;
    let adopted = env.wait_ready("grab").await?;
    anyhow::ensure!(
        status_str(&adopted, "userId") == victim,
        "adopted {} instead of {victim}",
        adopted["status"]["userId"]
    );
    env.finish().await
}

// ---- e. one Dashboard, two connections ----

/// A second ClusterDashboardConnection to the same Dashboard (the URL spelt with a trailing
/// slash) that allows another namespace and adoption: a DashboardUser there naming team A's
/// managed user is `AlreadyExists`, team A's user is untouched (record, password, key), and
/// deleting the intruder leaves it in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_connection_cannot_take_a_managed_user() -> anyhow::Result<()> {
    let mut env = Env::new("tenancy-two-connections", EnvOptions::default()).await?;
    let b = env.extra_namespace("team-b").await?;
    env.create_cluster_connection(&[]).await?;
    let other_conn = env.connection_name.replace("default", "team-b-dashboard");
    let mut conn = env.cluster_connection_object(&[]);
    conn["metadata"]["name"] = json!(other_conn);
    conn["spec"]["url"] = json!(format!("{}/", env.dashboard.url));
    conn["spec"]["allowedNamespaces"] = json!({"names": [b]});
    conn["spec"]["policy"] = json!({"allowAdoption": true});
    env.apply(&conn).await?;
    if !env.is_emulated_cluster() {
        env.op_cfg.watch_namespaces.push(b.clone());
    }
    env.start_operator().await?;

    // Team A's user, managed through the default connection.
    let email = env.email("alice");
    let pw_a = env.password();
    env.put_password("alice-pw", &pw_a).await?;
    let mut alice = env.user("alice", &email);
    merge(
        &mut alice,
        json!({"spec": {"passwordSecretRef": {"name": "alice-pw"}}}),
    );
    env.apply(&alice).await?;
    let ready = env.wait_ready("alice").await?;
    let id = status_str(&ready, "userId");
    anyhow::ensure!(
        ready["status"]["dashboard"]
            .as_str()
            .is_some_and(|d| d.starts_with("TykDashboard:")),
        "status.dashboard: {}",
        ready["status"]["dashboard"]
    );
    if env.is_emulated_dashboard() {
        env.wait_password(&email, &pw_a).await?;
        let_resyncs_pass(&env, 1).await?;
    }
    let before = dashboard_users(&env).await?;
    let w = writes(&env).await?;

    // Team B asks for the same login through its own connection.
    let pw_b = env.password();
    env.put_secret(&b, "intruder-pw", &[("password", &pw_b)])
        .await?;
    let intruder = json!({
        "apiVersion": kube::API_VERSION, "kind": "DashboardUser",
        "metadata": {"name": "intruder", "namespace": b},
        "spec": {
            "connectionRef": {"kind": "ClusterDashboardConnection", "name": other_conn},
            "email": email.to_uppercase(), "firstName": "Mallory",
            "permissions": {"apis": "write"},
            "adoptionPolicy": "IfExists",
            "passwordSecretRef": {"name": "intruder-pw"},
        }
    });
    env.apply(&intruder).await?;
    let says = ["already managed by another DashboardUser"];
    refused_in(&env, &b, "intruder", "AlreadyExists", &says).await?;
    holds(
        &env,
        &b,
        "intruder",
        "AlreadyExists",
        &says,
        resync_window(&env),
    )
    .await?;
    unchanged("intruder refused", &before, &dashboard_users(&env).await?)?;
    same_writes(&env, "intruder refused", w).await?;
    if env.is_emulated_dashboard() {
        anyhow::ensure!(
            env.check_password(&email, &pw_a).await? && !env.check_password(&email, &pw_b).await?,
            "team A's password was replaced"
        );
    }
    let key_a = env.remote(&id).await?["access_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Some(s) = kube::get_secret(&env.client, &b, "intruder-dashboard-access").await? {
        anyhow::ensure!(
            kube::secret_str(&s, "accessKey").as_deref() != Some(key_a.as_str()),
            "team A's access key was published in team B"
        );
    }

    // Team B deletes its DashboardUser: team A's user stays, and stays Ready.
    kube::delete(&env.client, &kube::user_resource(), Some(&b), "intruder").await?;
    wait::until("intruder deleted", || async {
        match env.get_user_in(&b, "intruder").await {
            Ok(None) => Ok(()),
            Ok(Some(u)) => Err(format!("finalizers {}", u["metadata"]["finalizers"])),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
    .map_err(|e| env.with_logs(e))?;
    resyncs(&env).await?;
    unchanged("intruder deleted", &before, &dashboard_users(&env).await?)?;
    env.remote(&id).await?;
    env.wait_ready("alice").await?;
    env.finish().await
}

// ---- f. someone else's Secret ----

/// `accessKeySecret.name` naming an app's existing Secret: `SecretNotOwned`, the Secret byte
/// for byte as it was (data, labels, annotations, owners, resourceVersion), nothing done in
/// the Dashboard; deleting the DashboardUser leaves the Secret. Once the Secret is deleted,
/// its deletion alone (the resync is 10 minutes here) brings a waiting user to Ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_secret_is_never_written_or_deleted() -> anyhow::Result<()> {
    let opts = EnvOptions {
        resync: Duration::from_secs(600),
        ..EnvOptions::default()
    };
    let mut env = Env::new("tenancy-secret", opts).await?;
    env.create_cluster_connection(&[]).await?;
    env.start_operator().await?;

    // The app's database credentials, owned by the app's ConfigMap.
    let cms: Api<ConfigMap> = Api::namespaced(env.client.clone(), &env.ns);
    let owner = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "db"}, "data": {"host": "db.internal"}
            }))?,
        )
        .await?;
    let db_password = format!("db-{}", random_hex(24));
    env.corpus.secret(&db_password);
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), &env.ns);
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {
                    "name": "db-credentials",
                    "labels": {"app": "db"},
                    "annotations": {"team": "payments"},
                    "ownerReferences": [{
                        "apiVersion": "v1", "kind": "ConfigMap", "name": "db",
                        "uid": owner.metadata.uid, "controller": true
                    }]
                },
                "type": "Opaque",
                "stringData": {"username": "app", "password": db_password}
            }))?,
        )
        .await?;
    let snapshot = || async {
        let s = kube::get_secret(&env.client, &env.ns, "db-credentials")
            .await?
            .ok_or_else(|| anyhow::anyhow!("the app's Secret is gone"))?;
        anyhow::Ok(serde_json::to_value(s)?)
    };
    let original = snapshot().await?;
    let before = dashboard_users(&env).await?;
    let w = writes(&env).await?;

    let email = env.email("app");
    let mut u = env.user("app", &email);
    merge(
        &mut u,
        json!({"spec": {"accessKeySecret": {"name": "db-credentials"}}}),
    );
    env.apply(&u).await?;
    refused(&env, "app", "SecretNotOwned", &["db-credentials"]).await?;
    anyhow::ensure!(
        snapshot().await? == original,
        "the app's Secret was written"
    );
    anyhow::ensure!(
        env.users_with_email(&email).await?.is_empty(),
        "a Dashboard user was created for a user without a Secret of its own"
    );
    unchanged("SecretNotOwned", &before, &dashboard_users(&env).await?)?;
    same_writes(&env, "SecretNotOwned", w).await?;

    // Deleting the DashboardUser never deletes the Secret it named.
    env.delete_user("app").await?;
    env.wait_user_gone("app").await?;
    anyhow::ensure!(
        snapshot().await? == original,
        "deleting the DashboardUser changed the app's Secret"
    );
    unchanged(
        "SecretNotOwned deleted",
        &before,
        &dashboard_users(&env).await?,
    )?;

    // A user waiting on the name proceeds once the Secret is gone: the Secret's deletion
    // event requeues it (no resync can within this test).
    let email2 = env.email("app2");
    let mut u2 = env.user("app2", &email2);
    merge(
        &mut u2,
        json!({"spec": {"accessKeySecret": {"name": "db-credentials"}}}),
    );
    env.apply(&u2).await?;
    refused(&env, "app2", "SecretNotOwned", &["db-credentials"]).await?;
    anyhow::ensure!(
        snapshot().await? == original,
        "the app's Secret was written"
    );
    same_writes(&env, "SecretNotOwned again", w).await?;
    kube::delete_secret(&env.client, &env.ns, "db-credentials").await?;
    let ready = env.wait_ready("app2").await?;
    let key = env.remote(&status_str(&ready, "userId")).await?["access_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let uid = ready["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    env.wait_secret("db-credentials", "now app2's, with its key", |d, s| {
        let owned = s
            .metadata
            .owner_references
            .iter()
            .flatten()
            .any(|o| o.uid == uid && o.controller == Some(true));
        (owned && d.get("accessKey") == Some(&key) && !d.contains_key("password"))
            .then_some(())
            .ok_or_else(|| "not yet".to_string())
    })
    .await?;
    env.finish().await
}

// ---- g. an upgrade narrows the policy ----

/// A super user made while its connection allowed it; then the connection's policy narrows
/// (as the upgrade to the new defaults does): the user goes `NotAllowed` and the operator
/// writes nothing to it over several resyncs; deleting the DashboardUser releases the
/// finalizer with a `FinalizerReleased` Warning and leaves the Dashboard user in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrowed_policy_freezes_an_existing_super_user() -> anyhow::Result<()> {
    let env = Env::ready_with_policy("tenancy-upgrade", json!({"allowSuperUsers": true})).await?;
    control_user(&env).await?;
    let email = env.email("old-root");
    let mut u = env.user("old-root", &email);
    // The default deletionPolicy (Delete): the strongest reason to touch the user later.
    merge(&mut u, json!({"spec": {"superUser": true}}));
    env.apply(&u).await?;
    let id = status_str(&env.wait_ready("old-root").await?, "userId");

    // The upgrade: the connection now has the default (narrow) policy.
    env.set_cluster_policy(&env.connection_name, Value::Null)
        .await?;
    let frozen = refusal(
        &env,
        &env.ns,
        "old-root",
        "NotAllowed",
        &["superUser", "spec.policy.allowSuperUsers"],
    )
    .await?;
    anyhow::ensure!(
        status_str(&frozen, "userId") == id,
        "the refused user lost its identity: {}",
        frozen["status"]["userId"]
    );
    // Someone edits the user in the Dashboard meanwhile: a managed user's drift would be
    // reverted, this one's is not, as nothing goes to it through this connection any more.
    let mut edited = env.remote(&id).await?;
    edited["first_name"] = json!("Edited");
    env.dashboard.admin_put_user(&id, &edited).await?;
    let before = dashboard_users(&env).await?;
    let w = writes(&env).await?;
    let log_start = if env.is_emulated_dashboard() {
        env.tyk_requests().await?.len()
    } else {
        0
    };
    resyncs(&env).await?;
    env.wait_condition("old-root", "Ready", "False", "NotAllowed")
        .await?;
    unchanged("policy narrowed", &before, &dashboard_users(&env).await?)?;
    same_writes(&env, "policy narrowed", w).await?;

    env.delete_user("old-root").await?;
    env.wait_user_gone("old-root").await?;
    let released = warning(
        &env,
        "DashboardUser",
        &env.ns,
        "old-root",
        "FinalizerReleased",
    )
    .await?;
    anyhow::ensure!(
        released.contains("spec.policy.allowSuperUsers"),
        "FinalizerReleased does not say why: {released}"
    );
    unchanged(
        "refused user deleted",
        &before,
        &dashboard_users(&env).await?,
    )?;
    same_writes(&env, "refused user deleted", w).await?;
    let remote = env.remote(&id).await?;
    anyhow::ensure!(remote["active"] == true, "the super user was deactivated");
    if env.is_emulated_dashboard() {
        let log = env.tyk_requests().await?;
        let touched: Vec<String> = log[log_start..]
            .iter()
            .filter(|r| r["method"] != "GET" && r["path"] != "/api/users/search")
            .map(|r| format!("{} {} {}", r["method"], r["path"], r["outcome"]))
            .collect();
        anyhow::ensure!(
            touched.is_empty(),
            "Dashboard requests other than reads after the policy narrowed: {touched:#?}"
        );
    }
    env.finish().await
}

// ---- g'. a takeover recorded before the upgrade ----

/// A DashboardUser that records the connection's own API-key owner as its `userId` (an
/// adoption an older version allowed, or a status written by hand): the operator neither
/// updates that user (its names, permissions, password, key) nor deletes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_key_owner_is_never_written_or_deleted() -> anyhow::Result<()> {
    let env = Env::ready("tenancy-recorded-owner").await?;
    let Some(owner) = key_owner(&env).await? else {
        eprintln!(
            "SKIP {}: the Dashboard does not show which user holds the API key",
            env.test
        );
        return env.finish().await;
    };
    let owner_id = owner["id"].as_str().unwrap_or_default().to_string();
    let owner_email = owner["email_address"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let pw = env.password();
    env.put_password("old-pw", &pw).await?;
    let mut u = env.user("old-takeover", &owner_email);
    merge(
        &mut u,
        json!({"spec": {"firstName": "Mallory", "passwordSecretRef": {"name": "old-pw"}}}),
    );
    env.apply(&u).await?;
    // Not adoptable: the operator refuses it as an existing user first.
    env.wait_condition("old-takeover", "Ready", "False", "AlreadyExists")
        .await?;
    let before = dashboard_users(&env).await?;
    let w = writes(&env).await?;

    // What an older version's adoption left behind: the key owner's id in status.
    kube::api(&env.client, &kube::user_resource(), Some(&env.ns))
        .patch_status(
            "old-takeover",
            &::kube::api::PatchParams::default(),
            &::kube::api::Patch::Merge(json!({"status": {
                "userId": owner_id, "createConflict": null, "createIntent": null
            }})),
        )
        .await?;
    let says = ["holds the API key of connection", &label(&env)];
    refusal(&env, &env.ns, "old-takeover", "NotAllowed", &says).await?;
    unchanged("recorded key owner", &before, &dashboard_users(&env).await?)?;
    same_writes(&env, "recorded key owner", w).await?;
    if env.is_emulated_dashboard() {
        anyhow::ensure!(
            !env.check_password(&owner_email, &pw).await?,
            "the key owner's password was replaced"
        );
    }
    if let Some(s) = env.secret("old-takeover-dashboard-access").await? {
        anyhow::ensure!(
            kube::secret_str(&s, "accessKey").as_deref() != Some(env.admin_key.as_str()),
            "the connection's own API key was published"
        );
    }

    env.delete_user("old-takeover").await?;
    env.wait_user_gone("old-takeover").await?;
    let released = warning(
        &env,
        "DashboardUser",
        &env.ns,
        "old-takeover",
        "FinalizerReleased",
    )
    .await?;
    anyhow::ensure!(
        released.contains("holds the API key"),
        "FinalizerReleased does not say why: {released}"
    );
    env.remote(&owner_id).await?;
    unchanged(
        "recorded key owner deleted",
        &before,
        &dashboard_users(&env).await?,
    )?;
    same_writes(&env, "recorded key owner deleted", w).await?;
    env.finish().await
}

// ---- h. the credential scan over the refusals ----

/// The refusal paths at debug log level — a super user and an adoption with passwords, the
/// connection's key owner, someone else's Secret holding a credential, a group above the
/// ceiling, and `plan` over all of them — then the scan (`Env::finish`): no password, key or
/// foreign Secret value in any log line, Event, status, metric or CLI output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_leaks_from_a_refusal() -> anyhow::Result<()> {
    let opts = EnvOptions {
        log_level: "debug,hyper=info,hyper_util=info,tower=info,rustls=info".into(),
        ..Default::default()
    };
    let mut env = Env::new("tenancy-scan", opts).await?;
    env.create_cluster_connection(&[]).await?;
    env.start_operator().await?;
    let pw = env.password();
    env.put_password("scan-pw", &pw).await?;
    let with_pw = |name: &str, email: &str, patch: Value| {
        let mut u = env.user(name, email);
        merge(
            &mut u,
            json!({"spec": {"passwordSecretRef": {"name": "scan-pw"}}}),
        );
        merge(&mut u, json!({ "spec": patch }));
        u
    };

    // A super user, and an adoption of a user nobody manages (its key is a credential too).
    let root = with_pw("root", &env.email("root"), json!({"superUser": true}));
    env.apply(&root).await?;
    let victim = env.email("victim");
    let (_, victim_key) = env
        .dashboard
        .admin_create_user(&json!({
            "org_id": env.org_id, "first_name": "V", "email_address": victim,
            "active": true, "user_permissions": {"apis": "read"}
        }))
        .await?;
    env.corpus.secret(&victim_key);
    let grab = with_pw("grab", &victim, json!({"adoptionPolicy": "IfExists"}));
    env.apply(&grab).await?;
    // Someone else's Secret, holding a token, named as an access Secret.
    let token = format!("tok-{}", random_hex(32));
    env.corpus.secret(&token);
    env.put_secret(&env.ns.clone(), "ci-token", &[("token", &token)])
        .await?;
    let foreign = with_pw(
        "foreign",
        &env.email("foreign"),
        json!({"accessKeySecret": {"name": "ci-token", "key": "token"}}),
    );
    env.apply(&foreign).await?;
    refused(&env, "root", "NotAllowed", &["spec.policy.allowSuperUsers"]).await?;
    refused(&env, "grab", "NotAllowed", &["spec.policy.allowAdoption"]).await?;
    refused(&env, "foreign", "SecretNotOwned", &["ci-token"]).await?;

    // Adoption allowed under a ceiling: the key owner is refused, a wide group too.
    env.set_cluster_policy(
        &env.connection_name,
        json!({"allowAdoption": true, "permissionCeiling": {"*": "read"}}),
    )
    .await?;
    let mut owner_doc = None;
    if let Some(owner) = key_owner(&env).await? {
        let take = with_pw(
            "take-owner",
            owner["email_address"].as_str().unwrap_or_default(),
            json!({"adoptionPolicy": "IfExists"}),
        );
        env.apply(&take).await?;
        refused(
            &env,
            "take-owner",
            "NotAllowed",
            &["holds the API key of connection"],
        )
        .await?;
        owner_doc = Some(take);
    }
    let mut g = env.group("wide", &format!("e2e-wide-{}", random_hex(6)));
    merge(&mut g, json!({"spec": {"permissions": {"apis": "write"}}}));
    env.apply(&g).await?;
    group_refused(
        &env,
        "wide",
        "NotAllowed",
        &["spec.policy.permissionCeiling"],
    )
    .await?;
    // The adoption is allowed now: the victim is taken over and gets the password.
    env.wait_ready("grab").await?;
    if env.is_emulated_dashboard() {
        env.wait_password(&victim, &pw).await?;
    }

    // plan over the refused manifests: its output is scanned too.
    let mut docs = vec![&root, &foreign];
    docs.extend(owner_doc.iter());
    let file = manifest_file(&env, "refused.yaml", &docs)?;
    env.cli(&["plan", "-f", &file], &[], None)
        .await?
        .expect(1)?;
    env.cli(&["drift", "-n", &env.ns], &[], None).await?;

    // The scan must have material, or passing it would mean nothing.
    anyhow::ensure!(
        env.corpus.secrets_len() >= 8,
        "only {} secrets registered",
        env.corpus.secrets_len()
    );
    anyhow::ensure!(
        env.logs.len() > 20,
        "only {} operator log lines captured",
        env.logs.len()
    );
    env.finish().await
}
