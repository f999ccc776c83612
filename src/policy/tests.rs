use std::collections::BTreeMap;

use super::*;

fn perms(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn policy(rules: ConnectionPolicy) -> Policy {
    Policy {
        connection: "cluster/shared".into(),
        home_org: Some("org-a".into()),
        rules,
        unrestricted: false,
    }
}

fn user<'a>(org: &'a str, p: &'a BTreeMap<String, String>) -> Ask<'a> {
    Ask {
        org: Some(org),
        permissions: Some(p),
        tyk_user: true,
        ..Ask::default()
    }
}

#[test]
fn the_default_allows_an_ordinary_user_of_the_home_org() {
    let p = perms(&[("apis", "write")]);
    assert_eq!(
        policy(ConnectionPolicy::default()).check(&user("org-a", &p)),
        Ok(())
    );
}

#[test]
fn super_users_need_allow_super_users() {
    let ask = Ask {
        super_user: true,
        tyk_user: true,
        ..Ask::default()
    };
    let err = policy(ConnectionPolicy::default()).check(&ask).unwrap_err();
    assert!(
        err.contains("superUser") && err.contains("spec.policy.allowSuperUsers"),
        "{err}"
    );
    assert!(err.contains("cluster/shared"), "{err}");
    let open = ConnectionPolicy {
        allow_super_users: true,
        allow_admin_users: true,
        ..Default::default()
    };
    assert_eq!(policy(open).check(&ask), Ok(()));
}

#[test]
fn a_super_user_without_admin_rights_allowed_is_still_only_a_super_user_question() {
    // A super user has no org and no permissions: only allowSuperUsers decides.
    let ask = Ask {
        super_user: true,
        tyk_user: true,
        ..Ask::default()
    };
    let open = ConnectionPolicy {
        allow_super_users: true,
        ..Default::default()
    };
    assert_eq!(policy(open).check(&ask), Ok(()));
}

#[test]
fn other_orgs_need_allowed_org_ids() {
    let p = perms(&[("apis", "read")]);
    let err = policy(ConnectionPolicy::default())
        .check(&user("org-b", &p))
        .unwrap_err();
    assert!(
        err.contains("org org-b") && err.contains("allowedOrgIds"),
        "{err}"
    );
    assert!(err.contains("it allows org-a"), "{err}");
    let listed = ConnectionPolicy {
        allowed_org_ids: vec!["org-b".into()],
        ..Default::default()
    };
    assert_eq!(policy(listed.clone()).check(&user("org-b", &p)), Ok(()));
    assert_eq!(policy(listed).check(&user("org-a", &p)), Ok(()));
}

#[test]
fn a_connection_without_org_allows_only_the_listed_orgs() {
    let p = perms(&[("apis", "read")]);
    let mut pol = policy(ConnectionPolicy::default());
    pol.home_org = None;
    let err = pol.check(&user("org-a", &p)).unwrap_err();
    assert!(err.contains("names no org"), "{err}");
    pol.rules.allowed_org_ids = vec!["org-a".into()];
    assert_eq!(pol.check(&user("org-a", &p)), Ok(()));
}

#[test]
fn admin_rights_need_allow_admin_users() {
    for (k, v) in [("IsAdmin", "admin"), ("ResetPassword", "admin")] {
        let p = perms(&[(k, v), ("apis", "read")]);
        let err = policy(ConnectionPolicy::default())
            .check(&user("org-a", &p))
            .unwrap_err();
        assert!(err.contains(k) && err.contains("allowAdminUsers"), "{err}");
    }
    let p = perms(&[("IsAdmin", "admin")]);
    let open = ConnectionPolicy {
        allow_admin_users: true,
        ..Default::default()
    };
    assert_eq!(policy(open).check(&user("org-a", &p)), Ok(()));
}

#[test]
fn a_tyk_user_without_permissions_is_an_admin() {
    let empty = BTreeMap::new();
    for permissions in [None, Some(&empty)] {
        let ask = Ask {
            org: Some("org-a"),
            permissions,
            tyk_user: true,
            ..Ask::default()
        };
        let err = policy(ConnectionPolicy::default()).check(&ask).unwrap_err();
        assert!(err.contains("without permissions"), "{err}");
    }
}

#[test]
fn the_admin_role_needs_allow_admin_users() {
    let ask = Ask {
        admin_role: true,
        ..Ask::default()
    };
    let err = policy(ConnectionPolicy::default()).check(&ask).unwrap_err();
    assert!(
        err.contains("role: admin") && err.contains("allowAdminUsers"),
        "{err}"
    );
    // Other roles of the admin users API carry no permissions map and are fine.
    assert_eq!(
        policy(ConnectionPolicy::default()).check(&Ask::default()),
        Ok(())
    );
}

#[test]
fn the_ceiling_applies_per_section_and_to_the_rest_through_star() {
    let ceiling = ConnectionPolicy {
        permission_ceiling: BTreeMap::from([
            ("apis".to_string(), PermissionLevel::Write),
            ("*".to_string(), PermissionLevel::Read),
        ]),
        ..Default::default()
    };
    let pol = policy(ceiling);
    let ok = perms(&[("apis", "write"), ("keys", "read"), ("users", "deny")]);
    assert_eq!(pol.check(&user("org-a", &ok)), Ok(()));
    let over = perms(&[("apis", "write"), ("keys", "write")]);
    let err = pol.check(&user("org-a", &over)).unwrap_err();
    assert!(
        err.contains("permissions.keys: write") && err.contains("*: read"),
        "{err}"
    );
}

#[test]
fn without_star_unlisted_sections_are_not_limited() {
    let ceiling = ConnectionPolicy {
        permission_ceiling: BTreeMap::from([("users".to_string(), PermissionLevel::Deny)]),
        ..Default::default()
    };
    let pol = policy(ceiling);
    assert_eq!(
        pol.check(&user("org-a", &perms(&[("apis", "write")]))),
        Ok(())
    );
    let err = pol
        .check(&user("org-a", &perms(&[("users", "read")])))
        .unwrap_err();
    assert!(err.contains("users: deny at most"), "{err}");
}

#[test]
fn a_literal_group_is_refused_only_under_a_ceiling() {
    let p = perms(&[("apis", "read")]);
    let ask = Ask {
        literal_group: true,
        ..user("org-a", &p)
    };
    assert_eq!(policy(ConnectionPolicy::default()).check(&ask), Ok(()));
    let ceiling = ConnectionPolicy {
        permission_ceiling: BTreeMap::from([("*".to_string(), PermissionLevel::Read)]),
        ..Default::default()
    };
    let err = policy(ceiling).check(&ask).unwrap_err();
    assert!(err.contains("groupRef"), "{err}");
}

#[test]
fn adoption_needs_allow_adoption() {
    let err = policy(ConnectionPolicy::default())
        .check_adoption("dashboard user a@example.com")
        .unwrap_err();
    assert!(
        err.contains("allowAdoption") && err.contains("a@example.com"),
        "{err}"
    );
    let open = ConnectionPolicy {
        allow_adoption: true,
        ..Default::default()
    };
    assert_eq!(policy(open).check_adoption("x"), Ok(()));
}

#[test]
fn unrestricted_allows_everything() {
    let pol = Policy::unrestricted("http://d:3000");
    let ask = Ask {
        super_user: true,
        org: Some("any"),
        tyk_user: true,
        admin_role: true,
        literal_group: true,
        ..Ask::default()
    };
    assert_eq!(pol.check(&ask), Ok(()));
    assert_eq!(pol.check_adoption("x"), Ok(()));
}
