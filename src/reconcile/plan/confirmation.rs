//! When a reconcile may trust its last look at the Dashboard instead of reading it again
//! (issue 22): each new user costs a create and a first password, and the reconciles that
//! the operator's own status and Secret writes trigger right after must not add a
//! `GET /admin/users/{id}` each.
//!
//! A reconcile that ends in line with the Dashboard records a digest of everything the plan
//! decides from except the remote user itself. A later reconcile whose inputs have the same
//! digest would plan the same as that one did (nothing), as long as the remote user did not
//! change meanwhile, which is exactly what the resync is for: the trust lasts less than half
//! a resync period, and a resync never comes sooner than that after a reconcile
//! (crate::resync::phase_resync). So drift is still read once per period, and any change to
//! the spec or its annotations, the password or access Secret, the connection or its
//! Secrets, or the group is read at once.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use super::{AccessSecretView, ConnectionView, GroupView, PasswordView};
use crate::crd::{DashboardUser, DashboardUserStatus};

/// The last reconcile that found (or put) the user in line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Confirmation {
    pub digest: u64,
    pub at: Instant,
}

/// Everything the plan reads, but the remote user.
pub struct Inputs<'a> {
    pub user: &'a DashboardUser,
    /// The status as the plan will see it: the object's (next reconcile), or the one this
    /// reconcile wrote last (the confirming one).
    pub status: &'a DashboardUserStatus,
    pub connection: &'a ConnectionView,
    /// Of the connection's client: its settings and Secrets (crate::connection::Resolved).
    pub connection_fingerprint: u64,
    pub password: &'a PasswordView,
    pub access_secret: Option<&'a AccessSecretView>,
    pub group: &'a GroupView,
}

/// In memory only, never printed: it tells "the same inputs" apart, nothing more.
pub fn digest(i: &Inputs<'_>) -> u64 {
    let mut h = DefaultHasher::new();
    let u = i.user;
    (u.metadata.uid.as_deref(), u.metadata.generation).hash(&mut h);
    // Every annotation, not only the rotation request: annotating a user (Flux's
    // `requestedAt`, a person's poke) asks for a fresh look, and our own writes never
    // change them.
    u.metadata.annotations.hash(&mut h);
    let st = i.status;
    (
        &st.user_id,
        &st.password_fingerprint,
        &st.rejected_password_fingerprint,
        &st.rotated_access_key,
        &st.access_key_secret_name,
        &st.dashboard,
        st.create_intent.is_some(),
        st.create_conflict.is_some(),
    )
        .hash(&mut h);
    // Debug forms: these views hold no credential (fingerprints are keyed HMACs).
    format!("{:?}|{:?}|{:?}", i.connection, i.password, i.group).hash(&mut h);
    i.connection_fingerprint.hash(&mut h);
    match i.access_secret {
        None => 0u8.hash(&mut h),
        Some(s) => {
            1u8.hash(&mut h);
            for (k, v) in &s.data {
                (k, &v.0).hash(&mut h);
            }
            (&s.labels, &s.annotations, s.owned).hash(&mut h);
        }
    }
    h.finish()
}

