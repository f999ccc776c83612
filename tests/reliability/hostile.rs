//! Hostile Dashboard answers through the operator (issue #9 part 6). The client-level table
//! (`tests/dashboard_client/hostile.rs`) proves each answer is classified; this proves what
//! a user sees: a clear condition, an operator that stays up, no hot loop, and convergence
//! once the Dashboard answers properly again.
//!
//! GET and PUT cases run side by side, one user each, with rules on that user's literal path;
//! create cases share `POST /admin/users`, so they run one after another.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Env, EnvOptions, READY, kube};
use crate::faults::{REQUESTS_PER_RECONCILE, backoff_attempts};
use crate::figures::Figures;

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";
const MB: u64 = 1024 * 1024;

/// Parts of the injected bodies that must never reach a condition message.
const BODY_MARKERS: &[&str] = &[
    "<html",
    "xxxxxxxx",
    "203.0.113.7",
    "evil.example",
    "\u{feff}",
];

struct Case {
    what: &'static str,
    method: &'static str,
    /// The `answer` rule, without method and route.
    rule: Value,
    /// The Ready=False reason the user must report.
    reason: &'static str,
}

fn answer(status: u16, content_type: Option<&str>, body: &str) -> Value {
    let mut r = json!({"kind": "answer", "status": status, "body": body});
    if let Some(ct) = content_type {
        r["content_type"] = json!(ct);
    }
    r
}

fn with(mut r: Value, patch: Value) -> Value {
    crate::common::merge(&mut r, patch);
    r
}

