//! The walkthrough "Moving an existing Dashboard into Git" (docs/guides/git-migration.md),
//! run as written: its second shell block, line by line in one bash, with `userop` and
//! `kubectl` the real binaries, against a Dashboard seeded as the sandbox seeds it.

use serde_json::json;

use crate::common::{Env, EnvOptions, kubectl};

/// The walkthrough's commands, without the lines that set up the sandbox's shell
/// (`export KUBECONFIG`, the `userop` alias): the test provides both.
fn walkthrough_commands() -> anyhow::Result<Vec<String>> {
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/guides/git-migration.md"
    ))?;
    let section = guide
        .split("# Moving an existing Dashboard into Git")
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("docs/guides/git-migration.md has no walkthrough"))?;
    let block = section
        .split("```sh")
        .nth(2)
        .and_then(|b| b.split("```").next())
        .ok_or_else(|| anyhow::anyhow!("the walkthrough's second sh block is missing"))?;
    Ok(block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.starts_with("export KUBECONFIG") && !l.contains("alias userop"))
        .map(String::from)
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_migration_walkthrough_runs() -> anyhow::Result<()> {
    let mut env = Env::new("walkthrough", EnvOptions::default()).await?;
    // The sandbox's names: namespace and connection `default`, which a shared cluster has not.
    let Some(kubectl) = kubectl::required(&env.test)? else {
        return env.finish().await;
    };
    if !env.needs_emulators("the sandbox's namespace and connection names") {
        return env.finish().await;
    }
    env.create_cluster_connection(&["default"]).await?;
    // The platform team's own connection the walkthrough migrates through, as the sandbox
    // makes it from examples/bob-admin.yaml: the same Dashboard, namespace `default` only,
    // adoption and admin users allowed.
    let mut platform = env.cluster_connection_object(&[]);
    platform["metadata"]["name"] = json!("platform");
    platform["spec"]["allowedNamespaces"] = json!({"names": ["default"]});
    platform["spec"]["policy"] = json!({"allowAdoption": true, "allowAdminUsers": true});
    env.apply(&platform).await?;
    // As the sandbox: users made by hand, and one the operator already manages.
    for (first, email, active, perms) in [
        (
            "Olivia",
            "olivia.ops@example.com",
            true,
            json!({"IsAdmin": "admin"}),
        ),
        (
            "Dev",
            "Dev.Eloper@Example.com",
            true,
            json!({"apis": "write", "keys": "read", "users": "deny"}),
        ),
        (
            "Casey",
            "casey@contractors.example.org",
            false,
            json!({"analytics": "read"}),
        ),
    ] {
        let (_, key) = env
            .dashboard
            .admin_create_user(&json!({"org_id": env.org_id, "first_name": first, "email_address": email,
                                      "active": active, "user_permissions": perms, "password_max_days": 90}))
            .await?;
        env.corpus.secret(&key);
    }
    env.start_operator().await?;
    let mut alice = env.user("alice", "alice@example.com");
    alice["metadata"]["namespace"] = json!("default");
    env.apply(&alice).await?;
    env.wait_ready_in("default", "alice").await?;

    let commands = walkthrough_commands()?;
    anyhow::ensure!(commands.len() >= 8, "walkthrough: {commands:?}");
    let script = format!(
        "userop() {{ {:?} \"$@\"; }}\nkubectl() {{ {:?} \"$@\"; }}\n{}\n",
        crate::common::operator::binary(),
        kubectl.display().to_string(),
        commands.join("\n")
    );
    let work = env.dir.join("walkthrough");
    std::fs::create_dir_all(&work)?;
    let out = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("KUBECONFIG", &env.kubeconfig)
        .env("HOME", &env.dir)
        // The sandbox runs the operator in `default`; here it has its own namespace.
        .env("POD_NAMESPACE", &env.operator_ns)
        .output()
        .await?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    env.corpus.text("walkthrough output", text.clone());
    // plan: pending adoptions, then nothing, drift nothing, then the reviewed edit.
    let exits: Vec<&str> = text.lines().filter(|l| l.starts_with("exit ")).collect();
    anyhow::ensure!(
        exits == ["exit 2", "exit 0", "exit 0", "exit 2"],
        "exits {exits:?}:\n{text}"
    );
    for needle in [
        // Olivia, Dev and Casey: alice is managed, and the connection's key owner (the
        // harness's admin) is never adopted.
        "wrote 3 users",
        "left out 1 users already managed",
        "holds the API key of connection cluster/platform",
        "adopt existing user",
        "condition met",
        "permissions.keys: \"read\" -> \"write\"",
    ] {
        anyhow::ensure!(
            text.contains(needle),
            "walkthrough output lacks {needle:?}:\n{text}"
        );
    }
    env.finish().await
}
