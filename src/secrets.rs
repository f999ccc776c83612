//! Kubernetes Secrets the operator reads and writes: password Secrets, the access
//! Secret it owns, and the fingerprint key in its own namespace.

use std::collections::BTreeMap;

use k8s_openapi::{
    ByteString, api::core::v1::Secret, apimachinery::pkg::apis::meta::v1::OwnerReference,
};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{DeleteParams, ObjectMeta, Patch, PatchParams, PostParams},
};
use rand::RngCore;

use crate::crd::{DashboardUser, FIELD_MANAGER, reason};
use crate::reconcile::fingerprint::FingerprintKey;
use crate::reconcile::plan::{AccessSecretView, Blocker, Redacted};

/// Name of the Secret (operator namespace) holding the password-fingerprint key.
pub const FINGERPRINT_SECRET: &str = "dashboard-user-operator-fingerprint-key";
const FINGERPRINT_KEY: &str = "key";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("reading secret {namespace}/{name}")]
    Read {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("secret {namespace}/{name} cannot be used: {why}")]
    Unusable {
        namespace: String,
        name: String,
        why: &'static str,
    },
    #[error("writing secret {namespace}/{name}")]
    Write {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// Reads one key of a Secret. `Ok(Err(blocker))` = the Secret or key is missing.
pub async fn read_key(
    client: &Client,
    namespace: &str,
    name: &str,
    key: &str,
    missing_reason: &'static str,
    key_missing_reason: &'static str,
) -> Result<Result<Vec<u8>, Blocker>, SecretError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = api
        .get_opt(name)
        .await
        .map_err(|source| SecretError::Read {
            namespace: namespace.into(),
            name: name.into(),
            source,
        })?;
    let Some(secret) = secret else {
        return Ok(Err(Blocker::stalled(
            missing_reason,
            format!("secret {namespace}/{name} not found"),
        )));
    };
    Ok(secret_value(&secret, key).ok_or_else(|| {
        Blocker::stalled(
            key_missing_reason,
            format!("secret {namespace}/{name} has no key {key:?}"),
        )
    }))
}

/// A key's value from `data` (or `stringData`, which only a few fake servers keep).
pub fn secret_value(secret: &Secret, key: &str) -> Option<Vec<u8>> {
    if let Some(v) = secret.data.as_ref().and_then(|d| d.get(key)) {
        return Some(v.0.clone());
    }
    secret
        .string_data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|s| s.as_bytes().to_vec())
}

/// The password of a user, or the blocker describing why there is none.
pub async fn read_password(
    client: &Client,
    user: &DashboardUser,
) -> Result<Option<Result<Vec<u8>, Blocker>>, SecretError> {
    let Some(r) = &user.spec.password_secret_ref else {
        return Ok(None);
    };
    let ns = user.namespace().unwrap_or_default();
    read_key(
        client,
        &ns,
        &r.name,
        &r.key,
        reason::PASSWORD_SECRET_NOT_FOUND,
        reason::PASSWORD_SECRET_KEY_MISSING,
    )
    .await
    .map(Some)
}

/// The access Secret as the plan sees it.
pub async fn observe_access_secret(
    client: &Client,
    user: &DashboardUser,
) -> Result<Option<AccessSecretView>, SecretError> {
    let ns = user.namespace().unwrap_or_default();
    let name = user.access_secret_name();
    let api: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let secret = api
        .get_opt(&name)
        .await
        .map_err(|source| SecretError::Read {
            namespace: ns.clone(),
            name: name.clone(),
            source,
        })?;
    Ok(secret.map(|s| {
        let uid = user.uid();
        let owned = s
            .owner_references()
            .iter()
            .any(|o| o.controller == Some(true) && Some(&o.uid) == uid.as_ref());
        let mut data: BTreeMap<String, Redacted> = BTreeMap::new();
        for (k, v) in s.data.clone().unwrap_or_default() {
            data.insert(k, Redacted(String::from_utf8_lossy(&v.0).into_owned()));
        }
        AccessSecretView {
            data,
            labels: s.labels().clone(),
            annotations: s.annotations().clone(),
            owned,
            resource_version: s.resource_version().unwrap_or_default(),
        }
    }))
}

