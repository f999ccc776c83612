//! Hand-written `patchStrategy`/`patchMergeKey` tags of the built-in kinds the
//! emulator stores, transcribed from the Kubernetes API types (k8s.io/api). Only
//! fields with a tag appear; everything else uses the defaults (maps merge,
//! lists replace).

use super::strategic::PatchStrategy;

fn conditions() -> PatchStrategy {
    PatchStrategy::merge_key("type")
}

/// `ObjectMeta`: `finalizers` merge as a set, `ownerReferences` by `uid`.
pub(crate) fn object_meta() -> PatchStrategy {
    PatchStrategy::new()
        .field("finalizers", PatchStrategy::merge_primitive())
        .field("ownerReferences", PatchStrategy::merge_key("uid"))
}

fn container() -> PatchStrategy {
    PatchStrategy::merge_key("name")
        .field("ports", PatchStrategy::merge_key("containerPort"))
        .field("env", PatchStrategy::merge_key("name"))
        .field("volumeMounts", PatchStrategy::merge_key("mountPath"))
        .field("volumeDevices", PatchStrategy::merge_key("devicePath"))
}

fn pod_spec() -> PatchStrategy {
    PatchStrategy::new()
        .field("containers", container())
        .field("initContainers", container())
        .field("ephemeralContainers", container())
        .field("volumes", PatchStrategy::merge_key("name").retain_keys())
        .field("imagePullSecrets", PatchStrategy::merge_key("name"))
        .field("hostAliases", PatchStrategy::merge_key("ip"))
        .field(
            "topologySpreadConstraints",
            PatchStrategy::merge_key("topologyKey"),
        )
        .field(
            "resourceClaims",
            PatchStrategy::merge_key("name").retain_keys(),
        )
        .field("schedulingGates", PatchStrategy::merge_key("name"))
}

fn with_meta(root: PatchStrategy) -> PatchStrategy {
    root.field("metadata", object_meta())
}

/// The strategy of a built-in kind; unknown kinds get ObjectMeta's tags only
/// (custom resources do not support strategic merge patch at all: the server
/// answers 415 for them before calling this).
pub fn strategy_for(group: &str, kind: &str) -> PatchStrategy {
    let root = match (group, kind) {
        ("", "Service") => PatchStrategy::new()
            .field(
                "spec",
                PatchStrategy::new().field("ports", PatchStrategy::merge_key("port")),
            )
            .field(
                "status",
                PatchStrategy::new().field("conditions", conditions()),
            ),
        ("", "ServiceAccount") => {
            PatchStrategy::new().field("secrets", PatchStrategy::merge_key("name"))
        }
        ("", "Namespace") => PatchStrategy::new().field(
            "status",
            PatchStrategy::new().field("conditions", conditions()),
        ),
        ("apps", "Deployment") => PatchStrategy::new()
            .field(
                "spec",
                PatchStrategy::new()
                    .field("strategy", PatchStrategy::new().retain_keys())
                    .field(
                        "template",
                        PatchStrategy::new()
                            .field("metadata", object_meta())
                            .field("spec", pod_spec()),
                    ),
            )
            .field(
                "status",
                PatchStrategy::new().field("conditions", conditions()),
            ),
        ("policy", "PodDisruptionBudget") => PatchStrategy::new().field(
            "status",
            PatchStrategy::new().field("conditions", conditions()),
        ),
        // Secret, ConfigMap, RBAC kinds, NetworkPolicy, Lease, Event: no tagged
        // fields besides ObjectMeta (their maps merge, their lists replace).
        _ => PatchStrategy::new(),
    };
    with_meta(root)
}
