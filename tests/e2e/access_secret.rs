//! The access-key Secret (docs/design.md §3.4): written, restored after deletion and tampering, and
//! rotated on the `userop.dev/rotate-access-key` annotation.

use serde_json::json;

use crate::common::{Env, ROTATE_ANNOTATION, kube};
use crate::support::status_str;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_secret_restored_and_rotated() -> anyhow::Result<()> {
    let env = Env::ready("access").await?;
    let email = env.email("key");
    env.apply(&env.user("key", &email)).await?;
    let id = status_str(&env.wait_ready("key").await?, "userId");
    let key = env.remote(&id).await?["access_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    anyhow::ensure!(!key.is_empty(), "Dashboard user has no access key");
    let same_key = |d: &std::collections::BTreeMap<String, String>| {
        (d.get("accessKey") == Some(&key))
            .then_some(())
            .ok_or_else(|| "accessKey differs".to_string())
    };
    env.wait_secret("key-dashboard-access", "written", |d, _| same_key(d))
        .await?;

    // Deleted → written again, same key (the Dashboard's key did not change).
    kube::delete_secret(&env.client, &env.ns, "key-dashboard-access").await?;
    env.wait_secret("key-dashboard-access", "restored after deletion", |d, _| {
        same_key(d)
    })
    .await?;

    // Tampered with → put back.
    let fake = "0000000000004000a000000000000000";
    kube::patch_secret_key(
        &env.client,
        &env.ns,
        "key-dashboard-access",
        "accessKey",
        fake,
    )
    .await?;
    env.wait_secret(
        "key-dashboard-access",
        "restored after tampering",
        |d, _| same_key(d),
    )
    .await?;

    // Rotation on request: new key in the Dashboard, published, request recorded in status.
    env.patch_user(
        "key",
        &json!({"metadata": {"annotations": {ROTATE_ANNOTATION: "r1"}}}),
    )
    .await?;
    let rotated = env
        .wait_secret("key-dashboard-access", "rotated", |d, _| {
            match d.get("accessKey") {
                Some(k) if k != &key && !k.is_empty() => Ok(()),
                _ => Err("still the old key".into()),
            }
        })
        .await?;
    let new_key = rotated["accessKey"].clone();
    env.wait_remote(&id, "Dashboard has the published key", |r| {
        (r["access_key"] == new_key.as_str())
            .then_some(())
            .ok_or("differs".into())
    })
    .await?;
    env.wait_user("key", "rotation recorded", |u| {
        (status_str(u, "rotatedAccessKey") == "r1")
            .then_some(())
            .ok_or("not recorded".into())
    })
    .await?;
    env.wait_ready("key").await?;
    anyhow::ensure!(
        status_str(&env.get_user("key").await?, "userId") == id,
        "rotation changed the user"
    );

    // The same annotation value again is not a new request.
    crate::support::let_resyncs_pass(&env, 1).await.ok();
    let s = env.secret("key-dashboard-access").await?.expect("exists");
    anyhow::ensure!(
        kube::secret_str(&s, "accessKey").as_deref() == Some(new_key.as_str()),
        "key rotated again without a new annotation value"
    );
    env.finish().await
}
