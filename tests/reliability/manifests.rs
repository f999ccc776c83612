//! Hostile manifests (issue #9 part 5): malformed `DashboardUser`, `DashboardConnection` and
//! `ClusterDashboardConnection` objects applied through the real kubectl, each refused at
//! admission with a message that says what to fix. Every case is a valid base object plus one
//! bad change, and the base itself is applied first, so a refusal is always the bad change's.

use futures::StreamExt;
use serde_json::{Value, json};

use crate::common::{Env, EnvOptions, kube, kubectl, merge, random_hex};

#[derive(Clone, Copy, Debug)]
enum Kind {
    User,
    Connection,
    Cluster,
}

struct Case {
    what: &'static str,
    kind: Kind,
    /// Merged into the valid base (`null` removes a field).
    patch: Value,
    /// Every one of these must appear in kubectl's output.
    expect: Vec<&'static str>,
}

fn case(what: &'static str, kind: Kind, patch: Value, expect: &[&'static str]) -> Case {
    Case {
        what,
        kind,
        patch,
        expect: expect.to_vec(),
    }
}

fn spec(v: Value) -> Value {
    json!({ "spec": v })
}

fn long(n: usize) -> String {
    "a".repeat(n)
}

fn many(n: usize, value: &str) -> Value {
    Value::Object(
        (0..n)
            .map(|i| (format!("k{i}"), Value::String(value.into())))
            .collect(),
    )
}

