//! deletionPolicy (DESIGN §3.6): Delete removes the Dashboard user, Deactivate sets it
//! inactive, Orphan leaves it alone; in each case the finalizer is released.

use serde_json::json;

use crate::common::{Env, merge};
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
