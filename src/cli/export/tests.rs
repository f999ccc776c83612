use std::collections::BTreeMap;

use super::*;
use crate::dashboard::AccessKey;

const ORG: &str = "5e9d9544a1dcd60001d0ed20";
const KEY: &str = "c8251902f3f44dfa729e0267d0d62859";

fn user(id: &str, org: &str, email: &str) -> User {
    User {
        id: id.into(),
        org_id: org.into(),
        email_address: email.into(),
        first_name: "First".into(),
        last_name: "Last".into(),
        active: true,
        user_permissions: BTreeMap::from([("IsAdmin".into(), "admin".into())]),
        access_key: AccessKey::new(KEY),
        ..Default::default()
    }
}

fn sample() -> Vec<User> {
    let mut custom = user("3", ORG, "dev@example.com");
    custom.user_permissions = BTreeMap::from([
        ("apis".into(), "write".into()),
        ("users".into(), "deny".into()),
    ]);
    custom.group_id = "g1".into();
    custom.password_max_days = 30;
    let mut inactive = user("4", ORG, "gone@example.com");
    inactive.active = false;
    vec![
        user("1", ORG, "b.b@example.com"),
        user("2", ORG, "b-b@example.com"),
        custom,
        inactive,
        user("5", "", "root@example.com"),
    ]
}

#[test]
fn every_shape_becomes_a_manifest_the_operator_adopts_as_is() {
    let (items, skipped) = manifests(&sample(), &Options::default());
    assert!(skipped.is_empty());
    let names: Vec<&str> = items.iter().map(|e| e.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by name");
    assert_eq!(names.len(), 5);
    for e in &items {
        assert!(e.warnings.is_empty(), "{}: {:?}", e.name, e.warnings);
        assert_eq!(e.user.spec.adoption_policy, AdoptionPolicy::IfExists);
        assert_eq!(e.user.spec.deletion_policy, DeletionPolicy::Orphan);
        // Round trip through the text form: what kubectl would store.
        let back: DashboardUser = serde_json::from_value(to_value(e)).unwrap();
        assert_eq!(back.spec, e.user.spec);
    }
    let root = items.iter().find(|e| e.name == "root-example-com").unwrap();
    assert!(root.user.spec.super_user && root.user.spec.org_id.is_none());
    let dev = items.iter().find(|e| e.name == "dev-example-com").unwrap();
    assert_eq!(dev.user.spec.group_id.as_deref(), Some("g1"));
    assert_eq!(dev.user.spec.password_max_days, Some(30));
    assert_eq!(dev.user.spec.permissions["users"], "deny");
    let gone = items.iter().find(|e| e.name == "gone-example-com").unwrap();
    assert!(!gone.user.spec.active);
    assert!(
        names
            .iter()
            .filter(|n| n.starts_with("b-b-example-com-"))
            .count()
            == 2
    );
}

#[test]
fn output_is_stable_and_never_carries_a_key() {
    let opts = Options {
        namespace: Some("team-a".into()),
        with_password_secret_refs: true,
        ..Default::default()
    };
    let (a, _) = manifests(&sample(), &opts);
    let mut shuffled = sample();
    shuffled.reverse();
    let (b, _) = manifests(&shuffled, &opts);
    for format in [OutputFormat::Yaml, OutputFormat::Json] {
        let text = render(&a, format).unwrap();
        assert_eq!(text, render(&b, format).unwrap(), "byte-identical");
        assert!(!text.contains(KEY));
        assert!(text.contains("namespace: team-a") || text.contains("\"namespace\": \"team-a\""));
    }
    let yaml = render(&a, OutputFormat::Yaml).unwrap();
    assert_eq!(yaml.matches("---\n").count(), 5);
    assert!(yaml.contains("name: dev-example-com-password"));
}

#[test]
fn what_the_crd_refuses_is_skipped_or_left_unmanaged() {
    let mut odd = user("6", ORG, "odd@example.com");
    odd.user_permissions = BTreeMap::from([("apis".into(), "sometimes".into())]);
    let mut odd_key = user("8", ORG, "odd-key@example.com");
    odd_key.user_permissions = BTreeMap::from([("my apis".into(), "read".into())]);
    odd_key.password_max_days = 99_999;
    let mut long = user("9", ORG, "long@example.com");
    long.first_name = "x".repeat(300);
    let mut odd_group = user("10", ORG, "group@example.com");
    odd_group.group_id = "not an id".into();
    let (items, skipped) = manifests(
        &[odd, user("7", ORG, "no-at-sign"), odd_key, long, odd_group],
        &Options::default(),
    );
    let skipped: Vec<&str> = skipped.iter().map(|s| s.email.as_str()).collect();
    assert_eq!(
        skipped,
        ["no-at-sign", "long@example.com", "group@example.com"]
    );
    assert_eq!(items.len(), 2);
    for e in &items {
        assert!(e.user.spec.permissions.is_empty(), "{}", e.name);
        assert!(
            e.warnings[0].contains("permissions left unmanaged"),
            "{:?}",
            e.warnings
        );
    }
    let odd_key = items
        .iter()
        .find(|e| e.name == "odd-key-example-com")
        .unwrap();
    assert_eq!(odd_key.user.spec.password_max_days, None);
}

#[test]
fn connection_refs_parse_kind_and_name() {
    let r = parse_connection_ref("DashboardConnection/tyk").unwrap();
    assert_eq!(r.kind, ConnectionKind::DashboardConnection);
    assert!(parse_connection_ref("Secret/x").is_err());
    assert!(parse_connection_ref("nokind").is_err());
}

/// The CRD's maxLength counts characters: an address of 244 characters (but 487 bytes) is
/// valid and exports; 255 characters is not.
#[test]
fn a_valid_non_ascii_email_exports() {
    let wide = format!("{}@{}.de", "ü".repeat(120), "ö".repeat(120));
    assert!(wide.len() > 254 && wide.chars().count() <= 254);
    let too_long = format!("{}@example.de", "a".repeat(244));
    assert_eq!(too_long.chars().count(), 255);
    let (items, skipped) = manifests(
        &[user("1", ORG, &wide), user("2", ORG, &too_long)],
        &Options::default(),
    );
    assert_eq!(
        items.len(),
        1,
        "skipped: {:?}",
        skipped.iter().map(|s| &s.reason).collect::<Vec<_>>()
    );
    assert_eq!(items[0].user.spec.email, wide);
    assert!(items[0].warnings.is_empty(), "{:?}", items[0].warnings);
    let skipped: Vec<&str> = skipped.iter().map(|s| s.email.as_str()).collect();
    assert_eq!(skipped, [too_long.as_str()]);
}
