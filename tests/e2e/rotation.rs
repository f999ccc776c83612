//! Connection Secrets are watched (metadata only): a rotated admin secret reaches the
//! connection and its users at once — re-probed, client rebuilt, users requeued — with no
//! user re-created and no password sent again.

use std::time::Duration;

use serde_json::json;

use crate::common::{
    ADMIN_SECRET_KEY, ADMIN_SECRET_NAME, Env, EnvOptions, READY, TykStats, random_hex, wait,
};

const USERS: [&str; 3] = ["rot-a", "rot-b", "rot-c"];

async fn user_ids(env: &Env) -> anyhow::Result<Vec<String>> {
    let mut ids = vec![];
    for name in USERS {
        let u = env.get_user(name).await?;
        ids.push(
            u["status"]["userId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    Ok(ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_admin_secret_is_picked_up_at_once() -> anyhow::Result<()> {
    // Neither the drift resync (10 min) nor the connection re-probe (2 min) can fire during
    // this test: whatever reaches the Dashboard after a rotation came through the watch.
    let opts = EnvOptions {
        resync: Duration::from_secs(600),
        ..EnvOptions::default()
    };
    let mut env = Env::new("rotation", opts).await?;
    if !env.needs_emulators("rotates the emulator's admin secret") {
        return env.finish().await;
    }
    env.create_cluster_connection(&[]).await?;
    env.start_operator().await?;
    let pw = env.password();
    env.put_password("rot-pw", &pw).await?;
    for name in USERS {
        let mut u = env.user(name, &env.email(name));
        if name == "rot-a" {
            u["spec"]["passwordSecretRef"] = json!({"name": "rot-pw"});
        }
        env.apply(&u).await?;
    }
    for name in USERS {
        env.wait_ready(name).await?;
    }
    let ids = user_ids(&env).await?;
    // Ready is written before the follow-up reconciles (after the access Secret and status
    // writes) end: let them finish, or one still in flight would meet the rotation.
    wait::until("the operator to go quiet", || async {
        let total = |s: &TykStats| s.count(|_, _, _| true);
        let before = total(&env.tyk_stats().await.map_err(|e| e.to_string())?);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = total(&env.tyk_stats().await.map_err(|e| e.to_string())?);
        if before == after {
            Ok(())
        } else {
            Err(format!("{} Dashboard requests in a second", after - before))
        }
    })
    .await?;

    // 1. Dashboard and Secret rotated together: every user is read again, and the connection
    //    probed, with the new secret, long before any timer.
    let rotated = format!("admin-{}", random_hex(24));
    env.corpus.secret(&rotated);
    env.dashboard
        .settings(&json!({"admin_secret": rotated}))
        .await?;
    env.dashboard.admin_secret = rotated.clone();
    env.dashboard.reset_stats().await?;
    env.put_secret(
        &env.operator_ns,
        ADMIN_SECRET_NAME,
        &[(ADMIN_SECRET_KEY, &rotated)],
    )
    .await?;
    wait::until_within(
        "every user re-read and the connection re-probed with the rotated secret",
        Duration::from_secs(30),
        &mut || async {
            let s = env.tyk_stats().await.map_err(|e| e.to_string())?;
            let read = s.count(|m, r, st| m == "GET" && r == "/admin/users/{id}" && st == "200");
            // The probe asks for a user id that does not exist (404 = authenticated).
            let probed = s.count(|m, r, st| m == "GET" && r == "/admin/users/{id}" && st == "404");
            let refused = s.count(|_, _, st| st == "401");
            if refused > 0 {
                return Err(format!("{refused} requests still used the old secret"));
            }
            if read >= USERS.len() as u64 && probed >= 1 {
                Ok(())
            } else {
                Err(format!("{read} user reads, {probed} probes"))
            }
        },
    )
    .await?;

    // 2. The Dashboard rotates first: users that reconcile now fail as Unauthorized. Once the
    //    Secret follows, every one of them is back to Ready.
    let newer = format!("admin-{}", random_hex(24));
    env.corpus.secret(&newer);
    env.dashboard
        .settings(&json!({"admin_secret": newer}))
        .await?;
    env.dashboard.admin_secret = newer.clone();
    for name in USERS {
        env.patch_user(
            name,
            &json!({"metadata": {"annotations": {"e2e.userop.dev/poke": "1"}}}),
        )
        .await?;
    }
    for name in USERS {
        env.wait_condition(name, READY, "False", "Unauthorized")
            .await?;
    }
    env.put_secret(
        &env.operator_ns,
        ADMIN_SECRET_NAME,
        &[(ADMIN_SECRET_KEY, &newer)],
    )
    .await?;
    for name in USERS {
        wait::until_within(
            &format!("{name} Ready again after the Secret followed"),
            Duration::from_secs(30),
            &mut || async {
                let u = env.get_user(name).await.map_err(|e| e.to_string())?;
                crate::support::has(&u, READY, "True", Some("Synced"))
            },
        )
        .await?;
    }

    anyhow::ensure!(
        user_ids(&env).await? == ids,
        "a rotation must not re-create users"
    );
    let s = env.tyk_stats().await?;
    anyhow::ensure!(
        s.admin_creates() == 0 && s.password_calls() == 0,
        "after the rotations: {} creates, {} password calls",
        s.admin_creates(),
        s.password_calls()
    );
    anyhow::ensure!(
        env.logs
            .all()
            .iter()
            .any(|l| l.contains("connection secret changed")),
        "the operator never logged the connection Secret change"
    );
    env.finish().await
}
