//! Fuzz targets for the plan function (issue #9 part 7): arbitrary spec, status, remote
//! user, access Secret and password state → `plan` never panics, and it is idempotent:
//! applying its steps (as the executor and a Dashboard would) and planning again yields no
//! further Dashboard write.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::crd::{
    AccessKeySecret, CreateConflict, CreateIntent, DashboardUserSpec, DashboardUserStatus,
    PasswordSecretRef, ROTATE_ANNOTATION,
};
use crate::fuzzing::fuzz;
use crate::reconcile::fingerprint::FingerprintKey;

const URL: &str = "http://dash:3000";
const ORGS: &[&str] = &["5e9d9544a1dcd60001d0ed20", "5e9d9544a1dcd60001d0ed21"];
const EMAILS: &[&str] = &[
    "alice@example.com",
    "Alice@Example.COM",
    "bob@example.org",
    "bad",
];

fn fp(key: u8, pw: &str) -> Fingerprint {
    FingerprintKey::new(vec![key; 32]).fingerprint("uid-alice", pw.as_bytes())
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop::option::of(s).boxed()
}

fn pick(items: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(items).prop_map(str::to_string).boxed()
}

fn permissions() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        pick(&["apis", "analytics", "users", "IsAdmin", "ResetPassword"]),
        pick(&["read", "write", "deny", "admin"]),
        0..4,
    )
}

fn spec() -> impl Strategy<Value = DashboardUserSpec> {
    (
        (pick(EMAILS), opt(pick(&["Ada", ""])), opt(pick(&["L"]))),
        (
            opt(pick(ORGS)),
            any::<bool>(),
            any::<bool>(),
            opt(pick(&["g1"])),
        ),
        (permissions(), opt(0i64..3), any::<bool>()),
        (
            opt(pick(&["custom"])),
            prop::collection::btree_map(pick(&["team"]), pick(&["a"]), 0..2),
        ),
    )
        .prop_map(
            |(
                (email, first, last),
                (org, sup, active, group),
                (perms, days, pw),
                (secret, labels),
            )| {
                let mut s = DashboardUserSpec::for_email(&email);
                s.first_name = first;
                s.last_name = last;
                s.org_id = org;
                s.super_user = sup;
                s.active = active;
                s.group_id = group;
                s.permissions = perms;
                s.password_max_days = days;
                s.password_secret_ref = pw.then(|| PasswordSecretRef {
                    name: "pw".into(),
                    key: "password".into(),
                });
                s.access_key_secret =
                    (secret.is_some() || !labels.is_empty()).then(|| AccessKeySecret {
                        name: secret,
                        labels,
                        ..Default::default()
                    });
                s
            },
        )
}

fn status() -> impl Strategy<Value = DashboardUserStatus> {
    let fps =
        || opt(prop_oneof![Just(fp(1, "a")), Just(fp(1, "b")), Just(fp(2, "a"))].prop_map(|f| f.0));
    (
        (
            opt(Just("679a02465715ecdd507d7273".to_string())),
            fps(),
            fps(),
            opt(pick(&["r1"])),
        ),
        (
            opt(pick(EMAILS)),
            opt((0i64..3, any::<bool>())),
            opt(pick(&["alice-dashboard-access", "old"])),
        ),
    )
        .prop_map(
            |((id, fpr, rejected, rotated), (intent, conflict, secret_name))| DashboardUserStatus {
                user_id: id,
                password_fingerprint: fpr,
                rejected_password_fingerprint: rejected,
                rotated_access_key: rotated,
                create_intent: intent.map(|email| CreateIntent {
                    email,
                    time: "2026-01-01T00:00:00Z".into(),
                }),
                create_conflict: conflict.map(|(generation, recent)| CreateConflict {
                    generation,
                    time: if recent {
                        jiff::Timestamp::now().to_string()
                    } else {
                        "2020-01-01T00:00:00Z".into()
                    },
                }),
                access_key_secret_name: secret_name,
                ..Default::default()
            },
        )
}

fn remote() -> impl Strategy<Value = RemoteView> {
    let user = (
        pick(EMAILS),
        any::<bool>(),
        pick(&["k1", ""]),
        pick(ORGS),
        opt(pick(&["Ada"])),
        permissions(),
        0i64..3,
    )
        .prop_map(|(email, active, key, org, first, perms, days)| RemoteUser {
            id: "679a02465715ecdd507d7273".into(),
            login: email.clone(),
            email,
            active,
            access_key: Redacted(key),
            profile: RemoteProfile::Tyk(TykRemote {
                org_id: org,
                first_name: first.unwrap_or_default(),
                permissions: perms,
                password_max_days: days,
                ..Default::default()
            }),
        });
    prop_oneof![
        Just(RemoteView::NoId),
        Just(RemoteView::NotFound),
        user.prop_map(RemoteView::Found)
    ]
}

fn password() -> impl Strategy<Value = PasswordView> {
    prop_oneof![
        Just(PasswordView::NotManaged),
        Just(PasswordView::Present(fp(1, "a"))),
        Just(PasswordView::Present(fp(1, "b"))),
        Just(PasswordView::Unavailable(Blocker::stalled(
            reason::PASSWORD_SECRET_NOT_FOUND,
            "no"
        ))),
    ]
}

#[derive(Clone, Debug)]
struct World {
    user: DashboardUser,
    connection_org: Option<String>,
    password: PasswordView,
    secret: Option<AccessSecretView>,
    remote: RemoteView,
}

