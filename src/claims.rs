//! Who manages which remote user or group: a claim is a recorded id on one Dashboard
//! (crate::connection::dashboard_key), whichever connection object reached it. Pure, over
//! the objects a cache or a listing holds, so the reconcile and `plan`/`drift` agree.

use kube::ResourceExt;

use crate::crd::{DashboardUser, DashboardUserGroup};

/// One object's claim, as the checks below compare it.
#[derive(Clone, Debug)]
pub struct Claim<'a> {
    namespace: Option<String>,
    name: String,
    created: Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    uid: Option<&'a str>,
    /// The recorded remote id.
    id: Option<&'a str>,
    /// Where the id lives; `None` for objects last written before claims were per Dashboard.
    dashboard: Option<&'a str>,
    /// The connection label, compared for objects without `dashboard`.
    connection: String,
}

impl<'a> Claim<'a> {
    pub fn of_user(u: &'a DashboardUser) -> Self {
        let st = u.status.as_ref();
        Self {
            namespace: u.namespace(),
            name: u.name_any(),
            created: u.metadata.creation_timestamp.as_ref(),
            uid: u.metadata.uid.as_deref(),
            id: st.and_then(|s| s.user_id.as_deref()),
            dashboard: st.and_then(|s| s.dashboard.as_deref()),
            connection: u.connection_label(),
        }
    }

    pub fn of_group(g: &'a DashboardUserGroup) -> Self {
        let st = g.status.as_ref();
        Self {
            namespace: g.namespace(),
            name: g.name_any(),
            created: g.metadata.creation_timestamp.as_ref(),
            uid: g.metadata.uid.as_deref(),
            id: g.group_id(),
            dashboard: st.and_then(|s| s.dashboard.as_deref()),
            connection: g.connection_label(),
        }
    }

    fn same_object(&self, other: &Claim<'_>) -> bool {
        self.namespace == other.namespace && self.name == other.name
    }

    /// Does this claim hold `id` on `dashboard` (reached by `me` through `connection`)?
    fn holds(&self, id: &str, dashboard: &str, connection: &str) -> bool {
        self.id == Some(id)
            && match self.dashboard {
                Some(d) => d == dashboard,
                None => self.connection == connection,
            }
    }

    /// Creation order, then uid: the first claimant keeps a contested id.
    fn earlier_than(&self, other: &Claim<'_>) -> bool {
        let key = |c: &Claim<'_>| (c.created.map(|t| t.0), c.uid.map(str::to_string));
        match (self.created, other.created) {
            (Some(_), Some(_)) => key(self) < key(other),
            // An object without a creation time (a file, not yet applied) is the newest.
            (Some(_), None) => true,
            _ => false,
        }
    }
}

/// Does any other object hold `id` on `dashboard`? (Adoption: any holder refuses it.)
pub fn held_by_other<'a, 'b>(
    all: impl IntoIterator<Item = Claim<'b>>,
    me: &Claim<'a>,
    id: &str,
    dashboard: &str,
) -> bool {
    all.into_iter()
        .any(|c| !c.same_object(me) && c.holds(id, dashboard, &me.connection))
}

/// Does an earlier object hold the id `me` records? Then `me` may neither update nor delete
/// it: two objects that came to record one id (an old version's adoption, a forged status)
/// leave it to the first.
pub fn held_before<'a, 'b>(
    all: impl IntoIterator<Item = Claim<'b>>,
    me: &Claim<'a>,
    dashboard: &str,
) -> bool {
    let Some(id) = me.id else {
        return false;
    };
    all.into_iter()
        .any(|c| !c.same_object(me) && c.holds(id, dashboard, &me.connection) && c.earlier_than(me))
}

/// Ids other objects hold on `dashboard`.
pub fn ids_held_by_others<'a, 'b>(
    all: impl IntoIterator<Item = Claim<'b>>,
    me: &Claim<'a>,
    dashboard: &str,
) -> std::collections::BTreeSet<String> {
    all.into_iter()
        .filter(|c| !c.same_object(me))
        .filter_map(|c| {
            let id = c.id?;
            c.holds(id, dashboard, &me.connection)
                .then(|| id.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests;