/// Server-side applies the access Secret, owned by `user` (so it is garbage collected
/// with it and its changes trigger a reconcile). `read_version`: the version of the owned
/// Secret the plan saw, so a Secret replaced since is refused (409) rather than written
/// into; `None` when there was none.
pub async fn apply_access_secret(
    client: &Client,
    user: &DashboardUser,
    data: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    read_version: Option<&str>,
) -> Result<(), SecretError> {
    let ns = user.namespace().unwrap_or_default();
    let name = user.access_secret_name();
    let annotations = user
        .spec
        .access_key_secret
        .as_ref()
        .map(|s| s.annotations.clone())
        .filter(|a| !a.is_empty());
    let owner: Option<OwnerReference> = user.controller_owner_ref(&());
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(ns.clone()),
            labels: Some(labels),
            annotations,
            owner_references: owner.map(|o| vec![o]),
            ..Default::default()
        },
        type_: Some("Opaque".into()),
        // `data`, not `stringData`: SSA ownership is recorded for what is applied
        // (docs/kubernetes-api.md §4.1 item 9).
        data: Some(
            data.into_iter()
                .map(|(k, v)| (k, ByteString(v.into_bytes())))
                .collect(),
        ),
        ..Default::default()
    };
    let mut value = serde_json::to_value(&secret).expect("a Secret serialises");
    if let Some(rv) = read_version.filter(|v| !v.is_empty()) {
        value["metadata"]["resourceVersion"] = rv.into();
    }
    value["apiVersion"] = "v1".into();
    value["kind"] = "Secret".into();
    let api: Api<Secret> = Api::namespaced(client.clone(), &ns);
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&value),
    )
    .await
    .map_err(|source| SecretError::Write {
        namespace: ns,
        name,
        source,
    })?;
    Ok(())
}

/// Deletes an access Secret this user owns (controller ownerReference, as the plan's
/// "owned"), under its current or an old name. Any other Secret stays.
pub async fn delete_owned_secret(
    client: &Client,
    user: &DashboardUser,
    name: &str,
) -> Result<(), SecretError> {
    let ns = user.namespace().unwrap_or_default();
    let api: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let err = |source| SecretError::Write {
        namespace: ns.clone(),
        name: name.into(),
        source,
    };
    let Some(s) = api.get_opt(name).await.map_err(err)? else {
        return Ok(());
    };
    let uid = user.uid();
    if !s
        .owner_references()
        .iter()
        .any(|o| o.controller == Some(true) && Some(&o.uid) == uid.as_ref())
    {
        return Ok(());
    }
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(err(e)),
    }
}

/// Loads the fingerprint key from the operator namespace, creating it on first run.
pub async fn load_or_create_fingerprint_key(
    client: &Client,
    namespace: &str,
) -> Result<FingerprintKey, SecretError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let read_err = |source| SecretError::Read {
        namespace: namespace.into(),
        name: FINGERPRINT_SECRET.into(),
        source,
    };
    for _ in 0..3 {
        if let Some(s) = api.get_opt(FINGERPRINT_SECRET).await.map_err(read_err)? {
            // Only ever created, never written into: a Secret of this name without a
            // usable key (someone else's) is reported and left as it is.
            return match secret_value(&s, FINGERPRINT_KEY).filter(|k| k.len() >= 16) {
                Some(k) => Ok(FingerprintKey::new(k)),
                None => Err(SecretError::Unusable {
                    namespace: namespace.into(),
                    name: FINGERPRINT_SECRET.into(),
                    why: "it has no key \"key\" of at least 16 bytes; the operator never writes into a Secret it did not create: delete it to let the operator make its own",
                }),
            };
        }
        let mut bytes = vec![0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(FINGERPRINT_SECRET.into()),
                namespace: Some(namespace.into()),
                labels: Some(BTreeMap::from([(
                    crate::crd::MANAGED_BY_LABEL.into(),
                    crate::crd::MANAGED_BY_VALUE.into(),
                )])),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(
                FINGERPRINT_KEY.into(),
                ByteString(bytes.clone()),
            )])),
            ..Default::default()
        };
        match api.create(&PostParams::default(), &secret).await {
            Ok(_) => return Ok(FingerprintKey::new(bytes)),
            // Another replica won the race: read theirs on the next round.
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(source) => {
                return Err(SecretError::Write {
                    namespace: namespace.into(),
                    name: FINGERPRINT_SECRET.into(),
                    source,
                });
            }
        }
    }
    Err(read_err(kube::Error::Api(
        kube::core::Status::failure("fingerprint key secret keeps changing", "Conflict")
            .with_code(409)
            .boxed(),
    )))
}

/// The fingerprint key, if the operator has made one (read-only: `plan` must not create it).
pub async fn load_fingerprint_key(
    client: &Client,
    namespace: &str,
) -> Result<Option<FingerprintKey>, SecretError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let s = api
        .get_opt(FINGERPRINT_SECRET)
        .await
        .map_err(|source| SecretError::Read {
            namespace: namespace.into(),
            name: FINGERPRINT_SECRET.into(),
            source,
        })?;
    Ok(s.and_then(|s| secret_value(&s, FINGERPRINT_KEY))
        .filter(|k| k.len() >= 16)
        .map(FingerprintKey::new))
}
