//! Kubernetes-side helpers: CRDs, namespaces, our custom resources as JSON, Secrets, Events,
//! and reading conditions. Everything goes through `kube::Client`, so it works unchanged on a
//! real cluster.

use std::collections::BTreeMap;

use anyhow::Context;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

use super::wait;

pub const GROUP: &str = "userop.dev";
pub const VERSION: &str = "v1alpha1";
pub const API_VERSION: &str = "userop.dev/v1alpha1";
/// The field manager the tests write spec with; the operator uses its own.
pub const MANAGER: &str = "e2e-test";

pub fn user_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(GROUP, VERSION, "DashboardUser"),
        "dashboardusers",
    )
}
pub fn group_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(GROUP, VERSION, "DashboardUserGroup"),
        "dashboardusergroups",
    )
}
pub fn connection_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(GROUP, VERSION, "DashboardConnection"),
        "dashboardconnections",
    )
}
pub fn cluster_connection_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(GROUP, VERSION, "ClusterDashboardConnection"),
        "clusterdashboardconnections",
    )
}

/// The CRDs as the operator's owner generated them (`crds/*.yaml`).
pub fn crd_documents() -> anyhow::Result<Vec<Value>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)?;
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: Value = serde::Deserialize::deserialize(doc)
                .with_context(|| format!("parsing {}", f.display()))?;
            if v.is_object() && v["kind"] == "CustomResourceDefinition" {
                docs.push(v);
            }
        }
    }
    anyhow::ensure!(!docs.is_empty(), "no CRDs found in {}", dir.display());
    Ok(docs)
}

/// Applies every CRD and waits until each is Established (discovery then serves it).
pub async fn install_crds(client: &kube::Client) -> anyhow::Result<()> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let docs = crd_documents()?;
    let crds = api_for(
        client,
        &ApiResource::erase::<CustomResourceDefinition>(&()),
        None,
    );
    for doc in &docs {
        upsert(&crds, doc).await?;
    }
    for doc in &docs {
        let name = doc["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let api = api.clone();
        wait::until(&format!("CRD {name} Established"), || {
            let api = api.clone();
            let name = name.clone();
            async move {
                let crd = api.get(&name).await.map_err(|e| e.to_string())?;
                let ok = crd
                    .status
                    .and_then(|s| s.conditions)
                    .unwrap_or_default()
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True");
                if ok {
                    Ok(())
                } else {
                    Err("not Established".into())
                }
            }
        })
        .await?;
    }
    Ok(())
}

pub async fn create_namespace(
    client: &kube::Client,
    name: &str,
    labels: &[(&str, &str)],
) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let labels: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let ns: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": labels}
    }))?;
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.reason == "AlreadyExists" => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating namespace {name}")),
    }
}

/// Creates or replaces any of our objects, given as full JSON (apiVersion, kind, metadata).
pub async fn apply(client: &kube::Client, obj: &Value) -> anyhow::Result<Value> {
    let ar = resource_of(obj)?;
    let api = api_for(client, &ar, obj["metadata"]["namespace"].as_str());
    upsert(&api, obj).await
}

fn api_for(client: &kube::Client, ar: &ApiResource, ns: Option<&str>) -> Api<DynamicObject> {
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
        None => Api::all_with(client.clone(), ar),
    }
}

/// Create, or replace everything but `metadata` and `status` (labels and annotations are
/// merged in), retrying on conflicts. Plain create/update rather than server-side apply so
/// the harness leans on as little of the API server as possible; the operator's own writes
/// are what the tests exercise.
pub async fn upsert(api: &Api<DynamicObject>, desired: &Value) -> anyhow::Result<Value> {
    let name = desired["metadata"]["name"]
        .as_str()
        .context("metadata.name")?;
    let kind = desired["kind"].as_str().unwrap_or("object");
    let pp = PostParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    let mut last = None;
    for _ in 0..10 {
        let res = match api.get_opt(name).await? {
            None => {
                api.create(&pp, &serde_json::from_value(desired.clone())?)
                    .await
            }
            Some(cur) => {
                let mut next = serde_json::to_value(cur)?;
                for (k, v) in desired.as_object().context("object")? {
                    match k.as_str() {
                        "metadata" => {
                            for field in ["labels", "annotations"] {
                                if let Some(m) = v[field].as_object() {
                                    for (mk, mv) in m {
                                        next["metadata"][field][mk] = mv.clone();
                                    }
                                }
                            }
                        }
                        "status" => {}
                        _ => next[k] = v.clone(),
                    }
                }
                api.replace(name, &pp, &serde_json::from_value(next)?).await
            }
        };
        match res {
            Ok(o) => return Ok(serde_json::to_value(o)?),
            Err(kube::Error::Api(e)) if e.reason == "Conflict" || e.reason == "AlreadyExists" => {
                last = Some(e);
            }
            Err(e) => return Err(e).with_context(|| format!("writing {kind} {name}")),
        }
    }
    anyhow::bail!("writing {kind} {name}: kept conflicting: {last:?}")
}

fn resource_of(obj: &Value) -> anyhow::Result<ApiResource> {
    Ok(match obj["kind"].as_str() {
        Some("DashboardUser") => user_resource(),
        Some("DashboardUserGroup") => group_resource(),
        Some("DashboardConnection") => connection_resource(),
        Some("ClusterDashboardConnection") => cluster_connection_resource(),
        other => anyhow::bail!("apply: unsupported kind {other:?}"),
    })
}

