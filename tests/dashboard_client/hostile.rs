//! Hostile Dashboard answers (issue #9 part 6), injected by the Tyk emulator's `answer`
//! faults: truncated JSON, wrong types, `null`, HTML pages, oversized bodies, wrong content
//! types, empty bodies, redirects to another host. Each ends in a classified error that
//! prints no body and no secret (or, for a harmless quirk, in success), never a panic; and
//! the body size cap holds.

use dashboard_user_operator::dashboard::{DashboardClient, DashboardError, MAX_BODY_BYTES};
use tyk_dashboard_emulator::{FaultRule, Faults, Profile, TykEmulator};

use crate::emulator::{admin_client, emulator, new_user, org_admin};

const JSON: Option<&str> = Some("application/json");
const HTML: Option<&str> = Some("text/html; charset=utf-8");

#[derive(Clone, Copy, Debug)]
enum Call {
    Get,
    Create,
    Update,
    List,
    Delete,
}

struct Case {
    what: &'static str,
    call: Call,
    rule: FaultRule,
    /// Expected error category, or `None` for "accepted".
    expect: Option<&'static str>,
}

fn case(what: &'static str, call: Call, rule: FaultRule, expect: Option<&'static str>) -> Case {
    Case {
        what,
        call,
        rule,
        expect,
    }
}

fn route(call: Call) -> (&'static str, &'static str) {
    match call {
        Call::Get => ("GET", "/admin/users/{id}"),
        Call::Create => ("POST", "/admin/users"),
        Call::Update => ("PUT", "/admin/users/{id}"),
        Call::List => ("GET", "/api/users"),
        Call::Delete => ("DELETE", "/api/users/{id}"),
    }
}

