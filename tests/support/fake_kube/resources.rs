//! The resources the fake serves and their discovery documents, shaped like a v1.33 API
//! server's `/api`, `/apis` and `/apis/GROUP/VERSION` answers.

use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceDef {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub subresources: &'static [&'static str],
    /// Which optional API this belongs to (`None`: always served).
    pub optional: Option<Optional>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Optional {
    ServiceMonitor,
    NimOperator,
    AimOperator,
    Kserve,
    LeaderWorkerSet,
    Keda,
}

const VERBS: [&str; 8] =
    ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

macro_rules! def {
    ($g:expr, $v:expr, $p:expr, $k:expr, $ns:expr, $subs:expr, $opt:expr) => {
        ResourceDef {
            group: $g,
            version: $v,
            plural: $p,
            kind: $k,
            namespaced: $ns,
            subresources: $subs,
            optional: $opt,
        }
    };
}

pub const RESOURCES: &[ResourceDef] = &[
    def!("", "v1", "namespaces", "Namespace", false, &["status"], None),
    def!("", "v1", "nodes", "Node", false, &["status", "proxy"], None),
    def!("", "v1", "pods", "Pod", true, &["status", "log", "proxy"], None),
    def!("", "v1", "services", "Service", true, &["status", "proxy"], None),
    def!("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, &["status"], None),
    def!("", "v1", "events", "Event", true, &[], None),
    def!("", "v1", "secrets", "Secret", true, &[], None),
    def!("apps", "v1", "deployments", "Deployment", true, &["status", "scale"], None),
    def!("apps", "v1", "replicasets", "ReplicaSet", true, &["status", "scale"], None),
    def!(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        true,
        &["status"],
        None
    ),
    def!("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, &["status"], None),
    def!("batch", "v1", "jobs", "Job", true, &["status"], None),
    def!(
        "monitoring.coreos.com",
        "v1",
        "servicemonitors",
        "ServiceMonitor",
        true,
        &[],
        Some(Optional::ServiceMonitor)
    ),
    def!(
        "apps.nvidia.com",
        "v1alpha1",
        "nimservices",
        "NIMService",
        true,
        &["status"],
        Some(Optional::NimOperator)
    ),
    def!(
        "apps.nvidia.com",
        "v1alpha1",
        "nimcaches",
        "NIMCache",
        true,
        &["status"],
        Some(Optional::NimOperator)
    ),
    def!(
        "aim.eai.amd.com",
        "v1alpha1",
        "aimservices",
        "AIMService",
        true,
        &["status"],
        Some(Optional::AimOperator)
    ),
    def!(
        "aim.eai.amd.com",
        "v1alpha1",
        "aimtemplatecaches",
        "AIMTemplateCache",
        true,
        &["status"],
        Some(Optional::AimOperator)
    ),
    def!(
        "serving.kserve.io",
        "v1beta1",
        "inferenceservices",
        "InferenceService",
        true,
        &["status"],
        Some(Optional::Kserve)
    ),
    def!(
        "leaderworkerset.x-k8s.io",
        "v1",
        "leaderworkersets",
        "LeaderWorkerSet",
        true,
        &["status", "scale"],
        Some(Optional::LeaderWorkerSet)
    ),
    def!(
        "keda.sh",
        "v1alpha1",
        "scaledobjects",
        "ScaledObject",
        true,
        &["status"],
        Some(Optional::Keda)
    ),
];

pub fn find(
    group: &str,
    version: &str,
    plural: &str,
    enabled: &dyn Fn(Optional) -> bool,
) -> Option<&'static ResourceDef> {
    RESOURCES.iter().find(|r| {
        r.group == group
            && r.version == version
            && r.plural == plural
            && r.optional.is_none_or(enabled)
    })
}

pub fn api_version(def: &ResourceDef) -> String {
    if def.group.is_empty() {
        def.version.to_string()
    } else {
        format!("{}/{}", def.group, def.version)
    }
}

/// `group.resource` as the API server names it in messages (`deployments.apps`, `pods`).
pub fn qualified(def: &ResourceDef) -> String {
    if def.group.is_empty() {
        def.plural.to_string()
    } else {
        format!("{}.{}", def.plural, def.group)
    }
}

pub fn core_versions(addr: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}]
    })
}

pub fn group_list(enabled: &dyn Fn(Optional) -> bool) -> Value {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for r in RESOURCES.iter().filter(|r| !r.group.is_empty() && r.optional.is_none_or(enabled)) {
        match groups.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if !versions.contains(&r.version) => versions.push(r.version),
            Some(_) => {}
            None => groups.push((r.group, vec![r.version])),
        }
    }
    let groups: Vec<Value> = groups
        .iter()
        .map(|(group, versions)| {
            let list: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
                .collect();
            json!({"name": group, "versions": list, "preferredVersion": list[0].clone()})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn resource_list(
    group: &str,
    version: &str,
    enabled: &dyn Fn(Optional) -> bool,
) -> Option<Value> {
    let defs: Vec<&ResourceDef> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version && r.optional.is_none_or(enabled))
        .collect();
    if defs.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for def in defs {
        resources.push(json!({
            "name": def.plural, "singularName": def.kind.to_lowercase(), "namespaced": def.namespaced,
            "kind": def.kind, "verbs": VERBS,
        }));
        for sub in def.subresources {
            let (kind, group_override, verbs): (&str, Option<&str>, Vec<&str>) = match *sub {
                "scale" => ("Scale", Some("autoscaling"), vec!["get", "patch", "update"]),
                "log" => ("Pod", None, vec!["get"]),
                "proxy" => (def.kind, None, vec!["create", "delete", "get", "patch", "update"]),
                _ => (def.kind, None, vec!["get", "patch", "update"]),
            };
            let mut entry = json!({
                "name": format!("{}/{sub}", def.plural), "singularName": "", "namespaced": def.namespaced,
                "kind": kind, "verbs": verbs,
            });
            if let Some(g) = group_override {
                entry["group"] = json!(g);
                entry["version"] = json!("v1");
            }
            resources.push(entry);
        }
    }
    let group_version =
        if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}
