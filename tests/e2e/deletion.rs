//! deletionPolicy (docs/design.md §3.6): Delete removes the Dashboard user, Deactivate sets it
//! inactive, Orphan leaves it alone; in each case the finalizer is released.

use serde_json::json;

use crate::common::{Env, merge, wait};
use crate::support::status_str;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_deletion_policy() -> anyhow::Result<()> {
    let env = Env::ready("deletion").await?;
    let mut ids = Vec::new();
    for (name, policy) in [
        ("del", "Delete"),
        ("deact", "Deactivate"),
        ("orphan", "Orphan"),
    ] {
        let mut u = env.user(name, &env.email(name));
        merge(&mut u, json!({"spec": {"deletionPolicy": policy}}));
        env.apply(&u).await?;
        ids.push((name, policy, String::new()));
    }
    for entry in &mut ids {
        entry.2 = status_str(&env.wait_ready(entry.0).await?, "userId");
    }
    let orphan_before = env.remote(&ids[2].2).await?;

    for (name, _, _) in &ids {
        env.delete_user(name).await?;
    }
    for (name, _, _) in &ids {
        env.wait_user_gone(name).await?;
    }

    let (_, _, del_id) = &ids[0];
    anyhow::ensure!(
        env.dashboard.admin_get_user(del_id).await?.is_none(),
        "Delete: the Dashboard user still exists"
    );
    let deact = env.remote(&ids[1].2).await?;
    anyhow::ensure!(deact["active"] == false, "Deactivate: user still active");
    let orphan = env.remote(&ids[2].2).await?;
    anyhow::ensure!(orphan["active"] == true, "Orphan: user was deactivated");
    for f in [
        "email_address",
        "first_name",
        "last_name",
        "org_id",
        "user_permissions",
        "access_key",
    ] {
        anyhow::ensure!(orphan[f] == orphan_before[f], "Orphan: {f} changed");
    }
    env.finish().await
}

/// A create whose answer is lost (commit-then-drop) leaves a Dashboard user with no id in
/// status; deleting the DashboardUser then must still find and delete it, not orphan it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_after_an_unanswered_create_leaves_no_user() -> anyhow::Result<()> {
    let env = Env::ready("delete-lost").await?;
    if !env.needs_emulators("faults") {
        return env.finish().await;
    }
    // Every create commits and then drops the connection: the operator never learns the id.
    env.dashboard
        .faults(&json!({"rules": [{"kind": "commit_then_drop", "method": "POST", "route": "/admin/users"}]}))
        .await?;
    let email = env.email("lost");
    env.apply(&env.user("lost", &email)).await?;
    wait::until("Dashboard committed the create", || async {
        let n = env
            .users_with_email(&email)
            .await
            .map_err(|e| e.to_string())?
            .len();
        (n == 1).then_some(()).ok_or_else(|| format!("{n} users"))
    })
    .await?;
    let u = env.get_user("lost").await?;
    anyhow::ensure!(
        u["status"]["userId"].is_null() && u["status"]["createIntent"]["email"].is_string(),
        "expected an unanswered create: {}",
        u["status"]
    );
    env.delete_user("lost").await?;
    env.wait_user_gone("lost").await?;
    let left = env.users_with_email(&email).await?;
    anyhow::ensure!(
        left.is_empty(),
        "{} Dashboard users left behind",
        left.len()
    );
    env.dashboard.faults(&json!({})).await?;
    env.finish().await
}

fn warnings_about(events: &[serde_json::Value], name: &str) -> usize {
    events
        .iter()
        .filter(|e| {
            let obj = if e["regarding"].is_object() {
                &e["regarding"]
            } else {
                &e["involvedObject"]
            };
            obj["name"] == name && e["type"] == "Warning"
        })
        .count()
}

/// docs/design.md §3.6: `Delete` without the connection's API key deactivates instead, and says so
/// in a Warning Event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_without_api_key_deactivates_with_a_warning() -> anyhow::Result<()> {
    let mut env = Env::new("delete-no-key", crate::common::EnvOptions::default()).await?;
    let mut conn = env.cluster_connection_object(&[]);
    conn["spec"]
        .as_object_mut()
        .expect("spec")
        .remove("apiKeySecretRef");
    env.apply(&conn).await?;
    env.start_operator().await?;
    env.apply(&env.user("keyless", &env.email("keyless")))
        .await?;
    let id = status_str(&env.wait_ready("keyless").await?, "userId");
    env.delete_user("keyless").await?;
    env.wait_user_gone("keyless").await?;
    let remote = env.remote(&id).await?;
    anyhow::ensure!(
        remote["active"] == false,
        "not deactivated without an API key"
    );
    let events = crate::common::kube::all_events(&env.client).await?;
    anyhow::ensure!(
        warnings_about(&events, "keyless") > 0,
        "no Warning Event about the fallback"
    );
    env.finish().await
}

/// docs/design.md §3.6: with the connection gone, the finalizer is released with a Warning Event
/// rather than blocking deletion forever; the Dashboard user is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalizer_released_when_the_connection_is_gone() -> anyhow::Result<()> {
    let env = Env::ready("delete-no-conn").await?;
    env.apply(&env.user("stranded", &env.email("stranded")))
        .await?;
    let id = status_str(&env.wait_ready("stranded").await?, "userId");
    let conn = env.connection_name.clone();
    crate::common::kube::delete(
        &env.client,
        &crate::common::kube::cluster_connection_resource(),
        None,
        &conn,
    )
    .await?;
    env.delete_user("stranded").await?;
    env.wait_user_gone("stranded").await?;
    anyhow::ensure!(
        env.remote(&id).await?["active"] == true,
        "user changed without a connection?"
    );
    let events = crate::common::kube::all_events(&env.client).await?;
    anyhow::ensure!(
        warnings_about(&events, "stranded") > 0,
        "no Warning Event about the release"
    );
    env.finish().await
}
