//! Builder fixtures for tests: `DashboardUser::test().with_status(..)` reads like a spec.

use std::collections::BTreeMap;

use kube::api::ObjectMeta;

use super::*;

impl DashboardUser {
    /// `default/alice`, email `alice@example.com`, uid `uid-alice`, generation 1.
    pub fn test() -> Self {
        let mut u = DashboardUser::new("alice", DashboardUserSpec::for_email("alice@example.com"));
        u.metadata = ObjectMeta {
            name: Some("alice".into()),
            namespace: Some("default".into()),
            uid: Some("uid-alice".into()),
            generation: Some(1),
            ..Default::default()
        };
        u
    }

    pub fn with_spec(mut self, f: impl FnOnce(&mut DashboardUserSpec)) -> Self {
        f(&mut self.spec);
        self
    }

    pub fn with_status(mut self, f: impl FnOnce(&mut DashboardUserStatus)) -> Self {
        f(self.status.get_or_insert_with(Default::default));
        self
    }

    /// A user the operator created earlier: status carries its id and org.
    pub fn created(self, user_id: &str, org: &str) -> Self {
        let name = self.access_secret_name();
        self.with_status(|s| {
            s.user_id = Some(user_id.into());
            s.org_id = Some(org.into());
            s.access_key_secret_name = Some(name);
        })
    }

    pub fn with_password_ref(self, name: &str) -> Self {
        self.with_spec(|s| {
            s.password_secret_ref = Some(PasswordSecretRef {
                name: name.into(),
                key: "password".into(),
            })
        })
    }

    pub fn with_annotation(mut self, k: &str, v: &str) -> Self {
        self.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(k.into(), v.into());
        self
    }

    pub fn deleting(mut self) -> Self {
        self.metadata.deletion_timestamp = Some(
            k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::UNIX_EPOCH),
        );
        self.metadata.finalizers = Some(vec![FINALIZER.into()]);
        self
    }
}
