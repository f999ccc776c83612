//! User groups through the Dashboard API (docs/tyk-dashboard-api.md §4). There is no Admin API for
//! groups, so every call is signed with the connection's API key.

use std::collections::BTreeMap;
use std::fmt;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Answer, Auth, DashboardClient};
use super::error::DashboardError;
use super::users::{checked_id, decode_error};
use super::wire::{Envelope, Extra, id_field, null_default};

/// A user group as `GET /api/usergroups[/{id}]` returns it. Unknown fields are kept and sent
/// back on PUT, as for users.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Group {
    #[serde(default, deserialize_with = "id_field")]
    pub id: String,
    #[serde(default, deserialize_with = "id_field")]
    pub org_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    #[serde(default, deserialize_with = "null_default")]
    pub active: bool,
    #[serde(default, deserialize_with = "null_default")]
    pub password_max_days: i64,
    #[serde(default, deserialize_with = "null_default")]
    pub user_permissions: BTreeMap<String, String>,
    #[serde(flatten)]
    pub other: Extra,
}

impl fmt::Debug for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Group")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("name", &self.name)
            .field("active", &self.active)
            .field("user_permissions", &self.user_permissions)
            .finish()
    }
}

#[derive(Deserialize)]
struct GroupList {
    /// Required, as for user lists: an answer without `groups` must not pass for "none".
    #[serde(deserialize_with = "null_default")]
    groups: Vec<Group>,
}

impl DashboardClient {
    /// One `/api/usergroups` call signed with the connection's API key.
    async fn group_call(
        &self,
        op: &'static str,
        method: Method,
        route: &'static str,
        path: String,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, DashboardError> {
        let key = self.api_key(op)?.clone();
        let mut call = self.call(op, method, route, path, Auth::Key(key.expose()));
        call.body = body;
        call.secrets.push(key.expose());
        self.execute(call).await
    }

    /// `GET /api/usergroups?p=-1`: every group of the key's org (docs/tyk-dashboard-api.md §4;
    /// `p<0` = all, docs/tyk-dashboard-api.md §3.1).
    pub async fn list_groups(&self) -> Result<Vec<Group>, DashboardError> {
        const OP: &str = "list user groups";
        let path = "/api/usergroups?p=-1".into();
        let answer = self
            .group_call(OP, Method::GET, "/api/usergroups", path, None)
            .await?;
        let list: GroupList = serde_json::from_slice(&answer.body)
            .map_err(|e| decode_error(OP, answer.status, &e))?;
        Ok(list.groups)
    }

    /// `GET /api/usergroups/{id}`: the bare group; 404 → `NotFound`.
    pub async fn get_group(&self, id: &str) -> Result<Group, DashboardError> {
        const OP: &str = "get user group";
        let path = format!("/api/usergroups/{}", checked_id(OP, id)?);
        let answer = self
            .group_call(OP, Method::GET, "/api/usergroups/{id}", path, None)
            .await?;
        serde_json::from_slice(&answer.body).map_err(|e| decode_error(OP, answer.status, &e))
    }

    /// `POST /api/usergroups`; the answer's `Meta` is the new id (docs/tyk-dashboard-api.md §1.3).
    /// `group.id` is ignored.
    pub async fn create_group(&self, group: &Group) -> Result<String, DashboardError> {
        const OP: &str = "create user group";
        let mut body = serde_json::to_value(group)
            .map_err(|_| DashboardError::config(OP, "group does not serialise"))?;
        if let Some(map) = body.as_object_mut() {
            map.remove("id");
        }
        let body = Some(body.to_string().into_bytes());
        let path = "/api/usergroups".into();
        let answer = self
            .group_call(OP, Method::POST, "/api/usergroups", path, body)
            .await?;
        Envelope::from_slice(&answer.body)
            .and_then(|e| e.meta_id())
            .ok_or_else(|| DashboardError::Unexpected {
                op: OP,
                status: answer.status,
                detail: "the answer does not name the new group".into(),
            })
    }

    /// `PUT /api/usergroups/{id}` with the whole group: at least one permission, and
    /// `ResetPassword` cannot be changed here (docs/tyk-dashboard-api.md §4).
    pub async fn update_group(&self, group: &Group) -> Result<(), DashboardError> {
        const OP: &str = "update user group";
        let path = format!("/api/usergroups/{}", checked_id(OP, &group.id)?);
        let body = serde_json::to_vec(group)
            .map_err(|_| DashboardError::config(OP, "group does not serialise"))?;
        self.group_call(OP, Method::PUT, "/api/usergroups/{id}", path, Some(body))
            .await
            .map(drop)
    }

    /// `DELETE /api/usergroups/{id}`; a 404 is `NotFound` (callers count it as done).
    pub async fn delete_group(&self, id: &str) -> Result<(), DashboardError> {
        const OP: &str = "delete user group";
        let path = format!("/api/usergroups/{}", checked_id(OP, id)?);
        self.group_call(OP, Method::DELETE, "/api/usergroups/{id}", path, None)
            .await
            .map(drop)
    }
}