fn user_cases() -> Vec<Case> {
    use Kind::User as U;
    let email_msg = "email must look like name@domain";
    let perm_values = "permission values must be read, write, deny or admin";
    let admin_only = "only IsAdmin and ResetPassword take (and require) the value admin";
    let tyk_id = "must be a Tyk id";
    let object_name = "must be a Kubernetes object name";
    let secret_key = "must be a Secret key";
    vec![
        case(
            "email without @",
            U,
            spec(json!({"email": "not-an-email"})),
            &["spec.email", email_msg],
        ),
        case(
            "email with two @",
            U,
            spec(json!({"email": "a@b@example.com"})),
            &["spec.email", email_msg],
        ),
        case(
            "email with a space",
            U,
            spec(json!({"email": "a b@example.com"})),
            &["spec.email", email_msg],
        ),
        case(
            "email too long",
            U,
            spec(json!({"email": format!("{}@example.com", long(300))})),
            &["spec.email", "Too long", "254"],
        ),
        case(
            "email empty",
            U,
            spec(json!({"email": ""})),
            &["spec.email", "at least 3"],
        ),
        case(
            "email missing",
            U,
            spec(json!({"email": null})),
            &["spec.email", "Required value"],
        ),
        case(
            "email not a string",
            U,
            spec(json!({"email": 42})),
            &["spec.email", "must be of type string"],
        ),
        case(
            "permission value unknown",
            U,
            spec(json!({"permissions": {"apis": "all"}})),
            &["spec.permissions", perm_values],
        ),
        case(
            "admin on a section",
            U,
            spec(json!({"permissions": {"apis": "admin"}})),
            &["spec.permissions", admin_only],
        ),
        case(
            "IsAdmin with write",
            U,
            spec(json!({"permissions": {"IsAdmin": "write"}})),
            &["spec.permissions", admin_only],
        ),
        case(
            "permission name with odd characters",
            U,
            spec(json!({"permissions": {"api s!": "read"}})),
            &["spec.permissions", "permission names are a letter"],
        ),
        case(
            "permission name too long",
            U,
            spec(json!({"permissions": {long(80): "read"}})),
            &["spec.permissions", "at most 64 long"],
        ),
        case(
            "too many permissions",
            U,
            spec(json!({"permissions": many(65, "read")})),
            &["spec.permissions", "Too many", "64"],
        ),
        case(
            "permission value too long",
            U,
            spec(json!({"permissions": {"apis": long(20)}})),
            &["spec.permissions", "Too long", "16"],
        ),
        case(
            "permissions as a list",
            U,
            spec(json!({"permissions": ["apis"]})),
            &["spec.permissions", "must be of type object"],
        ),
        case(
            "username too short",
            U,
            spec(json!({"username": "ab"})),
            &["spec.username", "at least 3"],
        ),
        case(
            "username too long",
            U,
            spec(json!({"username": long(151)})),
            &["spec.username", "may not be more than 150"],
        ),
        case(
            "role unknown",
            U,
            spec(json!({"role": "root"})),
            &["spec.role", "Unsupported value"],
        ),
        case(
            "superUser with orgId",
            U,
            spec(json!({"superUser": true, "orgId": "5e9d9544a1dcd60001d0ed20"})),
            &["superUser users have no organisation: omit orgId"],
        ),
        case(
            "orgId empty",
            U,
            spec(json!({"orgId": ""})),
            &["spec.orgId", tyk_id, "omit the field"],
        ),
        case(
            "orgId with spaces",
            U,
            spec(json!({"orgId": "my org"})),
            &["spec.orgId", tyk_id],
        ),
        case(
            "orgId too long",
            U,
            spec(json!({"orgId": long(200)})),
            &["spec.orgId", "Too long", "128"],
        ),
        case(
            "groupId with a slash",
            U,
            spec(json!({"groupId": "a/b"})),
            &["spec.groupId", tyk_id],
        ),
        case(
            "firstName too long",
            U,
            spec(json!({"firstName": long(300)})),
            &["spec.firstName", "Too long", "256"],
        ),
        case(
            "lastName too long",
            U,
            spec(json!({"lastName": long(300)})),
            &["spec.lastName", "Too long", "256"],
        ),
        case(
            "negative passwordMaxDays",
            U,
            spec(json!({"passwordMaxDays": -1})),
            &["spec.passwordMaxDays", "greater than or equal to 0"],
        ),
        case(
            "huge passwordMaxDays",
            U,
            spec(json!({"passwordMaxDays": 100000})),
            &["spec.passwordMaxDays", "less than or equal to 36500"],
        ),
        case(
            "passwordMaxDays not a number",
            U,
            spec(json!({"passwordMaxDays": "ten"})),
            &["spec.passwordMaxDays", "must be of type integer"],
        ),
        case(
            "active not a boolean",
            U,
            spec(json!({"active": "yes"})),
            &["spec.active", "must be of type boolean"],
        ),
        case(
            "unknown deletionPolicy",
            U,
            spec(json!({"deletionPolicy": "Remove"})),
            &[
                "spec.deletionPolicy",
                "Unsupported value",
                "\"Delete\", \"Deactivate\", \"Orphan\"",
            ],
        ),
        case(
            "unknown adoptionPolicy",
            U,
            spec(json!({"adoptionPolicy": "Always"})),
            &[
                "spec.adoptionPolicy",
                "Unsupported value",
                "\"Never\", \"IfExists\"",
            ],
        ),
        case(
            "unknown connectionRef kind",
            U,
            spec(json!({"connectionRef": {"kind": "Connection", "name": "x"}})),
            &[
                "spec.connectionRef.kind",
                "Unsupported value",
                "\"DashboardConnection\", \"ClusterDashboardConnection\"",
            ],
        ),
        case(
            "connectionRef name not a name",
            U,
            spec(json!({"connectionRef": {"name": "Bad_Name"}})),
            &["spec.connectionRef.name", object_name],
        ),
        case(
            "connectionRef without a name",
            U,
            spec(json!({"connectionRef": {"kind": "DashboardConnection", "name": null}})),
            &["spec.connectionRef.name", "Required value"],
        ),
        case(
            "password Secret name upper-case",
            U,
            spec(json!({"passwordSecretRef": {"name": "UPPER"}})),
            &["spec.passwordSecretRef.name", object_name],
        ),
        case(
            "password Secret key with a space",
            U,
            spec(json!({"passwordSecretRef": {"name": "pw", "key": "pass word"}})),
            &["spec.passwordSecretRef.key", secret_key],
        ),
        case(
            "password Secret ref without a name",
            U,
            spec(json!({"passwordSecretRef": {"key": "password"}})),
            &["spec.passwordSecretRef.name", "Required value"],
        ),
        case(
            "access Secret name with an underscore",
            U,
            spec(json!({"accessKeySecret": {"name": "x_y"}})),
            &["spec.accessKeySecret.name", object_name],
        ),
        case(
            "access Secret name too long",
            U,
            spec(json!({"accessKeySecret": {"name": long(300)}})),
            &["spec.accessKeySecret.name", "Too long", "253"],
        ),
        case(
            "access Secret key with a slash",
            U,
            spec(json!({"accessKeySecret": {"key": "a/b"}})),
            &["spec.accessKeySecret.key", secret_key],
        ),
        case(
            "label key with odd characters",
            U,
            spec(json!({"accessKeySecret": {"labels": {"bad key!": "v"}}})),
            &[
                "spec.accessKeySecret.labels",
                "label keys must be [prefix/]name",
            ],
        ),
        case(
            "label value with a space",
            U,
            spec(json!({"accessKeySecret": {"labels": {"team": "has space"}}})),
            &[
                "spec.accessKeySecret.labels",
                "label values must be at most 63",
            ],
        ),
        case(
            "label value too long",
            U,
            spec(json!({"accessKeySecret": {"labels": {"team": long(70)}}})),
            &["spec.accessKeySecret.labels", "Too long", "63"],
        ),
        case(
            "operator's own label",
            U,
            spec(json!({"accessKeySecret": {"labels": {"app.kubernetes.io/managed-by": "me"}}})),
            &["spec.accessKeySecret.labels", "is set by the operator"],
        ),
        case(
            "too many labels",
            U,
            spec(json!({"accessKeySecret": {"labels": many(65, "v")}})),
            &["spec.accessKeySecret.labels", "Too many", "64"],
        ),
        case(
            "annotation key starting with a dash",
            U,
            spec(json!({"accessKeySecret": {"annotations": {"-bad": "v"}}})),
            &[
                "spec.accessKeySecret.annotations",
                "annotation keys must be [prefix/]name",
            ],
        ),
        case(
            "annotation value too long",
            U,
            spec(json!({"accessKeySecret": {"annotations": {"note": long(5000)}}})),
            &["spec.accessKeySecret.annotations", "Too long", "4096"],
        ),
        case(
            "too many annotations",
            U,
            spec(json!({"accessKeySecret": {"annotations": many(65, "v")}})),
            &["spec.accessKeySecret.annotations", "Too many", "64"],
        ),
        case(
            "unknown field (typo)",
            U,
            spec(json!({"emial": "a@example.com"})),
            &["unknown field", "spec.emial"],
        ),
    ]
}