pub fn api(client: &kube::Client, ar: &ApiResource, ns: Option<&str>) -> Api<DynamicObject> {
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
        None => Api::all_with(client.clone(), ar),
    }
}

pub async fn get(
    client: &kube::Client,
    ar: &ApiResource,
    ns: Option<&str>,
    name: &str,
) -> anyhow::Result<Option<Value>> {
    let obj = api(client, ar, ns).get_opt(name).await?;
    Ok(obj.map(serde_json::to_value).transpose()?)
}

pub async fn merge_patch(
    client: &kube::Client,
    ar: &ApiResource,
    ns: Option<&str>,
    name: &str,
    patch: &Value,
) -> anyhow::Result<()> {
    api(client, ar, ns)
        .patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await?;
    Ok(())
}

pub async fn delete(
    client: &kube::Client,
    ar: &ApiResource,
    ns: Option<&str>,
    name: &str,
) -> anyhow::Result<()> {
    match api(client, ar, ns)
        .delete(name, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.reason == "NotFound" => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn list(
    client: &kube::Client,
    ar: &ApiResource,
    ns: Option<&str>,
) -> anyhow::Result<Vec<Value>> {
    let l = api(client, ar, ns).list(&ListParams::default()).await?;
    l.items
        .into_iter()
        .map(|o| serde_json::to_value(o).map_err(Into::into))
        .collect()
}

// ---- conditions ----

/// `(status, reason, message)` of the condition `type_` in `obj.status.conditions`.
pub fn condition(obj: &Value, type_: &str) -> Option<(String, String, String)> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find_map(|c| {
            (c["type"] == type_).then(|| {
                (
                    c["status"].as_str().unwrap_or_default().to_string(),
                    c["reason"].as_str().unwrap_or_default().to_string(),
                    c["message"].as_str().unwrap_or_default().to_string(),
                )
            })
        })
}

pub fn condition_field(obj: &Value, type_: &str, field: &str) -> Option<String> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .and_then(|c| c[field].as_str().map(str::to_string))
}

/// One line describing an object's conditions, for wait notes.
pub fn conditions_summary(obj: &Value) -> String {
    let conds = obj["status"]["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    format!(
                        "{}={}/{}: {}",
                        c["type"].as_str().unwrap_or("?"),
                        c["status"].as_str().unwrap_or("?"),
                        c["reason"].as_str().unwrap_or(""),
                        c["message"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_else(|| "no conditions".into());
    format!(
        "gen={} observedGeneration={} userId={} [{conds}]",
        obj["metadata"]["generation"], obj["status"]["observedGeneration"], obj["status"]["userId"]
    )
}

// ---- Secrets ----

pub async fn put_secret(
    client: &kube::Client,
    ns: &str,
    name: &str,
    data: &[(&str, &str)],
) -> anyhow::Result<()> {
    let data: BTreeMap<String, ByteString> = data
        .iter()
        .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
        .collect();
    let s = json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": name, "namespace": ns},
                   "type": "Opaque", "data": data});
    let api = api_for(client, &ApiResource::erase::<Secret>(&()), Some(ns));
    upsert(&api, &s)
        .await
        .with_context(|| format!("writing Secret {ns}/{name}"))?;
    Ok(())
}

pub async fn get_secret(
    client: &kube::Client,
    ns: &str,
    name: &str,
) -> anyhow::Result<Option<Secret>> {
    Ok(Api::<Secret>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await?)
}

pub fn secret_str(s: &Secret, key: &str) -> Option<String> {
    s.data
        .as_ref()?
        .get(key)
        .map(|b| String::from_utf8_lossy(&b.0).into_owned())
}

pub async fn delete_secret(client: &kube::Client, ns: &str, name: &str) -> anyhow::Result<()> {
    match Api::<Secret>::namespaced(client.clone(), ns)
        .delete(name, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.reason == "NotFound" => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Overwrites one data key with a merge patch from a field manager other than the operator's.
pub async fn patch_secret_key(
    client: &kube::Client,
    ns: &str,
    name: &str,
    key: &str,
    value: &str,
) -> anyhow::Result<()> {
    let b64 = serde_json::to_value(ByteString(value.as_bytes().to_vec()))?;
    Api::<Secret>::namespaced(client.clone(), ns)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {key: b64}})),
        )
        .await?;
    Ok(())
}

// ---- Events (both APIs; the secret scan reads them all) ----

pub async fn all_events(client: &kube::Client) -> anyhow::Result<Vec<Value>> {
    use k8s_openapi::api::core::v1::Event as CoreEvent;
    use k8s_openapi::api::events::v1::Event as NewEvent;
    let mut out = Vec::new();
    for e in Api::<CoreEvent>::all(client.clone())
        .list(&ListParams::default())
        .await?
    {
        out.push(serde_json::to_value(e)?);
    }
    for e in Api::<NewEvent>::all(client.clone())
        .list(&ListParams::default())
        .await?
    {
        out.push(serde_json::to_value(e)?);
    }
    Ok(out)
}

/// Events whose reason is `reason` about the object named `name` (either API's field names).
pub fn events_about<'a>(events: &'a [Value], name: &str, reason: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| {
            let obj = if e["regarding"].is_object() {
                &e["regarding"]
            } else {
                &e["involvedObject"]
            };
            obj["name"] == name && e["reason"] == reason
        })
        .collect()
}
