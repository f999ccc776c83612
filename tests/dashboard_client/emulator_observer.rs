//! The metrics hook's labels agree with the emulator's own per-route statistics.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashboard_user_operator::dashboard::{Password, RequestObservation};
use tyk_dashboard_emulator::Profile;

use crate::emulator::{client_with, emulator, new_user, org_admin};
use crate::secrets::PASSWORD;

#[tokio::test]
async fn observer_labels_match_the_emulator_route_statistics() {
    let emu = emulator(Profile::V5_8).await;
    let (admin_user, _) = org_admin(&emu).await;
    let seen: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let sink = seen.clone();
    let c = client_with(
        &emu.url(),
        Some(admin_user.access_key.expose()),
        Duration::from_secs(10),
    )
    .with_observer(Arc::new(move |o: &RequestObservation| {
        let key = format!("{} {} {}", o.method, o.route, o.status.unwrap_or(0));
        *sink.lock().unwrap().entry(key).or_default() += 1;
    }));
    let before = emu.stats().requests;
    let u = c
        .create_user(&new_user("obs@example.org", &[], true))
        .await
        .unwrap();
    let user = c.get_user(&u.user.id).await.unwrap();
    c.update_user(&user, None).await.unwrap();
    c.reset_password_as_user(&u.user.id, &u.access_key, &Password::new(PASSWORD), None)
        .await
        .unwrap();
    c.rotate_access_key(&u.user.id, &u.access_key)
        .await
        .unwrap();
    c.find_user_by_email("obs@example.org", None)
        .await
        .unwrap()
        .unwrap();
    c.list_users().await.unwrap();
    c.probe().await.unwrap();
    c.delete_user(&u.user.id).await.unwrap();
    c.delete_user(&u.user.id).await.unwrap_err();
    // The emulator counts by "<METHOD> <route pattern> <status>": the client's labels must be
    // the same bounded patterns, never concrete ids.
    let mut served = emu.stats().requests;
    for (k, n) in before {
        *served.get_mut(&k).unwrap() -= n;
    }
    served.retain(|_, n| *n > 0);
    assert_eq!(*seen.lock().unwrap(), served);
    emu.shutdown().await;
}