fn connection_cases() -> Vec<Case> {
    use Kind::{Cluster as C, Connection as N};
    let scheme = "url must start with http:// or https://";
    let object_name = "must be a Kubernetes object name";
    vec![
        case(
            "url without scheme",
            N,
            spec(json!({"url": "tyk-dashboard.tyk:3000"})),
            &["spec.url", scheme],
        ),
        case(
            "url with ftp scheme",
            C,
            spec(json!({"url": "ftp://tyk-dashboard"})),
            &["spec.url", scheme],
        ),
        case(
            "url without host",
            N,
            spec(json!({"url": "http://"})),
            &["spec.url", "url needs a host"],
        ),
        case(
            "url with credentials",
            C,
            spec(json!({"url": "http://admin:hunter2@tyk:3000"})),
            &["spec.url", "must not contain credentials"],
        ),
        case(
            "url with a query",
            N,
            spec(json!({"url": "http://tyk:3000/?x=1"})),
            &["spec.url", "must not contain a query"],
        ),
        case(
            "url too long",
            N,
            spec(json!({"url": format!("http://{}", long(3000))})),
            &["spec.url", "Too long", "2048"],
        ),
        case(
            "url missing",
            C,
            spec(json!({"url": null})),
            &["spec.url", "Required value"],
        ),
        case(
            "negative timeoutSeconds",
            N,
            spec(json!({"timeoutSeconds": -5})),
            &["spec.timeoutSeconds", "greater than or equal to 1"],
        ),
        case(
            "zero timeoutSeconds",
            C,
            spec(json!({"timeoutSeconds": 0})),
            &["spec.timeoutSeconds", "greater than or equal to 1"],
        ),
        case(
            "huge timeoutSeconds",
            N,
            spec(json!({"timeoutSeconds": 1000})),
            &["spec.timeoutSeconds", "less than or equal to 300"],
        ),
        case(
            "zero maxConcurrentRequests",
            C,
            spec(json!({"maxConcurrentRequests": 0})),
            &["spec.maxConcurrentRequests", "greater than or equal to 1"],
        ),
        case(
            "adminSecretRef and apiKeySecretRef both missing",
            N,
            spec(json!({"adminSecretRef": null, "apiKeySecretRef": null})),
            // Optional in the schema since connections have a type; without adminSecretRef a
            // Tyk connection is API-key-only, so CEL requires one of the two.
            &["type TykDashboard needs adminSecretRef, apiKeySecretRef (API-key-only), or both"],
        ),
        case(
            "tokenSecretRef on a Tyk connection",
            N,
            spec(json!({"tokenSecretRef": {"name": "tok"}})),
            &["tokenSecretRef applies only to type AdminUsersAPI"],
        ),
        case(
            "AdminUsersAPI without tokenSecretRef",
            C,
            spec(json!({"type": "AdminUsersAPI", "adminSecretRef": null})),
            &["tokenSecretRef is required for type AdminUsersAPI"],
        ),
        case(
            "AdminUsersAPI with Tyk Secrets",
            N,
            spec(json!({"type": "AdminUsersAPI", "tokenSecretRef": {"name": "tok"}})),
            &["adminSecretRef, apiKeySecretRef and orgId apply only to type TykDashboard"],
        ),
        case(
            "unknown connection type",
            N,
            spec(json!({"type": "Ldap"})),
            &["spec.type", "Unsupported value"],
        ),
        case(
            "adminSecretRef name with a space",
            C,
            spec(json!({"adminSecretRef": {"name": "Bad Name"}})),
            &["spec.adminSecretRef.name", object_name],
        ),
        case(
            "apiKeySecretRef key with odd characters",
            N,
            spec(json!({"apiKeySecretRef": {"name": "k", "key": "api key!"}})),
            &["spec.apiKeySecretRef.key", "must be a Secret key"],
        ),
        case(
            "Secret namespace not a namespace name",
            C,
            spec(json!({"adminSecretRef": {"name": "a", "namespace": "Team_A"}})),
            &["spec.adminSecretRef.namespace", "must be a namespace name"],
        ),
        case(
            "CA and insecureSkipVerify together",
            N,
            spec(json!({"tls": {"caSecretRef": {"name": "ca"}, "insecureSkipVerify": true}})),
            &["spec.tls", "not both"],
        ),
        case(
            "allowed namespace with a space",
            C,
            spec(json!({"allowedNamespaces": {"names": ["team a"]}})),
            &["spec.allowedNamespaces.names", "must be namespace names"],
        ),
        case(
            "too many allowed namespaces",
            C,
            spec(
                json!({"allowedNamespaces": {"names": (0..300).map(|i| format!("ns-{i}")).collect::<Vec<_>>()}}),
            ),
            &["spec.allowedNamespaces.names", "Too many", "256"],
        ),
        case(
            "connection orgId with spaces",
            C,
            spec(json!({"orgId": "my org"})),
            &["spec.orgId", "must be a Tyk id"],
        ),
        case(
            "unknown tls field",
            N,
            spec(json!({"tls": {"insecure": true}})),
            &["unknown field", "spec.tls.insecure"],
        ),
    ]
}