/// May this reconcile skip reading the Dashboard and report the user in line?
pub fn trusted(last: Option<&Confirmation>, digest: u64, now: Instant, resync: Duration) -> bool {
    last.is_some_and(|c| c.digest == digest && now.saturating_duration_since(c.at) < resync / 2)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::crd::ROTATE_ANNOTATION;
    use crate::reconcile::fingerprint::Fingerprint;
    use crate::reconcile::plan::{Blocker, Redacted};

    const PERIOD: Duration = Duration::from_secs(600);

    fn secret() -> AccessSecretView {
        AccessSecretView {
            data: BTreeMap::from([("accessKey".into(), Redacted("k1".into()))]),
            labels: BTreeMap::from([("l".into(), "v".into())]),
            annotations: BTreeMap::new(),
            owned: true,
            resource_version: "1".into(),
        }
    }

    struct World {
        user: DashboardUser,
        status: DashboardUserStatus,
        connection: ConnectionView,
        fingerprint: u64,
        password: PasswordView,
        secret: Option<AccessSecretView>,
        group: GroupView,
    }

    impl World {
        fn new() -> Self {
            let user = DashboardUser::test().created("u1", "org");
            Self {
                status: user.status.clone().unwrap(),
                user,
                connection: ConnectionView::Unavailable(Blocker::retry("R", "m")),
                fingerprint: 7,
                password: PasswordView::Present(Fingerprint("hmac:a".into())),
                secret: Some(secret()),
                group: GroupView::Literal,
            }
        }

        fn digest(&self) -> u64 {
            digest(&Inputs {
                user: &self.user,
                status: &self.status,
                connection: &self.connection,
                connection_fingerprint: self.fingerprint,
                password: &self.password,
                access_secret: self.secret.as_ref(),
                group: &self.group,
            })
        }
    }

    #[test]
    fn the_same_inputs_are_trusted_for_less_than_half_a_period() {
        let w = World::new();
        let at = Instant::now();
        let c = Confirmation {
            digest: w.digest(),
            at,
        };
        assert!(trusted(Some(&c), w.digest(), at, PERIOD));
        assert!(trusted(
            Some(&c),
            w.digest(),
            at + PERIOD / 2 - Duration::from_millis(1),
            PERIOD
        ));
        // A resync comes at least half a period after a reconcile: it always reads.
        assert!(!trusted(Some(&c), w.digest(), at + PERIOD / 2, PERIOD));
        assert!(!trusted(None, w.digest(), at, PERIOD));
        // The resource version alone (our own write) does not matter.
        let mut again = World::new();
        again.secret.as_mut().unwrap().resource_version = "2".into();
        assert_eq!(again.digest(), w.digest());
    }

    #[test]
    fn any_input_the_plan_reads_ends_the_trust() {
        let base = World::new().digest();
        type Change = Box<dyn Fn(&mut World)>;
        let changes: Vec<(&str, Change)> = vec![
            (
                "spec (generation)",
                Box::new(|w| w.user.metadata.generation = Some(2)),
            ),
            (
                "any annotation (a poke)",
                Box::new(|w| {
                    w.user = w
                        .user
                        .clone()
                        .with_annotation("example.com/requestedAt", "now");
                }),
            ),
            (
                "rotation request",
                Box::new(|w| {
                    w.user = w.user.clone().with_annotation(ROTATE_ANNOTATION, "r2");
                }),
            ),
            (
                "password",
                Box::new(|w| w.password = PasswordView::Present(Fingerprint("hmac:b".into()))),
            ),
            (
                "password Secret gone",
                Box::new(|w| w.password = PasswordView::NotManaged),
            ),
            ("connection Secrets", Box::new(|w| w.fingerprint = 8)),
            (
                "connection",
                Box::new(|w| w.connection = ConnectionView::Unavailable(Blocker::retry("R", "n"))),
            ),
            (
                "group",
                Box::new(|w| w.group = GroupView::Resolved("g".into())),
            ),
            ("access Secret deleted", Box::new(|w| w.secret = None)),
            (
                "access key edited",
                Box::new(|w| {
                    w.secret
                        .as_mut()
                        .unwrap()
                        .data
                        .insert("accessKey".into(), Redacted("x".into()));
                }),
            ),
            (
                "access Secret label removed",
                Box::new(|w| w.secret.as_mut().unwrap().labels.clear()),
            ),
            (
                "status user id",
                Box::new(|w| w.status.user_id = Some("u2".into())),
            ),
            (
                "password applied",
                Box::new(|w| w.status.password_fingerprint = Some("hmac:a".into())),
            ),
        ];
        for (what, change) in changes {
            let mut w = World::new();
            change(&mut w);
            assert_ne!(w.digest(), base, "{what} must end the trust");
        }
    }
}
