//! What an API-key-only connection (a Tyk connection without `adminSecretRef`) cannot do,
//! as InvalidSpec messages: everything it does goes through the Dashboard API with an org
//! admin's key (docs/tyk-dashboard-api.md §3), so it creates users in that key's org only, never
//! super users, never grants `ResetPassword`, and `POST /api/users` needs names and at
//! least one permission (docs/tyk-dashboard-api.md §3.2).

use super::DesiredUser;
use crate::crd::DashboardUserSpec;

const WHY: &str = "the connection has no adminSecretRef, so it manages users through the Dashboard API with its key";

pub fn limits(spec: &DashboardUserSpec, d: &DesiredUser, key_org: &str) -> Result<(), String> {
    if spec.super_user {
        return Err(format!(
            "superUser needs the Admin API: {WHY}, in the key's org {key_org} only"
        ));
    }
    let org = d.tyk().map(|t| t.org_id.as_str()).unwrap_or_default();
    if org != key_org {
        return Err(format!(
            "orgId {org} is not the org of the connection's api key ({key_org}): {WHY}, in that org only"
        ));
    }
    if spec.permissions.contains_key("ResetPassword") {
        return Err(format!(
            "permission ResetPassword can only be granted through the Admin API: {WHY}"
        ));
    }
    if spec.permissions.is_empty() {
        return Err(format!(
            "permissions must name at least one section (or IsAdmin): {WHY}, and POST /api/users refuses a user without permissions"
        ));
    }
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    if blank(&spec.first_name) || blank(&spec.last_name) {
        return Err(format!(
            "firstName and lastName are required: {WHY}, and POST /api/users refuses a user without them"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::crd::{ConnectionType, DashboardUserSpec};
    use crate::reconcile::plan::desired_user;

    fn spec() -> DashboardUserSpec {
        let mut s = DashboardUserSpec::for_email("a@example.com");
        s.first_name = Some("A".into());
        s.last_name = Some("B".into());
        s.permissions = BTreeMap::from([("apis".into(), "read".into())]);
        s
    }

    fn check(s: &DashboardUserSpec) -> Result<(), String> {
        let d = desired_user(s, ConnectionType::TykDashboard, Some("org-k")).unwrap();
        limits(s, &d, "org-k")
    }

    #[test]
    fn each_limit_is_named() {
        assert_eq!(check(&spec()), Ok(()));
        for (edit, needle) in [
            (
                Box::new(|s: &mut DashboardUserSpec| s.org_id = Some("org-x".into()))
                    as Box<dyn Fn(&mut DashboardUserSpec)>,
                "orgId org-x",
            ),
            (Box::new(|s| s.super_user = true), "superUser"),
            (
                Box::new(|s| {
                    s.permissions.insert("ResetPassword".into(), "admin".into());
                }),
                "ResetPassword",
            ),
            (Box::new(|s| s.permissions.clear()), "at least one"),
            (Box::new(|s| s.last_name = None), "lastName"),
        ] {
            let mut s = spec();
            edit(&mut s);
            let msg = match desired_user(&s, ConnectionType::TykDashboard, Some("org-k")) {
                Ok(d) => limits(&s, &d, "org-k").unwrap_err(),
                Err(e) => e,
            };
            assert!(msg.contains(needle), "{needle}: {msg}");
        }
    }
}
