//! The seam between the reconciler and the remote user system.
//!
//! One [`Backend`] per connection, chosen by its `spec.type`: the Tyk Dashboard client or
//! the admin users API client. The reconciler talks to users through these operations —
//! create, get, find by login name, update, set password, deactivate, delete, probe — and
//! through [`RemoteObject`], the remote user as the backend returned it. What only one
//! backend has (Tyk's self-reset of the first password and its access-key rotation) is
//! reached through [`Backend::tyk`]. Both clients share [`DashboardError`], whose variants
//! (AlreadyExists, NotFound, Unauthorized, PasswordRejected, Transient, …) are the
//! categories the reconciler decides on, whatever the wire.

mod admin_users;
mod tyk;

use crate::admin_users::{AdminUser, AdminUsersClient};
use crate::crd::ConnectionType;
use crate::dashboard::{DashboardClient, DashboardError, Password, User};
use crate::reconcile::plan::{DesiredUser, RemoteUser};

/// The client of one connection's remote user system. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Backend {
    Tyk(DashboardClient),
    AdminUsers(AdminUsersClient),
}

/// A remote user as its backend returned it: the whole object, because Tyk's update is a
/// whole-object replace (docs/tyk-dashboard-api.md §2.3).
#[derive(Clone, Debug)]
pub enum RemoteObject {
    Tyk(User),
    AdminUsers(AdminUser),
}

impl Backend {
    pub fn kind(&self) -> ConnectionType {
        match self {
            Self::Tyk(_) => ConnectionType::TykDashboard,
            Self::AdminUsers(_) => ConnectionType::AdminUsersApi,
        }
    }

    /// The base URL the client talks to.
    pub fn base_url(&self) -> &str {
        match self {
            Self::Tyk(c) => c.base_url(),
            Self::AdminUsers(c) => c.base_url(),
        }
    }

    /// Is this a Tyk connection without the admin secret (the Dashboard API alone)?
    pub fn api_key_only(&self) -> bool {
        match self {
            Self::Tyk(c) => !c.has_admin_secret(),
            Self::AdminUsers(_) => false,
        }
    }

    /// Can users be found by login name and deleted? Tyk needs the connection's API key;
    /// the admin users API's token does both.
    pub fn finds_and_deletes(&self) -> bool {
        match self {
            Self::Tyk(c) => c.has_api_key(),
            Self::AdminUsers(_) => true,
        }
    }

    /// Is `id` the user whose credential this connection signs with? Such a user is never
    /// adopted (docs/multi-tenancy.md). Only Tyk API keys have an owner to ask about
    /// (cached per client); the admin users API's token names no user.
    pub async fn owns_credential(&self, id: &str) -> Result<bool, DashboardError> {
        match self {
            Self::Tyk(c) if c.has_api_key() => Ok(c.key_owner().await?.id == id),
            _ => Ok(false),
        }
    }

    /// The Tyk client, for the steps only Tyk has (self-reset, key rotation).
    pub fn tyk(&self) -> Option<&DashboardClient> {
        match self {
            Self::Tyk(c) => Some(c),
            Self::AdminUsers(_) => None,
        }
    }

    /// Checks reachability and credentials cheaply.
    pub async fn probe(&self) -> Result<(), DashboardError> {
        match self {
            Self::Tyk(c) => c.probe().await,
            Self::AdminUsers(c) => c.probe().await,
        }
    }

    /// Creates the user. `password` is sent only where the backend takes it at create.
    pub async fn create(
        &self,
        d: &DesiredUser,
        password: Option<&Password>,
    ) -> Result<RemoteObject, DashboardError> {
        match self {
            Self::Tyk(c) => tyk::create(c, d, password).await.map(RemoteObject::Tyk),
            Self::AdminUsers(c) => admin_users::create(c, d, password)
                .await
                .map(RemoteObject::AdminUsers),
        }
    }

    /// Reads the user by its remote id.
    pub async fn get(&self, id: &str) -> Result<RemoteObject, DashboardError> {
        match self {
            Self::Tyk(c) => c.get_user(id).await.map(RemoteObject::Tyk),
            Self::AdminUsers(c) => c.get_user(id).await.map(RemoteObject::AdminUsers),
        }
    }

    /// Finds the user by login name (Tyk: the email, within the desired org).
    pub async fn find_by_login(
        &self,
        d: &DesiredUser,
    ) -> Result<Option<RemoteObject>, DashboardError> {
        match self {
            Self::Tyk(c) => {
                let org = Some(d.org_id()).filter(|o| !o.is_empty());
                Ok(c.find_user_by_email(&d.login, org)
                    .await?
                    .map(RemoteObject::Tyk))
            }
            Self::AdminUsers(c) => Ok(c.find_user(&d.login).await?.map(RemoteObject::AdminUsers)),
        }
    }

    /// Brings the user's managed fields in line with `d` (when given) and/or sets
    /// `password`; returns the object as now stored.
    pub async fn update(
        &self,
        current: &RemoteObject,
        d: Option<&DesiredUser>,
        password: Option<&Password>,
    ) -> Result<RemoteObject, DashboardError> {
        match (self, current) {
            (Self::Tyk(c), RemoteObject::Tyk(u)) => {
                tyk::update(c, u, d, password).await.map(RemoteObject::Tyk)
            }
            (Self::AdminUsers(c), RemoteObject::AdminUsers(u)) => {
                admin_users::update(c, u, d, password)
                    .await
                    .map(RemoteObject::AdminUsers)
            }
            _ => Err(mismatch("update user")),
        }
    }

    /// Sets `active: false`; `Ok(false)` when it already was.
    pub async fn deactivate(&self, current: &RemoteObject) -> Result<bool, DashboardError> {
        match (self, current) {
            (Self::Tyk(c), RemoteObject::Tyk(u)) => tyk::deactivate(c, u).await,
            (Self::AdminUsers(c), RemoteObject::AdminUsers(u)) => {
                admin_users::deactivate(c, u).await
            }
            _ => Err(mismatch("deactivate user")),
        }
    }

    /// Deletes the user; `NotFound` means it is already gone.
    pub async fn delete(&self, id: &str) -> Result<(), DashboardError> {
        match self {
            Self::Tyk(c) => c.delete_user(id).await,
            Self::AdminUsers(c) => c.delete_user(id).await,
        }
    }
}

impl RemoteObject {
    pub fn id(&self) -> &str {
        match self {
            Self::Tyk(u) => &u.id,
            Self::AdminUsers(u) => &u.id,
        }
    }

    /// The fields the plan compares.
    pub fn view(&self) -> RemoteUser {
        match self {
            Self::Tyk(u) => tyk::view(u),
            Self::AdminUsers(u) => admin_users::view(u),
        }
    }

    /// The credential to publish (`""` when hidden or the backend has none).
    pub fn access_key(&self) -> &str {
        match self {
            Self::Tyk(u) => u.access_key.expose(),
            Self::AdminUsers(_) => "",
        }
    }

    /// The Tyk user, for the Tyk-only steps.
    pub fn tyk(&self) -> Option<&User> {
        match self {
            Self::Tyk(u) => Some(u),
            Self::AdminUsers(_) => None,
        }
    }

    pub fn tyk_mut(&mut self) -> Option<&mut User> {
        match self {
            Self::Tyk(u) => Some(u),
            Self::AdminUsers(_) => None,
        }
    }
}

/// An object of one backend handed to another: a bug, reported rather than panicking.
fn mismatch(op: &'static str) -> DashboardError {
    DashboardError::Config {
        op,
        reason: "remote object of another backend".into(),
    }
}
