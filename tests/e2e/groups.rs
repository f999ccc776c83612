//! `DashboardUserGroup` (issue 12): the group's own lifecycle in the Dashboard, adoption and a
//! crash-safe create, and users that name a group with `groupRef`.

use serde_json::{Value, json};

use crate::common::{Env, kube, random_hex, wait};
use crate::support::{has, status_str};

async fn event_on(env: &Env, name: &str, reason: &str) -> anyhow::Result<Value> {
    wait::until(&format!("Event {reason} on {name}"), || async {
        let ev = kube::all_events(&env.client)
            .await
            .map_err(|e| e.to_string())?;
        kube::events_about(&ev, name, reason)
            .first()
            .map(|e| (*e).clone())
            .ok_or_else(|| "none yet".to_string())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_is_created_updated_reverted_recreated_and_deleted() -> anyhow::Result<()> {
    let env = Env::ready("group-lifecycle").await?;
    let dname = format!("e2e-readers-{}", random_hex(6));
    env.apply(&env.group("readers", &dname)).await?;
    let id = env.wait_group_ready("readers").await?;
    env.wait_remote_group(&id, "created as specified", |g| {
        let g = g.ok_or("missing")?;
        (g["name"] == dname.as_str()
            && g["description"] == "e2e readers"
            && g["user_permissions"]["apis"] == "read"
            && g["user_permissions"]["analytics"] == "read")
            .then_some(())
            .ok_or(format!("remote {g}"))
    })
    .await?;
    event_on(&env, "readers", "Created").await?;

    // Renamed and widened in the spec: the same Dashboard group follows.
    let renamed = format!("{dname}-renamed");
    env.patch_group(
        "readers",
        &json!({"spec": {"name": renamed, "permissions": {"keys": "write"}}}),
    )
    .await?;
    let same = env.wait_group_ready("readers").await?;
    anyhow::ensure!(same == id, "rename moved the group: {id} → {same}");
    env.wait_remote_group(&id, "renamed and updated", |g| {
        let g = g.ok_or("missing")?;
        (g["name"] == renamed.as_str() && g["user_permissions"]["keys"] == "write")
            .then_some(())
            .ok_or(format!("remote {g}"))
    })
    .await?;
    anyhow::ensure!(env.groups_named(&dname).await?.is_empty(), "old name left");

    // Someone edits it in the Dashboard: the resync puts it back.
    let mut edited = env.remote_group(&id).await?.expect("exists");
    edited["name"] = json!("hijacked");
    edited["user_permissions"] = json!({"apis": "write"});
    env.dashboard
        .api_put_group(&env.admin_key, &id, &edited)
        .await?;
    env.wait_remote_group(&id, "drift reverted", |g| {
        let g = g.ok_or("missing")?;
        (g["name"] == renamed.as_str()
            && g["user_permissions"]["apis"] == "read"
            && g["user_permissions"]["keys"] == "write")
            .then_some(())
            .ok_or(format!("remote {g}"))
    })
    .await?;
    event_on(&env, "readers", "Updated").await?;

    // Deleted in the Dashboard: recreated under a new id.
    env.dashboard.api_delete_group(&env.admin_key, &id).await?;
    let g = env
        .wait_group("readers", "recreated under a new id", |g| {
            let now = status_str(g, "groupId");
            if now.is_empty() || now == id {
                return Err("old id".into());
            }
            has(g, "Ready", "True", Some("Synced"))
        })
        .await?;
    let new_id = status_str(&g, "groupId");
    anyhow::ensure!(env.remote_group(&new_id).await?.is_some());
    event_on(&env, "readers", "GroupRecreated").await?;

    // Counted under its own controller, Dashboard calls by route pattern (bounded labels).
    let m = env.operator.as_ref().expect("running").metrics().await?;
    for want in [
        r#"reconciles_total{controller="dashboardusergroup",result="ok"}"#,
        r#"route="/api/usergroups/{id}""#,
    ] {
        anyhow::ensure!(m.contains(want), "metrics lack {want}");
    }
    anyhow::ensure!(!m.contains(&dname), "a group name became a metric label");

    // Deleted in Kubernetes: deletionPolicy Delete removes it from the Dashboard.
    env.delete_group("readers").await?;
    env.wait_group_gone("readers").await?;
    anyhow::ensure!(
        env.remote_group(&new_id).await?.is_none(),
        "the dashboard group outlived its DashboardUserGroup"
    );
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_group_is_adopted_only_when_allowed_and_a_crashed_create_is_not_doubled()
-> anyhow::Result<()> {
    // Adoption is the connection's to allow (tenancy guardrails): this one does.
    let env = Env::ready_with_policy("group-adopt", json!({"allowAdoption": true})).await?;
    let taken = format!("e2e-taken-{}", random_hex(6));
    let theirs = env
        .dashboard
        .api_create_group(&env.admin_key, &taken, &env.org_id)
        .await?;
    env.apply(&env.group("taken", &taken)).await?;
    env.wait_group("taken", "Stalled AlreadyExists", |g| {
        has(g, "Stalled", "True", Some("AlreadyExists"))
    })
    .await?;
    anyhow::ensure!(
        env.groups_named(&taken).await?.len() == 1,
        "a second group of that name was created"
    );
    env.patch_group("taken", &json!({"spec": {"adoptionPolicy": "IfExists"}}))
        .await?;
    let adopted = env.wait_group_ready("taken").await?;
    anyhow::ensure!(adopted == theirs, "adopted {adopted}, expected {theirs}");
    event_on(&env, "taken", "Adopted").await?;
    // Adopted means managed: its permissions now follow the spec.
    env.wait_remote_group(&theirs, "spec applied", |g| {
        let g = g.ok_or("missing")?;
        (g["user_permissions"]["analytics"] == "read")
            .then_some(())
            .ok_or(format!("remote {g}"))
    })
    .await?;

    if env.needs_emulators("fault injection") {
        // The Dashboard commits the POST and the answer is lost: Tyk accepts duplicate names,
        // so only the create intent in status keeps the retry from making a second group.
        env.dashboard
            .faults(
                &json!({"rules": [{"kind": "commit_then_drop", "method": "POST",
                                       "route": "/api/usergroups", "count": 1}]}),
            )
            .await?;
        let crash = format!("e2e-crash-{}", random_hex(6));
        env.apply(&env.group("crash", &crash)).await?;
        let id = env.wait_group_ready("crash").await?;
        let named = env.groups_named(&crash).await?;
        anyhow::ensure!(
            named.len() == 1 && named[0]["id"] == id.as_str(),
            "after a lost create answer: {} groups named {crash}",
            named.len()
        );
        let stats = env.tyk_stats().await?;
        anyhow::ensure!(
            stats.count(|m, r, s| m == "POST" && r == "/api/usergroups" && s == "dropped") == 1,
            "the create answer was never dropped: {:?}",
            stats.0["requests"]
        );
        event_on(&env, "crash", "Adopted").await?;
    }
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_wait_for_their_group_follow_it_and_hold_its_deletion() -> anyhow::Result<()> {
    let env = Env::ready("group-ref").await?;
    let email = env.email("gina");
    let mut u = env.user("gina", &email);
    u["spec"]["groupRef"] = json!({"name": "readers"});
    // groupId and groupRef are exclusive (CEL).
    let mut both = u.clone();
    both["metadata"]["name"] = json!("both");
    both["spec"]["groupId"] = json!("0123456789abcdef01234567");
    anyhow::ensure!(
        env.apply(&both).await.is_err(),
        "groupId with groupRef was accepted"
    );

    // No group yet: waiting, not stalled, and no Dashboard user yet.
    env.apply(&u).await?;
    env.wait_user("gina", "GroupNotReady", |u| {
        has(u, "Ready", "False", Some("GroupNotReady"))?;
        has(u, "Reconciling", "True", None)?;
        has(u, "Stalled", "False", None)
    })
    .await?;
    anyhow::ensure!(env.users_with_email(&email).await?.is_empty());

    let dname = format!("e2e-ref-{}", random_hex(6));
    env.apply(&env.group("readers", &dname)).await?;
    let gid = env.wait_group_ready("readers").await?;
    let user_id = status_str(&env.wait_ready("gina").await?, "userId");
    env.wait_remote(&user_id, "in the group", |r| {
        (r["group_id"] == gid.as_str())
            .then_some(())
            .ok_or(format!("group_id {}", r["group_id"]))
    })
    .await?;

    // The group renamed in its spec: same id, so the user stays where it is.
    env.patch_group("readers", &json!({"spec": {"name": format!("{dname}-2")}}))
        .await?;
    anyhow::ensure!(env.wait_group_ready("readers").await? == gid);
    crate::support::assert_stable(
        &env,
        "gina",
        "True",
        "Synced",
        std::time::Duration::from_secs(3),
    )
    .await?;
    anyhow::ensure!(env.remote(&user_id).await?["group_id"] == gid.as_str());

    // Deleting the group while gina names it: held by the finalizer, with an Event naming her.
    env.delete_group("readers").await?;
    env.wait_group("readers", "held: GroupInUse", |g| {
        has(g, "Ready", "False", Some("GroupInUse"))
    })
    .await?;
    let ev = event_on(&env, "readers", "GroupInUse").await?;
    let note = ev["note"].as_str().or(ev["message"].as_str()).unwrap_or("");
    anyhow::ensure!(
        note.contains("gina"),
        "event does not name the user: {note}"
    );
    anyhow::ensure!(
        env.remote_group(&gid).await?.is_some(),
        "deleted while in use"
    );

    // gina moves out of the group: the deletion goes through.
    env.patch_user("gina", &json!({"spec": {"groupRef": null}}))
        .await?;
    env.wait_group_gone("readers").await?;
    anyhow::ensure!(env.remote_group(&gid).await?.is_none());
    env.wait_remote(&user_id, "out of the group", |r| {
        (r["group_id"] == "")
            .then_some(())
            .ok_or(format!("group_id {}", r["group_id"]))
    })
    .await?;
    env.wait_ready("gina").await?;
    env.finish().await
}
