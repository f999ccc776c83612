//! Canned `answer` faults (hostile answers for client tests), the in-flight write gauge and
//! the request log's timestamps.

use std::time::Duration;

use crate::support::*;
use tyk_dashboard_emulator::{FaultRule, Faults};

const NEW_USER: &str =
    r#"{"org_id":"5d15d3068ba30a0001621bfe","email_address":"a@x.org","active":true}"#;

fn arm(e: &Emu, rule: FaultRule) {
    e.emu
        .set_faults(Faults {
            rules: vec![rule],
            ..Default::default()
        })
        .unwrap();
}

#[tokio::test]
async fn answer_sends_the_canned_status_type_and_body_without_running_the_route() {
    let e = start_default().await;
    arm(
        &e,
        FaultRule::answer(200, Some("text/html"), "<html>oops</html>")
            .on("POST", "/admin/users")
            .times(1),
    );
    let r = e
        .client
        .post(format!("{}/admin/users", e.base))
        .header("admin-auth", SECRET)
        .body(NEW_USER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html");
    assert_eq!(r.text().await.unwrap(), "<html>oops</html>");
    assert!(e.emu.users().is_empty(), "the route did not run");
    assert_eq!(e.stats().await["requests"]["POST /admin/users 200"], 1);
    // Counted rule spent: the next create is real.
    assert_eq!(
        e.admin("POST", "/admin/users", Some(NEW_USER)).await.status,
        200
    );
}

#[tokio::test]
async fn answer_after_commit_writes_then_answers_garbage() {
    let e = start_default().await;
    arm(
        &e,
        FaultRule::answer(200, Some("application/json"), r#"{"Status":"OK","Mess"#)
            .on("POST", "/admin/users")
            .committing(),
    );
    let r = e.admin("POST", "/admin/users", Some(NEW_USER)).await;
    assert_eq!(
        (r.status, r.text.as_str()),
        (200, r#"{"Status":"OK","Mess"#)
    );
    assert_eq!(e.emu.users().len(), 1, "the write happened");
    assert_eq!(e.stats().await["writes"], 1);
}

#[tokio::test]
async fn answer_pads_bodies_and_sends_redirects_without_a_content_type() {
    let e = start_default().await;
    arm(
        &e,
        FaultRule::answer(200, None, "ab")
            .on("GET", "/admin/organisations")
            .with_body_bytes(10 * 1024 * 1024)
            .times(1),
    );
    let r = e.admin("GET", "/admin/organisations", None).await;
    assert_eq!(r.text.len(), 10 * 1024 * 1024);
    assert!(r.text.starts_with("abab"));

    arm(
        &e,
        FaultRule::answer(302, None, "")
            .with_location("http://203.0.113.9/steal")
            .times(1),
    );
    let raw = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = raw
        .get(format!("{}/admin/organisations", e.base))
        .header("admin-auth", SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "http://203.0.113.9/steal");
    assert!(r.headers().get("content-type").is_none());
}

#[tokio::test]
async fn answer_rules_are_validated() {
    let e = start_default().await;
    let too_big = FaultRule::answer(200, None, "").with_body_bytes(65 * 1024 * 1024);
    assert!(
        e.emu
            .set_faults(Faults {
                rules: vec![too_big],
                ..Default::default()
            })
            .is_err()
    );
    // 2xx/3xx statuses are fine for answers (not for errors).
    let body =
        r#"{"rules":[{"kind":"answer","status":204,"body":"","content_type":"application/json"}]}"#;
    let r = e
        .send("POST", "/__emulator/faults", Auth::None, Some(body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let bad = r#"{"rules":[{"kind":"error","status":204}]}"#;
    let r = e
        .send("POST", "/__emulator/faults", Auth::None, Some(bad))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn in_flight_counts_mutating_requests_until_they_end() {
    let e = start_default().await;
    arm(
        &e,
        FaultRule::new(tyk_dashboard_emulator::FaultKind::Latency)
            .on("POST", "/admin/users")
            .with_latency_ms(800),
    );
    let idle = e
        .send("GET", "/__emulator/in-flight", Auth::None, None)
        .await;
    assert_eq!(idle.json()["writes"], 0);
    let (base, client) = (e.base.clone(), e.client.clone());
    let write = tokio::spawn(async move {
        client
            .post(format!("{base}/admin/users"))
            .header("admin-auth", SECRET)
            .body(NEW_USER)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    let mut seen = 0;
    for _ in 0..50 {
        seen = e.emu.stats().in_flight_writes;
        if seen == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen, 1, "the delayed POST is in flight");
    // Reads are not writes.
    assert_eq!(
        e.admin("GET", "/admin/organisations", None).await.status,
        200
    );
    assert_eq!(e.emu.stats().in_flight_writes, 1);
    assert_eq!(write.await.unwrap().unwrap(), 200);
    assert_eq!(e.emu.stats().in_flight_writes, 0);
    let log = e.emu.requests();
    assert!(log.iter().all(|r| r.at_ms > 0 || log.len() == 1), "{log:?}");
    assert!(
        log.windows(2).all(|w| w[0].at_ms <= w[1].at_ms),
        "the log is in time order: {log:?}"
    );
}
