//! The CRDs' validation as the API server applies it (docs/design.md §2: email format, permission
//! values, superUser without org, connectionRef immutable); no operator involvement needed,
//! but it is what a user of `kubectl apply` meets first.

use serde_json::json;

use crate::common::{Env, EnvOptions, merge};

async fn rejected(env: &Env, obj: &serde_json::Value, what: &str) -> anyhow::Result<()> {
    match env.apply(obj).await {
        Ok(_) => anyhow::bail!("{what}: accepted"),
        Err(e) => {
            let text = format!("{e:#}");
            anyhow::ensure!(
                text.contains("Invalid") || text.contains("422"),
                "{what}: refused for another reason: {text}"
            );
            Ok(())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_specs_are_refused_by_the_api_server() -> anyhow::Result<()> {
    let env = Env::new("validation", EnvOptions::default()).await?;
    let base = env.user("v", &env.email("valid"));

    let mut bad = base.clone();
    merge(&mut bad, json!({"spec": {"email": "not-an-email"}}));
    rejected(&env, &bad, "email without @").await?;

    let mut bad = base.clone();
    merge(&mut bad, json!({"spec": {"permissions": {"apis": "all"}}}));
    rejected(&env, &bad, "permission value outside read/write/deny").await?;

    let mut bad = base.clone();
    merge(
        &mut bad,
        json!({"spec": {"permissions": {"apis": "admin"}}}),
    );
    rejected(&env, &bad, "admin on a section").await?;

    let mut bad = base.clone();
    merge(
        &mut bad,
        json!({"spec": {"superUser": true, "orgId": env.org_id}}),
    );
    rejected(&env, &bad, "superUser with an orgId").await?;

    // connectionRef is immutable once set.
    let mut u = base.clone();
    merge(
        &mut u,
        json!({"spec": {"connectionRef": {"kind": "DashboardConnection", "name": "one"}}}),
    );
    env.apply(&u).await?;
    merge(&mut u, json!({"spec": {"connectionRef": {"name": "two"}}}));
    rejected(&env, &u, "connectionRef changed").await?;
    env.finish().await
}
