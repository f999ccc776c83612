//! Create, update, role change, deactivate, passwords (set, re-set only on change), drift
//! reverted, remote deletion recreated, a write-free steady state, and deletion.

use serde_json::json;

use super::AdminEnv;
use crate::common::{kube, merge};
use crate::support::status_str;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_users_user_is_created_kept_in_line_and_deleted() -> anyhow::Result<()> {
    // The role moves to `admin`, which the connection must allow (tenancy guardrails).
    let a = AdminEnv::ready_with_policy(
        "admin-users-lifecycle",
        json!({"allowAdminUsers": true}),
        |_| {},
    )
    .await?;
    let env = &a.env;
    let pw1 = env.password();
    env.put_password("grace-pw", &pw1).await?;
    env.apply(&a.user("grace", "grace")).await?;
    let u = env.wait_ready("grace").await?;
    let id = status_str(&u, "userId");
    let remote = a.remote("grace").expect("created");
    assert_eq!(remote.id, id);
    assert_eq!(remote.email.as_deref(), Some("grace@example.com"));
    assert_eq!(
        remote.role,
        admin_users_emulator::Role::Viewer,
        "role defaults to viewer"
    );
    assert!(remote.is_active);
    assert!(
        a.api.check_password("grace", &pw1),
        "password sent with the create"
    );
    assert_eq!(remote.password_changes, 0, "and not set again after it");
    assert!(
        u["status"]["orgId"].is_null(),
        "no organisations on this backend"
    );

    // The owned Secret: userId, username, email — no access key (this API has none).
    let data = env
        .wait_secret("grace-dashboard-access", "userId", |d, _| {
            (d.get("userId") == Some(&id))
                .then_some(())
                .ok_or("old".into())
        })
        .await?;
    let keys: Vec<&String> = data.keys().collect();
    assert_eq!(keys, ["email", "userId", "username"]);
    assert_eq!(data["username"], "grace");

    // Role, email and active follow the spec.
    env.patch_user(
        "grace",
        &json!({"spec": {"role": "admin", "email": "grace.h@example.com", "active": false}}),
    )
    .await?;
    a.wait_remote("grace", "admin, new email, inactive", |r| {
        r.role == admin_users_emulator::Role::Admin
            && r.email.as_deref() == Some("grace.h@example.com")
            && !r.is_active
            && r.status == "disabled"
    })
    .await?;
    env.wait_ready("grace").await?;
    env.patch_user("grace", &json!({"spec": {"active": true}}))
        .await?;
    a.wait_remote("grace", "active again", |r| r.is_active)
        .await?;

    // A new password is set once; a restart does not re-send it.
    let pw2 = env.password();
    env.put_password("grace-pw", &pw2).await?;
    a.wait_remote("grace", "password changed", |r| r.password_changes == 1)
        .await?;
    assert!(a.api.check_password("grace", &pw2));
    env.wait_ready("grace").await?;
    let mut a = a;
    a.env.restart_operator().await?;
    a.env.wait_ready("grace").await?;
    a.let_resyncs_pass(2).await?;
    assert_eq!(
        a.remote("grace").unwrap().password_changes,
        1,
        "never re-sent"
    );

    // Steady state: resyncs read, nothing writes.
    let writes = a.api.writes();
    a.let_resyncs_pass(2).await?;
    assert_eq!(a.api.writes(), writes, "steady state made writes");

    // Drift made by another admin is reverted.
    let status = a
        .api_call(
            "PATCH",
            &format!("/admin/users/{id}"),
            Some(json!({"role": "viewer"})),
        )
        .await?;
    assert_eq!(status, 200);
    a.wait_remote("grace", "role reverted", |r| {
        r.role == admin_users_emulator::Role::Admin
    })
    .await?;

    // Deleted behind the operator's back: recreated, with its password, and published.
    assert_eq!(
        a.api_call("DELETE", &format!("/admin/users/{id}"), None)
            .await?,
        204
    );
    let env = &a.env;
    let u = env
        .wait_user("grace", "a new user id", |u| {
            let new = status_str(u, "userId");
            (!new.is_empty() && new != id)
                .then_some(())
                .ok_or("same id".into())
        })
        .await?;
    let new_id = status_str(&u, "userId");
    a.wait_remote("grace", "recreated", |r| r.id == new_id)
        .await?;
    assert!(a.api.check_password("grace", &pw2));
    env.wait_secret("grace-dashboard-access", "new userId", |d, _| {
        (d.get("userId") == Some(&new_id))
            .then_some(())
            .ok_or("old".into())
    })
    .await?;
    let events = kube::all_events(&env.client).await?;
    anyhow::ensure!(
        !kube::events_about(&events, "grace", "UserRecreated").is_empty(),
        "no UserRecreated event"
    );

    // deletionPolicy Delete (the default) removes it.
    env.delete_user("grace").await?;
    env.wait_user_gone("grace").await?;
    anyhow::ensure!(a.remote("grace").is_none(), "remote user still there");
    a.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_users_deletion_policies_and_a_server_without_delete() -> anyhow::Result<()> {
    let a = AdminEnv::ready("admin-users-deletion", |s| s.delete_route = false).await?;
    let env = &a.env;
    for (name, policy) in [
        ("del", "Delete"),
        ("deact", "Deactivate"),
        ("orphan", "Orphan"),
    ] {
        env.put_password(&format!("{name}-pw"), &env.password())
            .await?;
        let mut u = a.user(name, &format!("user-{name}"));
        merge(&mut u, json!({"spec": {"deletionPolicy": policy}}));
        env.apply(&u).await?;
    }
    for name in ["del", "deact", "orphan"] {
        env.wait_ready(name).await?;
    }
    for name in ["del", "deact", "orphan"] {
        env.delete_user(name).await?;
        env.wait_user_gone(name).await?;
    }
    // No DELETE route (405): deactivated instead, with a Warning.
    let del = a
        .remote("user-del")
        .expect("kept: the server cannot delete");
    assert!(!del.is_active);
    let events = kube::all_events(&env.client).await?;
    let warned = kube::events_about(&events, "del", "DeactivatedInsteadOfDeleted");
    anyhow::ensure!(!warned.is_empty(), "no DeactivatedInsteadOfDeleted warning");
    assert!(
        warned[0]["note"]
            .as_str()
            .or(warned[0]["message"].as_str())
            .unwrap_or_default()
            .contains("405")
    );
    assert!(!a.remote("user-deact").unwrap().is_active);
    assert!(
        a.remote("user-orphan").unwrap().is_active,
        "Orphan leaves it alone"
    );
    a.finish().await
}
