//! Drift (docs/design.md §3.5): edits made in the Dashboard are put back on resync; a user deleted
//! in the Dashboard is recreated and its new key published.

use serde_json::json;

use crate::common::{Env, kube, merge};
use crate::support::{perms_match, status_str};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_drift_is_reverted() -> anyhow::Result<()> {
    let env = Env::ready("drift").await?;
    let email = env.email("drift");
    let mut u = env.user("drift", &email);
    merge(&mut u, json!({"spec": {"permissions": {"apis": "read"}}}));
    env.apply(&u).await?;
    let id = status_str(&env.wait_ready("drift").await?, "userId");

    let normal_events = || async {
        let ev = kube::all_events(&env.client).await?;
        anyhow::Ok(
            ev.iter()
                .filter(|e| {
                    let o = if e["regarding"].is_object() {
                        &e["regarding"]
                    } else {
                        &e["involvedObject"]
                    };
                    o["name"] == "drift" && e["type"] == "Normal"
                })
                .map(|e| {
                    e["series"]["count"]
                        .as_u64()
                        .or(e["count"].as_u64())
                        .unwrap_or(1)
                })
                .sum::<u64>(),
        )
    };
    let events_before = normal_events().await?;

    // Someone edits the user in the Dashboard (admin PUT of the full object,
    // docs/tyk-dashboard-api.md §2.3).
    let mut remote = env.remote(&id).await?;
    remote["first_name"] = json!("Mallory");
    remote["active"] = json!(false);
    remote["user_permissions"] = json!({"apis": "write", "IsAdmin": "admin"});
    env.dashboard.admin_put_user(&id, &remote).await?;
    let edited = env.remote(&id).await?;
    anyhow::ensure!(
        edited["first_name"] == "Mallory",
        "the drift itself did not stick"
    );

    env.wait_remote(&id, "drift reverted", |r| {
        if r["first_name"] != "Ada" {
            return Err("first_name still drifted".into());
        }
        if r["active"] != true {
            return Err("still inactive".into());
        }
        perms_match(r, &[("apis", "read")])?;
        match r["user_permissions"]["IsAdmin"].as_str() {
            Some("admin") => Err("IsAdmin still granted".into()),
            _ => Ok(()),
        }
    })
    .await?;
    anyhow::ensure!(env.users_with_email(&email).await?.len() == 1);
    // The revert is a Dashboard mutation: it leaves an Event (docs/design.md §3.7 / issue 4).
    crate::common::wait::until("an Event for the revert", || async {
        let now = normal_events().await.map_err(|e| e.to_string())?;
        (now > events_before)
            .then_some(())
            .ok_or_else(|| format!("{now} Normal events, as before"))
    })
    .await?;
    env.finish().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_deleted_in_dashboard_is_recreated() -> anyhow::Result<()> {
    let env = Env::ready("recreate").await?;
    let email = env.email("phoenix");
    env.apply(&env.user("phoenix", &email)).await?;
    let old_id = status_str(&env.wait_ready("phoenix").await?, "userId");
    let old_key = env.remote(&old_id).await?["access_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    env.wait_secret("phoenix-dashboard-access", "published", |d, _| {
        (d.get("accessKey") == Some(&old_key))
            .then_some(())
            .ok_or("not yet".into())
    })
    .await?;

    env.dashboard
        .api_delete_user(&env.admin_key, &old_id)
        .await?;
    anyhow::ensure!(
        env.dashboard.admin_get_user(&old_id).await?.is_none(),
        "delete did not happen"
    );

    let u = env
        .wait_user("phoenix", "recreated under a new id", |u| {
            let id = status_str(u, "userId");
            if id.is_empty() || id == old_id {
                return Err("old id".into());
            }
            crate::support::has(u, "Ready", "True", Some("Synced"))
        })
        .await?;
    let new_id = status_str(&u, "userId");
    let new_key = env.remote(&new_id).await?["access_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    anyhow::ensure!(
        new_key != old_key && !new_key.is_empty(),
        "recreated user kept the old key?"
    );
    env.wait_secret("phoenix-dashboard-access", "new key published", |d, _| {
        if d.get("accessKey") != Some(&new_key) {
            return Err("old key still published".into());
        }
        (d.get("userId") == Some(&new_id))
            .then_some(())
            .ok_or("old userId".into())
    })
    .await?;
    let users = env.users_with_email(&email).await?;
    anyhow::ensure!(users.len() == 1, "{} users with the email", users.len());
    crate::common::wait::until("UserRecreated event", || async {
        let ev = kube::all_events(&env.client)
            .await
            .map_err(|e| e.to_string())?;
        if kube::events_about(&ev, "phoenix", "UserRecreated").is_empty() {
            Err("no UserRecreated event".into())
        } else {
            Ok(())
        }
    })
    .await?;
    env.finish().await
}
