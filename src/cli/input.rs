//! Reading `DashboardUser` manifests for `plan`: files, directories (recursively) and stdin,
//! multi-document YAML or JSON (a `v1` List too). Errors name the file and the document.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::crd::DashboardUser;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("reading {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: document {doc}: {message}")]
    Document {
        path: String,
        doc: usize,
        message: String,
    },
    #[error("{0}: no DashboardUser manifests found")]
    Empty(String),
}

/// One manifest and where it came from (`file`, 1-based document number).
#[derive(Clone, Debug)]
pub struct Manifest {
    pub source: String,
    pub user: DashboardUser,
}

/// Reads every path in order; `-` is stdin. Files of a directory are read sorted by path.
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<Manifest>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| InputError::Read {
                    path: "<stdin>".into(),
                    source,
                })?;
            out.extend(parse("<stdin>", &text)?);
        } else {
            for file in files(p)? {
                let path = file.display().to_string();
                let text = std::fs::read_to_string(&file).map_err(|source| InputError::Read {
                    path: path.clone(),
                    source,
                })?;
                out.extend(parse(&path, &text)?);
            }
        }
    }
    if out.is_empty() {
        let all: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(InputError::Empty(all.join(", ")));
    }
    Ok(out)
}

/// A file as given, or a directory's `*.yaml`/`*.yml`/`*.json` files, recursively, sorted.
/// `kustomization.yaml` is not a manifest and is skipped.
fn files(p: &Path) -> Result<Vec<PathBuf>, InputError> {
    let err = |source| InputError::Read {
        path: p.display().to_string(),
        source,
    };
    if !std::fs::metadata(p).map_err(err)?.is_dir() {
        return Ok(vec![p.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(err)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            out.extend(files(&e)?);
            continue;
        }
        let name = e.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let ext_ok = [".yaml", ".yml", ".json"].iter().any(|x| name.ends_with(x));
        let kustomize = matches!(
            name,
            "kustomization.yaml" | "kustomization.yml" | "Kustomization"
        );
        if ext_ok && !kustomize {
            out.push(e);
        }
    }
    Ok(out)
}

/// Every DashboardUser in one text: multi-document YAML, JSON, `v1` Lists. Other kinds
/// (Secrets, connections) are skipped; a DashboardUser that would not load is an error.
pub fn parse(path: &str, text: &str) -> Result<Vec<Manifest>, InputError> {
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let n = i + 1;
        let bad = |message: String| InputError::Document {
            path: path.to_string(),
            doc: n,
            message,
        };
        let value = Value::deserialize(doc).map_err(|e| bad(format!("not YAML/JSON: {e}")))?;
        if value.is_null() {
            continue;
        }
        let items = if value["kind"] == "List" {
            match value.get("items") {
                Some(Value::Array(items)) => items.clone(),
                Some(Value::Null) | None => vec![],
                Some(_) => return Err(bad("a List whose items is not an array".into())),
            }
        } else {
            vec![value]
        };
        for (j, item) in items.into_iter().enumerate() {
            let at = |m: String| {
                if value_is_list(text, n) {
                    bad(format!("item {}: {m}", j + 1))
                } else {
                    bad(m)
                }
            };
            if let Some(user) = user_of(item).map_err(at)? {
                out.push(Manifest {
                    source: format!("{path}#{n}"),
                    user,
                });
            }
        }
    }
    Ok(out)
}

/// Whether document `n` is a List (for the error position only).
fn value_is_list(text: &str, n: usize) -> bool {
    serde_yaml::Deserializer::from_str(text)
        .nth(n - 1)
        .and_then(|d| Value::deserialize(d).ok())
        .is_some_and(|v| v["kind"] == "List")
}

fn user_of(v: Value) -> Result<Option<DashboardUser>, String> {
    if !v.is_object() {
        return Err("a document must be a mapping with apiVersion and kind".into());
    }
    let api_version = v["apiVersion"].as_str().unwrap_or_default();
    let kind = v["kind"].as_str().unwrap_or_default();
    if kind.is_empty() || api_version.is_empty() {
        return Err("apiVersion and kind are required".into());
    }
    let group = api_version
        .split_once('/')
        .map(|(g, _)| g)
        .unwrap_or_default();
    if kind != "DashboardUser" || group != crate::crd::GROUP {
        return Ok(None);
    }
    if api_version != "userop.dev/v1alpha1" {
        return Err(format!(
            "{api_version} is not served; use userop.dev/v1alpha1"
        ));
    }
    let name = v["metadata"]["name"].as_str().unwrap_or_default();
    if name.is_empty() {
        return Err("DashboardUser without metadata.name".into());
    }
    let valid_name = name.len() <= 253 && name.split('.').all(super::names::is_dns_label);
    if !valid_name {
        return Err(format!(
            "metadata.name {name:?} is not a valid DNS-1123 subdomain"
        ));
    }
    if v.get("spec").is_none_or(Value::is_null) {
        return Err(format!("DashboardUser {name}: spec is required"));
    }
    let user: DashboardUser =
        serde_json::from_value(v.clone()).map_err(|e| format!("DashboardUser {name}: {e}"))?;
    Ok(Some(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "apiVersion: userop.dev/v1alpha1\nkind: DashboardUser\nmetadata: {name: a}\nspec: {email: a@b.c}\n";

    #[test]
    fn multi_document_yaml_json_and_lists() {
        let text = format!(
            "{ONE}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\n---\n---\n{ONE}"
        );
        let got = parse("f.yaml", &text).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].source, "f.yaml#4");
        let list = r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"userop.dev/v1alpha1","kind":"DashboardUser","metadata":{"name":"x"},"spec":{"email":"x@y.z"}}]}"#;
        assert_eq!(parse("l.json", list).unwrap()[0].user.spec.email, "x@y.z");
    }

    #[test]
    fn errors_name_the_file_and_document() {
        let cases = [
            (format!("{ONE}---\nkind: [unclosed\n"), "f.yaml: document 2: not YAML/JSON"),
            (format!("{ONE}---\n- a\n"), "f.yaml: document 2: a document must be a mapping"),
            ("apiVersion: userop.dev/v1alpha1\nkind: DashboardUser\nmetadata: {name: a}\nspec: {firstName: x}\n".to_string(), "f.yaml: document 1: DashboardUser a: missing field `email`"),
            ("apiVersion: userop.dev/v1alpha1\nkind: DashboardUser\nmetadata: {name: Bad_Name}\nspec: {email: a@b.c}\n".to_string(), "not a valid DNS-1123"),
            ("apiVersion: userop.dev/v1\nkind: DashboardUser\nmetadata: {name: a}\nspec: {email: a@b.c}\n".to_string(), "document 1: userop.dev/v1 is not served"),
            ("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: userop.dev/v1alpha1, kind: DashboardUser, metadata: {name: a}, spec: {email: a@b.c, active: maybe}}\n".to_string(), "document 1: item 1: DashboardUser a: invalid type"),
        ];
        for (text, want) in cases {
            let e = parse("f.yaml", &text).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
        }
    }
}
