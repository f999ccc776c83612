//! Finding users by email (docs/design.md §3.2 adoption, docs/tyk-dashboard-api.md §3.1, §3.9,
//! §12.1).

use reqwest::Method;
use serde_json::json;

use super::client::{Auth, DashboardClient};
use super::error::DashboardError;
use super::users::decode_error;
use super::wire::{User, decode_user_list, normalize_id};

impl DashboardClient {
    /// `GET /api/users?p=-1`: every user the API key can see (docs/tyk-dashboard-api.md §3.1).
    pub async fn list_users(&self) -> Result<Vec<User>, DashboardError> {
        let key = self.api_key("list users")?.clone();
        self.list_with_key(key.expose()).await
    }

    /// Finds a user by exact email, ignoring case (docs/tyk-dashboard-api.md §12.1), optionally
    /// within one org. Tries `POST /api/users/search` (5.3.1+) and falls back to the full list on
    /// Dashboards without it. `Ambiguous` when several orgs hold the email and no org was given.
    pub async fn find_user_by_email(
        &self,
        email: &str,
        org_id: Option<&str>,
    ) -> Result<Option<User>, DashboardError> {
        let key = self.api_key("find user")?.clone();
        self.find_with_key(email, org_id, key.expose()).await
    }

    pub(super) async fn find_with_key(
        &self,
        email: &str,
        org_id: Option<&str>,
        key: &str,
    ) -> Result<Option<User>, DashboardError> {
        const OP: &str = "search users";
        let mut call = self.call(
            OP,
            Method::POST,
            "/api/users/search",
            "/api/users/search?p=-1".into(),
            Auth::Key(key),
        );
        call.body = Some(
            json!({ "filters": { "query": email.trim() } })
                .to_string()
                .into_bytes(),
        );
        call.secrets.push(key);
        let users = match self.execute(call).await {
            Ok(answer) => match decode_user_list(&answer.body) {
                Ok(list) => list.users,
                Err(_) => self.list_with_key(key).await?,
            },
            // Older Dashboards lack the route (404/405) or read the body differently (400).
            Err(
                DashboardError::NotFound { .. }
                | DashboardError::Invalid { .. }
                | DashboardError::Unexpected { .. },
            ) => self.list_with_key(key).await?,
            Err(e) => return Err(e),
        };
        let org = org_id.map(normalize_id);
        let mut matches: Vec<User> = users
            .into_iter()
            .filter(|u| u.email_matches(email))
            .filter(|u| org.as_deref().is_none_or(|o| u.org_id == o))
            .collect();
        match matches.len() {
            0 => Ok(None),
            1 => Ok(matches.pop()),
            count => Err(DashboardError::Ambiguous {
                op: "find user",
                count,
            }),
        }
    }

    async fn list_with_key(&self, key: &str) -> Result<Vec<User>, DashboardError> {
        const OP: &str = "list users";
        let mut call = self.call(
            OP,
            Method::GET,
            "/api/users",
            "/api/users?p=-1".into(),
            Auth::Key(key),
        );
        call.secrets.push(key);
        let answer = self.execute(call).await?;
        let list =
            decode_user_list(&answer.body).map_err(|e| decode_error(OP, answer.status, &e))?;
        Ok(list.users)
    }
}