fn user_cases() -> Vec<Case> {
    let c = |what, method, rule, reason| Case {
        what,
        method,
        rule,
        reason,
    };
    let (de, du, un) = ("DashboardError", "DashboardUnreachable", "Unauthorized");
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let error_1mb = format!(
        r#"{{"Status":"Error","Message":"{}","Meta":null}}"#,
        "y".repeat(1_000_000)
    );
    vec![
        c(
            "truncated JSON",
            "GET",
            answer(200, Some(JSON), r#"{"id":"5e9d","email_addr"#),
            de,
        ),
        c(
            "wrong types",
            "GET",
            answer(
                200,
                Some(JSON),
                r#"{"id":42,"email_address":true,"active":"yes"}"#,
            ),
            de,
        ),
        c(
            "null for a user",
            "GET",
            answer(200, Some(JSON), "null"),
            de,
        ),
        c(
            "an array for a user",
            "GET",
            answer(200, Some(JSON), "[]"),
            de,
        ),
        c(
            "a bare JSON string",
            "GET",
            answer(200, Some(JSON), r#""ok""#),
            de,
        ),
        c(
            "200 with an HTML error page",
            "GET",
            answer(
                200,
                Some(HTML),
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
            ),
            de,
        ),
        c(
            "empty body with 200",
            "GET",
            answer(200, Some(JSON), ""),
            de,
        ),
        c("204 without a body", "GET", answer(204, None, ""), de),
        c(
            "10 MB body",
            "GET",
            with(
                answer(200, Some(JSON), "{\"a\":\"xxxxxxxx"),
                json!({"body_bytes": 10 * MB}),
            ),
            de,
        ),
        c(
            "10,000-deep nesting",
            "GET",
            answer(200, Some(JSON), &nested),
            de,
        ),
        c(
            "byte order mark before JSON",
            "GET",
            answer(200, Some(JSON), "\u{feff}{}"),
            de,
        ),
        c(
            "redirect to another host",
            "GET",
            with(
                answer(302, None, ""),
                json!({"location": "http://203.0.113.7:3000/admin/users/x"}),
            ),
            de,
        ),
        c(
            "permanent redirect to https",
            "GET",
            with(
                answer(308, None, ""),
                json!({"location": "https://evil.example/admin/users/x"}),
            ),
            de,
        ),
        c(
            "500 with an HTML proxy page",
            "GET",
            answer(500, Some(HTML), "<html>Internal Server Error</html>"),
            du,
        ),
        c("502 with an empty body", "GET", answer(502, None, ""), du),
        c(
            "429 with HTML",
            "GET",
            answer(429, Some(HTML), "<html>slow down</html>"),
            du,
        ),
        c(
            "401 as plain text",
            "GET",
            answer(401, Some("text/plain"), "Unauthorized\n"),
            un,
        ),
        c(
            "400 with a 1 MB error message",
            "GET",
            answer(400, Some(JSON), &error_1mb),
            de,
        ),
        c(
            "update: null answer",
            "PUT",
            answer(200, Some(JSON), "null"),
            de,
        ),
        c(
            "update: HTML answer",
            "PUT",
            answer(200, Some(HTML), "<html>ok</html>"),
            de,
        ),
        c(
            "update: truncated envelope",
            "PUT",
            answer(200, Some(JSON), r#"{"Status":"OK","Mess"#),
            de,
        ),
        c("update: empty 200", "PUT", answer(200, Some(JSON), ""), de),
        c(
            "update: 10 MB body",
            "PUT",
            with(
                answer(200, Some(JSON), "xxxxxxxx"),
                json!({"body_bytes": 10 * MB}),
            ),
            de,
        ),
    ]
}

/// A create answered with garbage, once: with `committing` the Dashboard did create the
/// user, so the next attempt must recognise it as its own, not report `AlreadyExists`.
fn create_cases() -> Vec<(&'static str, Value)> {
    vec![
        (
            "create: OK envelope without a key or user",
            answer(
                200,
                Some(JSON),
                r#"{"Status":"OK","Message":"","Meta":null}"#,
            ),
        ),
        (
            "create: user id of the wrong type",
            answer(
                200,
                Some(JSON),
                r#"{"Status":"OK","Message":"key","Meta":{"id":123}}"#,
            ),
        ),
        (
            "create: HTML page with 201",
            answer(201, Some(HTML), "<html>created?</html>"),
        ),
        (
            "create: truncated answer after the write",
            with(
                answer(200, Some(JSON), r#"{"Status":"OK","Mess"#),
                json!({"after_commit": true}),
            ),
        ),
        (
            "create: HTML answer after the write",
            with(
                answer(200, Some(HTML), "<html>done</html>"),
                json!({"after_commit": true}),
            ),
        ),
    ]
}

/// A condition message a user can act on: says what failed, bounded, echoes no body.
fn clear_message(msg: &str) -> Result<(), String> {
    if msg.len() < 10 || msg.len() > 1024 {
        return Err(format!("message of {} bytes", msg.len()));
    }
    if let Some(m) = BODY_MARKERS.iter().find(|m| msg.contains(*m)) {
        return Err(format!("message echoes the body ({m:?})"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_dashboard_answers_end_in_clear_conditions_without_hot_loops() -> anyhow::Result<()>
{
    // A long resync keeps drift checks out of the request counts.
    let opts = EnvOptions {
        resync: Duration::from_secs(600),
        password_history: 0,
        ..Default::default()
    };
    let mut env = Env::new("hostile-answers", opts).await?;
    if !env.needs_emulators("malformed answers are injected by the Tyk emulator") {
        return env.finish().await;
    }
    env.create_cluster_connection(&[]).await?;
    env.start_operator().await?;
    let pid = env.operator.as_ref().and_then(|o| o.pid());

    let cases = user_cases();
    for i in 0..cases.len() {
        let name = format!("h-{i}");
        env.apply(&env.user(&name, &env.email(&name))).await?;
    }
    let mut ids = vec![];
    for i in 0..cases.len() {
        let u = env.wait_ready(&format!("h-{i}")).await?;
        ids.push(
            u["status"]["userId"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }

    // Arm every case on its own user's path, then make every user reconcile (GET, then a
    // PUT for the new first name).
    let rules: Vec<Value> = cases
        .iter()
        .zip(&ids)
        .map(|(c, id)| {
            with(
                c.rule.clone(),
                json!({"method": c.method, "route": format!("/admin/users/{id}")}),
            )
        })
        .collect();
    env.dashboard.faults(&json!({"rules": rules})).await?;
    let armed_at = env
        .tyk_requests()
        .await?
        .last()
        .map_or(0, |r| r["atMs"].as_u64().unwrap_or(0));
    let started = Instant::now();
    for i in 0..cases.len() {
        env.patch_user(
            &format!("h-{i}"),
            &json!({"spec": {"firstName": "Hostile"}}),
        )
        .await?;
    }
    let mut f = Figures::new("Hostile Dashboard answers");
    for (i, c) in cases.iter().enumerate() {
        let u = env
            .wait_condition(&format!("h-{i}"), READY, "False", c.reason)
            .await
            .map_err(|e| e.context(c.what))?;
        let (_, _, msg) = kube::condition(&u, READY).unwrap_or_default();
        clear_message(&msg).map_err(|e| anyhow::anyhow!("{}: {e}: {msg}", c.what))?;
    }
    // Leave the faults armed for a while: backoff, not a hot loop, must pace the retries.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let window = started.elapsed();
    let log = env.tyk_requests().await?;
    let bound = backoff_attempts(window) * REQUESTS_PER_RECONCILE;
    let mut most = 0;
    for (c, id) in cases.iter().zip(&ids) {
        let path = format!("/admin/users/{id}");
        let n = log
            .iter()
            .filter(|r| r["path"] == path.as_str() && r["atMs"].as_u64().unwrap_or(0) > armed_at)
            .count() as u64;
        most = most.max(n);
        anyhow::ensure!(
            n <= bound,
            "{}: {n} requests in {window:?}, backoff bound {bound}",
            c.what
        );
    }
    anyhow::ensure!(
        env.operator.as_ref().and_then(|o| o.pid()) == pid,
        "the operator process changed"
    );

    // The Dashboard recovers: every user takes the edit.
    env.dashboard.faults(&json!({})).await?;
    let recovered = Instant::now();
    for i in 0..cases.len() {
        env.wait_ready(&format!("h-{i}")).await?;
    }
    let recovery = recovered.elapsed();

    // Create cases, one at a time (one shared route), each fired once.
    let creates = create_cases();
    for (i, (what, rule)) in creates.iter().enumerate() {
        let rule = with(
            rule.clone(),
            json!({"method": "POST", "route": "/admin/users", "count": 1}),
        );
        env.dashboard.faults(&json!({"rules": [rule]})).await?;
        let name = format!("hc-{i}");
        let email = env.email(&name);
        env.apply(&env.user(&name, &email)).await?;
        let u = env.wait_ready(&name).await.map_err(|e| e.context(*what))?;
        let n = env.users_with_email(&email).await?.len();
        anyhow::ensure!(n == 1, "{what}: {n} Dashboard users");
        anyhow::ensure!(
            u["status"]["userId"].is_string(),
            "{what}: no userId: {}",
            u["status"]
        );
        let saw_error = env.history.lock().expect("history").iter().any(|v| {
            v["metadata"]["name"] == name.as_str()
                && matches!(kube::condition(v, READY), Some((s, r, m)) if s == "False" && r == "DashboardError" && clear_message(&m).is_ok())
        });
        anyhow::ensure!(
            saw_error,
            "{what}: never reported DashboardError with a clear message"
        );
    }
    env.dashboard.faults(&json!({})).await?;

    let panics = env
        .logs
        .tail(100_000)
        .iter()
        .filter(|l| l.contains("panicked"))
        .count();
    anyhow::ensure!(panics == 0, "{panics} panics in the operator log");
    anyhow::ensure!(
        env.operator.as_ref().and_then(|o| o.pid()) == pid,
        "the operator process changed"
    );
    f.row("malformed answers, one user each (GET, PUT)", cases.len())
        .row("malformed create answers, one at a time", creates.len())
        .row(
            "most requests for one user while armed",
            format!("{most} in {:.1} s (bound {bound})", window.as_secs_f64()),
        )
        .row(
            "convergence after recovery",
            format!("{:.1} s", recovery.as_secs_f64()),
        )
        .row("operator panics / restarts", 0);
    f.print();
    env.finish().await
}