fn base(env: &Env, kind: Kind, i: usize) -> Value {
    let name = format!("hostile-{i}");
    match kind {
        Kind::User => env.user(&name, &env.email("hostile")),
        Kind::Connection => env.connection_object(&env.ns, &name),
        Kind::Cluster => {
            let mut c = env.cluster_connection_object(&[]);
            // Unique on a shared real cluster, as the harness's own connection name is.
            c["metadata"]["name"] = json!(format!("{}-{name}", env.connection_name));
            c
        }
    }
}

fn resource(kind: Kind) -> ::kube::core::ApiResource {
    match kind {
        Kind::User => kube::user_resource(),
        Kind::Connection => kube::connection_resource(),
        Kind::Cluster => kube::cluster_connection_resource(),
    }
}

/// `kubectl apply -f -` of `obj`; it must fail and print every expected fragment.
async fn refused(env: &Env, bin: &std::path::PathBuf, obj: &Value, c: &Case) -> Result<(), String> {
    let text = obj.to_string();
    let (ok, out) = env
        .kubectl(bin, &["apply", "-f", "-"], Some(&text))
        .await
        .map_err(|e| format!("{}: kubectl: {e:#}", c.what))?;
    if ok {
        return Err(format!("{}: accepted: {out}", c.what));
    }
    let missing: Vec<_> = c.expect.iter().filter(|e| !out.contains(**e)).collect();
    if !missing.is_empty() {
        return Err(format!("{}: message lacks {missing:?}: {out}", c.what));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_manifests_are_refused_with_a_message_that_says_what_to_fix() -> anyhow::Result<()>
{
    let env = Env::new("hostile-manifests", EnvOptions::default()).await?;
    let Some(bin) = kubectl::binary() else {
        anyhow::bail!("no kubectl binary: the hostile-manifest table needs the real kubectl");
    };
    let mut cases = user_cases();
    cases.extend(connection_cases());
    anyhow::ensure!(cases.len() >= 40, "only {} cases", cases.len());

    // Each kind's valid base is accepted as it is, so every refusal below is the bad change's.
    for (i, kind) in [Kind::User, Kind::Connection, Kind::Cluster]
        .into_iter()
        .enumerate()
    {
        let ok = base(&env, kind, 1000 + i);
        let (accepted, out) = env
            .kubectl(&bin, &["apply", "-f", "-"], Some(&ok.to_string()))
            .await?;
        anyhow::ensure!(accepted, "valid {kind:?} refused: {out}");
    }

    // Four kubectl processes at a time: the machine has two cores and other tenants.
    let results: Vec<Result<(), String>> = futures::stream::iter(cases.iter().enumerate())
        .map(|(i, c)| {
            let env = &env;
            let bin = &bin;
            async move {
                let mut obj = base(env, c.kind, i);
                merge(&mut obj, c.patch.clone());
                refused(env, bin, &obj, c).await?;
                // Refused means not stored.
                let ns = matches!(c.kind, Kind::User | Kind::Connection).then_some(env.ns.as_str());
                let name = obj["metadata"]["name"].as_str().unwrap_or_default();
                match kube::get(&env.client, &resource(c.kind), ns, name).await {
                    Ok(None) => Ok(()),
                    Ok(Some(_)) => Err(format!("{}: stored although refused", c.what)),
                    Err(e) => Err(format!("{}: get: {e:#}", c.what)),
                }
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;

    // Immutable field changed: applied once, then the change is refused.
    let mut u = base(&env, Kind::User, 2000);
    merge(
        &mut u,
        json!({"spec": {"connectionRef": {"kind": "DashboardConnection", "name": format!("one-{}", random_hex(4))}}}),
    );
    let (accepted, out) = env
        .kubectl(&bin, &["apply", "-f", "-"], Some(&u.to_string()))
        .await?;
    anyhow::ensure!(accepted, "first apply refused: {out}");
    merge(&mut u, json!({"spec": {"connectionRef": {"name": "two"}}}));
    let immutable = case(
        "connectionRef changed",
        Kind::User,
        json!({}),
        &["connectionRef is immutable"],
    );
    let last = refused(&env, &bin, &u, &immutable).await;

    let failures: Vec<String> = results
        .into_iter()
        .chain([last])
        .filter_map(Result::err)
        .collect();
    anyhow::ensure!(
        failures.is_empty(),
        "{} of {} hostile manifests not refused as expected:\n{}",
        failures.len(),
        cases.len() + 1,
        failures.join("\n---\n")
    );
    eprintln!(
        "hostile manifests: {} refused with the expected message",
        cases.len() + 1
    );
    env.finish().await
}
