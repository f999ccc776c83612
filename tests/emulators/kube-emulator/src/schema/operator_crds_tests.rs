//! The operator's generated CRDs must install on the emulator: they pass CRD
//! validation, and a sample object survives prune/default/validate.

use super::*;

const CRDS: &str = include_str!("../../../../../crds/crds.yaml");

fn crds() -> Vec<Value> {
    serde_yaml::Deserializer::from_str(CRDS)
        .map(|doc| serde_yaml::with::singleton_map_recursive::deserialize(doc).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

#[test]
fn operator_crds_are_valid() {
    let all = crds();
    assert!(
        all.len() >= 3,
        "expected the operator's CRDs, got {}",
        all.len()
    );
    for crd in &all {
        assert_eq!(validate_crd(crd), Ok(()), "{}", crd["metadata"]["name"]);
        for v in crd["spec"]["versions"].as_array().unwrap() {
            let schema = CrSchema::new(&v["schema"]["openAPIV3Schema"]);
            // A connection needs a credential Secret by a CEL rule that depends on `type`
            // (not by `required`), so its sample names one; otherwise the spec is empty.
            let spec = if crd["spec"]["names"]["kind"]
                .as_str()
                .is_some_and(|k| k.ends_with("DashboardConnection"))
            {
                serde_json::json!({"adminSecretRef": {"name": "a"}})
            } else {
                serde_json::json!({})
            };
            let mut obj = serde_json::json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"}, "spec": spec});
            schema.prune(&mut obj);
            schema.default(&mut obj);
            // Such a sample is only ever short of required fields.
            for e in schema.validate(&obj, None) {
                assert_eq!(e.type_, FieldErrorType::Required, "{e}");
            }
        }
    }
}

fn user_schema() -> CrSchema {
    let crd = crds()
        .into_iter()
        .find(|c| c["metadata"]["name"] == "dashboardusers.userop.dev")
        .expect("DashboardUser CRD");
    CrSchema::new(&crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
}

fn user(spec: Value) -> Value {
    serde_json::json!({"apiVersion": "userop.dev/v1alpha1", "kind": "DashboardUser", "metadata": {"name": "u"}, "spec": spec})
}

fn errors(schema: &CrSchema, obj: Value, old: Option<Value>) -> Vec<String> {
    let mut obj = obj;
    match process_cr(schema, &mut obj, old.as_ref(), "Strict") {
        Ok(_) => vec![],
        Err(CrError::Invalid(errs)) => errs.iter().map(|e| e.to_string()).collect(),
        Err(CrError::BadRequest(m)) => vec![m],
    }
}

#[test]
fn dashboard_user_rules_behave_like_the_apiserver() {
    let s = user_schema();
    let ok = serde_json::json!({"email": "a@b.c", "permissions": {"apis": "read", "IsAdmin": "admin"},
        "connectionRef": {"name": "c"}, "firstName": null});
    assert_eq!(errors(&s, user(ok.clone()), None), Vec::<String>::new());
    let mut defaulted = user(ok.clone());
    process_cr(&s, &mut defaulted, None, "").unwrap();
    assert_eq!(
        defaulted["spec"]["connectionRef"]["kind"],
        "ClusterDashboardConnection"
    );
    assert_eq!(defaulted["spec"]["active"], true);
    assert_eq!(
        defaulted["spec"]["firstName"],
        Value::Null,
        "nullable null is kept"
    );

    let cases = vec![
        (
            serde_json::json!({"email": "nope"}),
            None,
            "spec.email: Invalid value: \"string\": email must look like name@domain",
        ),
        (
            serde_json::json!({"email": "a@b.c", "permissions": {"apis": "admin"}}),
            None,
            "spec.permissions: Invalid value: \"object\": only IsAdmin and ResetPassword take (and require) the value admin",
        ),
        (
            serde_json::json!({"email": "a@b.c", "superUser": true, "orgId": "o"}),
            None,
            "spec: Invalid value: \"object\": superUser users have no organisation: omit orgId",
        ),
        (
            serde_json::json!({"email": "a@b.c", "connectionRef": {"name": "d"}}),
            Some(user(ok.clone())),
            "spec: Invalid value: \"object\": connectionRef is immutable",
        ),
        (
            serde_json::json!({"email": "a@b.c", "adoptionPolicy": "Sometimes"}),
            None,
            "spec.adoptionPolicy: Unsupported value: \"Sometimes\": supported values: \"Never\", \"IfExists\"",
        ),
        (
            serde_json::json!({"email": "a@b.c", "bogus": 1}),
            None,
            "strict decoding error: unknown field \"spec.bogus\"",
        ),
    ];
    for (spec, old, want) in cases {
        let got = errors(&s, user(spec.clone()), old);
        assert_eq!(
            got.first().map(String::as_str),
            Some(want),
            "{spec}: {got:?}"
        );
    }
}
