//! User groups through the client (`/api/usergroups`, docs/tyk-dashboard-api.md §4) against the
//! Tyk emulator: the round trip the group reconcile relies on, and its error classes.

use std::collections::BTreeMap;

use dashboard_user_operator::dashboard::{DashboardError, Group};
use tyk_dashboard_emulator::Profile;

use crate::emulator::{ORG, admin_client, emulator, org_admin};
use crate::secrets::assert_clean;

#[tokio::test]
async fn groups_round_trip_and_fail_clearly() {
    let emu = emulator(Profile::V5_8).await;
    let (admin, client) = org_admin(&emu).await;
    let g = Group {
        org_id: ORG.into(),
        name: "readers".into(),
        description: "read only".into(),
        active: true,
        user_permissions: BTreeMap::from([("apis".into(), "read".into())]),
        ..Default::default()
    };
    let id = client.create_group(&g).await.unwrap();
    let mut stored = client.get_group(&id).await.unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.org_id.as_str()),
        ("readers", ORG)
    );
    assert_eq!(client.list_groups().await.unwrap().len(), 1);

    // A whole-group PUT; unknown fields the Dashboard sent are sent back.
    stored.name = "renamed".into();
    stored
        .user_permissions
        .insert("keys".into(), "write".into());
    client.update_group(&stored).await.unwrap();
    let again = client.get_group(&id).await.unwrap();
    assert_eq!(again.name, "renamed");
    assert_eq!(again.user_permissions["keys"], "write");

    // No permission at all is refused as invalid, not retried as an outage.
    let mut empty = again.clone();
    empty.user_permissions.clear();
    let e = client.update_group(&empty).await.unwrap_err();
    assert!(matches!(e, DashboardError::Invalid { .. }), "{e:?}");

    client.delete_group(&id).await.unwrap();
    assert!(client.get_group(&id).await.unwrap_err().is_not_found());
    assert!(client.delete_group(&id).await.unwrap_err().is_not_found());
    // PUT of a missing group answers 400 "Group ID does not exist": still not-found.
    assert!(
        client
            .update_group(&again)
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Without an API key there is no way to reach groups: a clear configuration error.
    let e = admin_client(&emu).list_groups().await.unwrap_err();
    assert!(matches!(e, DashboardError::Config { .. }), "{e:?}");
    let printed = format!("{e} {e:?}");
    assert_clean(&printed);
    assert!(!printed.contains(admin.access_key.expose()));
}