fn cases() -> Vec<Case> {
    use Call::*;
    let a = FaultRule::answer;
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let user_json = r#"{"id":"5e9d9544a1dcd60001d0ed21","org_id":"5e9d9544a1dcd60001d0ed20","first_name":"T","last_name":"U","email_address":"bob@example.org","active":true,"user_permissions":{},"group_id":"","access_key":"k"}"#;
    vec![
        case(
            "truncated JSON",
            Get,
            a(200, JSON, r#"{"id":"5e9d9544a1dcd60001d0ed21","email_addr"#),
            Some("Unexpected"),
        ),
        case(
            "wrong types",
            Get,
            a(
                200,
                JSON,
                r#"{"id":42,"email_address":true,"active":"yes"}"#,
            ),
            Some("Unexpected"),
        ),
        case(
            "null where a user is expected",
            Get,
            a(200, JSON, "null"),
            Some("Unexpected"),
        ),
        case(
            "an array where a user is expected",
            Get,
            a(200, JSON, "[]"),
            Some("Unexpected"),
        ),
        case(
            "a bare JSON string",
            Get,
            a(200, JSON, r#""ok""#),
            Some("Unexpected"),
        ),
        case(
            "200 with an HTML error page",
            Get,
            a(
                200,
                HTML,
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
            ),
            Some("Unexpected"),
        ),
        case(
            "empty body with 200",
            Get,
            a(200, JSON, ""),
            Some("Unexpected"),
        ),
        case(
            "204 without a body",
            Get,
            a(204, None, ""),
            Some("Unexpected"),
        ),
        case(
            "10 MB body on a single-user route",
            Get,
            a(200, JSON, "{\"a\":").with_body_bytes(10 * 1024 * 1024),
            Some("Unexpected"),
        ),
        case(
            "body just over the cap, declared length",
            Get,
            a(200, JSON, " ").with_body_bytes(MAX_BODY_BYTES as u64 + 1),
            Some("Unexpected"),
        ),
        case(
            "deeply nested JSON",
            Get,
            a(200, JSON, &nested),
            Some("Unexpected"),
        ),
        case(
            "byte order mark before JSON",
            Get,
            a(200, JSON, &format!("\u{feff}{user_json}")),
            Some("Unexpected"),
        ),
        case(
            "valid user with text/plain content type",
            Get,
            a(200, Some("text/plain"), user_json),
            None,
        ),
        case(
            "valid user without a content type",
            Get,
            a(200, None, user_json),
            None,
        ),
        case(
            "redirect to another host",
            Get,
            a(302, None, "").with_location("http://203.0.113.7:3000/admin/users/x"),
            Some("Unexpected"),
        ),
        case(
            "permanent redirect to https",
            Get,
            a(308, None, "").with_location("https://evil.example/admin/users/x"),
            Some("Unexpected"),
        ),
        case(
            "500 with an HTML proxy page",
            Get,
            a(500, HTML, "<html>Internal Server Error</html>"),
            Some("Transient"),
        ),
        case(
            "502 with an empty body",
            Get,
            a(502, None, ""),
            Some("Transient"),
        ),
        case(
            "429 with HTML",
            Get,
            a(429, HTML, "<html>slow down</html>"),
            Some("Transient"),
        ),
        case(
            "404 as an HTML page",
            Get,
            a(404, HTML, "<html>not here</html>"),
            Some("NotFound"),
        ),
        case(
            "401 as plain text",
            Get,
            a(401, Some("text/plain"), "Unauthorized\n"),
            Some("Unauthorized"),
        ),
        case(
            "400 with a 1 MB error message",
            Get,
            a(
                400,
                JSON,
                &format!(
                    r#"{{"Status":"Error","Message":"{}","Meta":null}}"#,
                    "x".repeat(1_000_000)
                ),
            ),
            // A read refused as invalid is retried, not stalled: nothing the user wrote
            // can be the cause.
            Some("Unexpected"),
        ),
        case(
            "create: OK envelope without a key or user",
            Create,
            a(200, JSON, r#"{"Status":"OK","Message":"","Meta":null}"#),
            Some("Unexpected"),
        ),
        case(
            "create: user id of the wrong type",
            Create,
            a(
                200,
                JSON,
                r#"{"Status":"OK","Message":"key","Meta":{"id":123}}"#,
            ),
            Some("Unexpected"),
        ),
        case(
            "create: HTML page with 201",
            Create,
            a(201, HTML, "<html>created?</html>"),
            Some("Unexpected"),
        ),
        case(
            "create: truncated answer after the write",
            Create,
            a(200, JSON, r#"{"Status":"OK","Mess"#).committing(),
            Some("Unexpected"),
        ),
        case(
            "update: null answer",
            Update,
            a(200, JSON, "null"),
            Some("Unexpected"),
        ),
        case(
            "update: HTML answer",
            Update,
            a(200, HTML, "<html>ok</html>"),
            Some("Unexpected"),
        ),
        case(
            "list: users of the wrong type",
            List,
            a(200, JSON, r#"{"users":"none","pages":1}"#),
            Some("Unexpected"),
        ),
        case(
            "list: 40 MB body over the list cap",
            List,
            a(200, JSON, "{").with_body_bytes(40 * 1024 * 1024),
            Some("Unexpected"),
        ),
        case(
            "delete: HTML answer",
            Delete,
            a(200, HTML, "<html>deleted?</html>"),
            Some("Unexpected"),
        ),
    ]
}

async fn run(
    call: Call,
    admin: &DashboardClient,
    api: &DashboardClient,
    id: &str,
    n: usize,
) -> Result<(), DashboardError> {
    match call {
        Call::Get => admin.get_user(id).await.map(drop),
        Call::Create => admin
            .create_user(&new_user(&format!("hostile-{n}@example.org"), &[], true))
            .await
            .map(drop),
        Call::Update => {
            let u = admin.get_user(id).await.expect("the real GET works");
            admin.update_user(&u, None).await.map(drop)
        }
        Call::List => api.list_users().await.map(drop),
        Call::Delete => api.delete_user(id).await.map(drop),
    }
}

fn arm(emu: &TykEmulator, rule: FaultRule, call: Call) {
    let (m, r) = route(call);
    emu.set_faults(Faults {
        rules: vec![rule.on(m, r).times(1)],
        ..Default::default()
    })
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_end_in_classified_errors_without_panics() {
    let emu = emulator(Profile::V5_8).await;
    let admin = admin_client(&emu);
    let (_, api) = org_admin(&emu).await;
    let cases = cases();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut failures = vec![];
    for (n, c) in cases.iter().enumerate() {
        // A fresh victim each time: deletes and updates must not depend on earlier cases.
        let victim = admin
            .create_user(&new_user(&format!("victim-{n}@example.org"), &[], true))
            .await
            .unwrap();
        arm(&emu, c.rule.clone(), c.call);
        let before = emu.requests().len();
        let result = run(c.call, &admin, &api, &victim.user.id, n).await;
        let sent = emu.requests().len() - before;
        emu.set_faults(Faults::default()).unwrap();
        let got = result.as_ref().err().map(|e| e.category());
        if got != c.expect {
            failures.push(format!(
                "{}: expected {:?}, got {result:?}",
                c.what, c.expect
            ));
            continue;
        }
        // Never followed: one request for the call (two for update: its GET first).
        let expected_sent = if matches!(c.call, Call::Update) { 2 } else { 1 };
        if sent != expected_sent {
            failures.push(format!("{}: {sent} requests (redirect followed?)", c.what));
        }
        if let Err(e) = &result {
            let printed = format!("{e} / {e:?}");
            // Bounded, and none of the hostile body is echoed.
            if printed.len() > 2000
                || ["<html", "evil.example", "203.0.113.7"]
                    .iter()
                    .any(|s| printed.contains(s))
            {
                failures.push(format!(
                    "{}: error prints too much: {:.300}",
                    c.what, printed
                ));
            }
        }
    }
    // The client still works afterwards.
    admin.probe().await.unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    emu.shutdown().await;
}