fn world() -> impl Strategy<Value = World> {
    (
        spec(),
        opt(status()),
        opt(pick(&["r1", "r2"])),
        opt(pick(ORGS)),
        password(),
        remote(),
        any::<bool>(),
    )
        .prop_map(|(spec, status, rotate, org, password, remote, secret)| {
            let mut user = DashboardUser::test().with_spec(|s| *s = spec);
            user.status = status;
            if let Some(r) = rotate {
                user = user.with_annotation(ROTATE_ANNOTATION, &r);
            }
            let secret = secret.then(|| AccessSecretView {
                data: BTreeMap::from([("accessKey".into(), Redacted("k1".into()))]),
                owned: true,
                resource_version: String::new(),
                ..Default::default()
            });
            World {
                user,
                connection_org: org,
                password,
                secret,
                remote,
            }
        })
}

fn observed(w: &World) -> Observed<'_> {
    Observed {
        user: &w.user,
        now: jiff::Timestamp::now(),
        resync_period: std::time::Duration::from_secs(600),
        connection: ConnectionView::Ready {
            url: URL.into(),
            backend: ConnectionType::TykDashboard,
            org_id: w.connection_org.clone(),
            has_api_key: true,
            key_org: None,
            policy: crate::policy::Policy::unrestricted("test"),
            dashboard: "TykDashboard:http://dash:3000".into(),
        },
        password: w.password.clone(),
        access_secret: w.secret.clone(),
        remote: w.remote.clone(),
        // A literal (or no) groupId: groupRef resolution is outside this world.
        group: GroupView::Literal,
    }
}

/// What the Dashboard stores after the admin PUT the executor sends (backend::tyk::update).
fn put(remote: &mut RemoteUser, d: &DesiredUser) {
    let t = d.tyk().expect("tyk backend");
    remote.login = d.login.clone();
    remote.email = d.login.clone();
    remote.active = d.active;
    let r = remote.tyk_mut().expect("tyk remote");
    r.first_name = t.first_name.clone();
    r.last_name = t.last_name.clone();
    r.org_id = t.org_id.clone();
    r.group_id = t.group_id.clone();
    r.permissions = t.permissions_for_put(&r.permissions);
    if let Some(days) = t.password_max_days {
        r.password_max_days = days;
    }
}

/// Runs the plan's steps against the world as the executor and a Dashboard would.
fn apply(w: &mut World, p: &Plan) {
    let Some(d) = p.desired.clone() else { return };
    let fp = match &w.password {
        PasswordView::Present(f) => Some(f.0.clone()),
        _ => None,
    };
    let secret_name = w.user.access_secret_name();
    let labels = access_secret_labels(&w.user);
    let annotations = w
        .user
        .spec
        .access_key_secret
        .as_ref()
        .map(|s| s.annotations.clone())
        .unwrap_or_default();
    let user = w.user.clone();
    let status = w.user.status.get_or_insert_with(Default::default);
    for step in &p.steps {
        match step {
            Step::Create { .. } => {
                let mut r = RemoteUser {
                    id: "0000000000000000000000aa".into(),
                    login: String::new(),
                    email: String::new(),
                    active: false,
                    access_key: Redacted("fresh-key".into()),
                    profile: RemoteProfile::Tyk(TykRemote::default()),
                };
                put(&mut r, &d);
                status.user_id = Some(r.id.clone());
                status.org_id = Some(d.org_id().to_string());
                status.create_intent = None;
                status.create_conflict = None;
                // As create.rs: a new user has no password yet and a brand-new key.
                status.password_fingerprint = None;
                status.rejected_password_fingerprint = None;
                status.rotated_access_key = user.rotation_request().map(String::from);
                w.remote = RemoteView::Found(r);
            }
            Step::InitialPassword { .. } | Step::RefreshFingerprint => {
                status.password_fingerprint = fp.clone();
            }
            Step::Update { fields, password } => {
                if let RemoteView::Found(r) = &mut w.remote
                    && *fields
                {
                    put(r, &d);
                }
                if *password {
                    status.password_fingerprint = fp.clone();
                    status.rejected_password_fingerprint = None;
                }
            }
            Step::RotateKey { request } => {
                status.rotated_access_key = Some(request.clone());
                if let RemoteView::Found(r) = &mut w.remote {
                    r.access_key = Redacted(format!("rotated-{request}"));
                }
            }
            Step::WriteAccessSecret => {
                let RemoteView::Found(r) = &w.remote else {
                    continue;
                };
                let data = access_secret_data(&user, &d, &r.id, &r.access_key.0, URL);
                w.secret = Some(AccessSecretView {
                    data: data.into_iter().map(|(k, v)| (k, Redacted(v))).collect(),
                    labels: labels.clone(),
                    annotations: annotations.clone(),
                    owned: true,
                    resource_version: String::new(),
                });
                status.access_key_secret_name = Some(secret_name.clone());
            }
            Step::DeleteAccessSecret { .. } => {
                status.access_key_secret_name = Some(secret_name.clone());
            }
        }
    }
}

fn writes(p: &Plan) -> Vec<&Step> {
    p.steps
        .iter()
        .filter(|s| {
            matches!(
                s,
                Step::Create { .. }
                    | Step::InitialPassword { .. }
                    | Step::Update { .. }
                    | Step::RotateKey { .. }
            )
        })
        .collect()
}

#[test]
fn fuzz_plan_never_panics_and_is_idempotent() {
    fuzz("plan", world(), |mut w| {
        let first = plan(&observed(&w));
        // Cleanup planning sees the same arbitrary state.
        let _ = plan_cleanup(&w.user, &observed(&w).connection);
        apply(&mut w, &first);
        let second = plan(&observed(&w));
        prop_assert!(
            writes(&second).is_empty(),
            "after {:?} the plan still writes {:?}",
            first.steps,
            second.steps
        );
        prop_assert!(
            second.steps.is_empty(),
            "after {:?}: {:?}",
            first.steps,
            second.steps
        );
        Ok(())
    });
}
