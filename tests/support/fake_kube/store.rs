//! The object store: JSON objects keyed by resource, namespace and name, one global
//! resourceVersion counter, and the ordered change history that watches replay from.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::resources::{ResourceDef, api_version, qualified};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub group: String,
    pub plural: String,
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn new(def: &ResourceDef, namespace: &str, name: &str) -> Key {
        Key {
            group: def.group.into(),
            plural: def.plural.into(),
            namespace: if def.namespaced { namespace.into() } else { String::new() },
            name: name.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Change {
    pub rv: u64,
    pub group: String,
    pub plural: String,
    pub namespace: String,
    /// `ADDED`, `MODIFIED`, `DELETED`.
    pub kind: &'static str,
    pub object: Value,
}

/// An error the API server would send as a `Status`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn status(&self) -> Value {
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason, "details": self.details, "code": self.code,
        })
    }

    pub fn not_found(def: &ResourceDef, name: &str) -> ApiError {
        ApiError {
            code: 404,
            reason: "NotFound",
            message: format!("{} \"{name}\" not found", qualified(def)),
            details: json!({"name": name, "group": def.group, "kind": def.plural}),
        }
    }

    pub fn invalid(def: &ResourceDef, name: &str, field: &str, value: &str, why: &str) -> ApiError {
        let kind = if def.group.is_empty() {
            def.kind.to_string()
        } else {
            format!("{}.{}", def.kind, def.group)
        };
        ApiError {
            code: 422,
            reason: "Invalid",
            message: format!(
                "{kind} \"{name}\" is invalid: {field}: Invalid value: {value}: {why}"
            ),
            details: json!({"name": name, "group": def.group, "kind": def.kind, "causes": [
                {"reason": "FieldValueInvalid", "message": format!("Invalid value: {value}: {why}"), "field": field}
            ]}),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct PodLogs {
    pub current: Vec<String>,
    pub previous: Option<Vec<String>>,
}

pub struct Inner {
    pub rv: u64,
    pub objects: BTreeMap<Key, Value>,
    pub history: Vec<Arc<Change>>,
    /// Watches from below this resourceVersion get `410 Gone` (after `compact`).
    pub compacted_below: u64,
    /// The field manager owning a Deployment's `spec.replicas` (for apply conflicts).
    pub replicas_owner: HashMap<(String, String), String>,
    pub denies: Vec<(String, String)>,
    pub hangs: Vec<String>,
    /// Path fragments answered with `500 InternalError` until `heal`.
    pub failures: Vec<String>,
    pub logs: HashMap<(String, String), PodLogs>,
    pub pod_created: HashMap<(String, String), Instant>,
    pub uid: u64,
    /// Every request as `METHOD path?query`, for tests that check what was sent.
    pub requests: Vec<String>,
}

pub struct Shared {
    pub inner: std::sync::Mutex<Inner>,
    pub changes: broadcast::Sender<Arc<Change>>,
    pub log_lines: broadcast::Sender<(String, String, String)>,
    /// Ends every open watch stream (as an API server restart or a load balancer would).
    pub kill_watches: tokio::sync::Notify,
}

pub fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string()
}

impl Inner {
    pub fn new() -> Inner {
        Inner {
            rv: 100,
            objects: BTreeMap::new(),
            history: Vec::new(),
            compacted_below: 0,
            replicas_owner: HashMap::new(),
            denies: Vec::new(),
            hangs: Vec::new(),
            failures: Vec::new(),
            logs: HashMap::new(),
            pod_created: HashMap::new(),
            uid: 0,
            requests: Vec::new(),
        }
    }

    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)
    }

    fn record(
        &mut self,
        key: &Key,
        kind: &'static str,
        object: Value,
        tx: &broadcast::Sender<Arc<Change>>,
    ) {
        let change = Arc::new(Change {
            rv: self.rv,
            group: key.group.clone(),
            plural: key.plural.clone(),
            namespace: key.namespace.clone(),
            kind,
            object,
        });
        self.history.push(change.clone());
        let _ = tx.send(change);
    }

    /// Stores a new object: fills uid, timestamps, generation and resourceVersion.
    pub fn insert(
        &mut self,
        def: &ResourceDef,
        key: Key,
        mut object: Value,
        tx: &broadcast::Sender<Arc<Change>>,
    ) -> Value {
        self.rv += 1;
        self.uid += 1;
        object["apiVersion"] = json!(api_version(def));
        object["kind"] = json!(def.kind);
        let meta = &mut object["metadata"];
        meta["name"] = json!(key.name);
        if def.namespaced {
            meta["namespace"] = json!(key.namespace);
        }
        meta["uid"] = json!(format!("00000000-0000-4000-8000-{:012x}", self.uid));
        meta["creationTimestamp"] = json!(now());
        meta["resourceVersion"] = json!(self.rv.to_string());
        if object.get("spec").is_some() {
            object["metadata"]["generation"] = json!(1);
        }
        self.objects.insert(key.clone(), object.clone());
        self.record(&key, "ADDED", object.clone(), tx);
        object
    }

    /// Replaces a stored object; bumps generation when the spec changed.
    pub fn update(
        &mut self,
        key: &Key,
        mut object: Value,
        tx: &broadcast::Sender<Arc<Change>>,
    ) -> Value {
        let Some(old) = self.objects.get(key) else { return object };
        if old.get("spec") != object.get("spec") {
            let generation = old["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
            object["metadata"]["generation"] = json!(generation);
        }
        if old == &object {
            return object;
        }
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.objects.insert(key.clone(), object.clone());
        self.record(key, "MODIFIED", object.clone(), tx);
        object
    }

    pub fn remove(&mut self, key: &Key, tx: &broadcast::Sender<Arc<Change>>) -> Option<Value> {
        let mut object = self.objects.remove(key)?;
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.record(key, "DELETED", object.clone(), tx);
        if key.plural == "pods" {
            self.pod_created.remove(&(key.namespace.clone(), key.name.clone()));
        }
        Some(object)
    }

    /// Objects of one resource in a namespace (all namespaces when `namespace` is empty).
    pub fn list(&self, def: &ResourceDef, namespace: &str) -> Vec<(Key, Value)> {
        self.objects
            .iter()
            .filter(|(k, _)| k.group == def.group && k.plural == def.plural)
            .filter(|(k, _)| namespace.is_empty() || k.namespace == namespace)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// RFC 7386 JSON merge patch (also used for strategic merge patches of plain maps).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = json!({});
            }
            let map = target.as_object_mut().expect("object");
            for (key, value) in fields {
                if value.is_null() {
                    map.remove(key);
                } else {
                    merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// Server-side apply, simplified: the applied configuration's fields win, fields it does not
/// mention are kept. Lists are atomic (replaced whole).
pub fn apply_merge(target: &mut Value, applied: &Value) {
    match (target.as_object_mut(), applied) {
        (Some(map), Value::Object(fields)) => {
            for (key, value) in fields {
                match map.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        apply_merge(existing, value)
                    }
                    _ => {
                        map.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        _ => *target = applied.clone(),
    }
}

/// Label selector semantics: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`.
pub fn labels_match(selector: &str, labels: &Value) -> bool {
    let get = |k: &str| labels.get(k).and_then(Value::as_str);
    split_terms(selector).iter().all(|term| {
        let term = term.trim();
        if term.is_empty() {
            true
        } else if let Some((k, set)) = term.split_once(" notin ") {
            !set_of(set).contains(&get(k.trim()).unwrap_or("\u{0}"))
        } else if let Some((k, set)) = term.split_once(" in ") {
            get(k.trim()).is_some_and(|v| set_of(set).contains(&v))
        } else if let Some((k, v)) = term.split_once("!=") {
            get(k.trim()) != Some(v.trim())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            get(k.trim()) == Some(v.trim())
        } else if let Some(k) = term.strip_prefix('!') {
            get(k.trim()).is_none()
        } else {
            get(term).is_some()
        }
    })
}

fn set_of(text: &str) -> Vec<&str> {
    text.trim().trim_start_matches('(').trim_end_matches(')').split(',').map(str::trim).collect()
}

fn split_terms(selector: &str) -> Vec<String> {
    // Commas inside `in (a,b)` do not separate terms.
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in selector.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    terms.push(current);
    terms
}

/// Field selectors on dotted paths: `spec.nodeName=x`, `status.phase!=Succeeded`, `metadata.name=x`.
pub fn fields_match(selector: &str, object: &Value) -> bool {
    selector.split(',').filter(|t| !t.trim().is_empty()).all(|term| {
        let (path, value, negate) = match term.split_once("!=") {
            Some((p, v)) => (p, v, true),
            None => match term.split_once("==").or_else(|| term.split_once('=')) {
                Some((p, v)) => (p, v, false),
                None => return true,
            },
        };
        let pointer = format!("/{}", path.trim().replace('.', "/"));
        let actual = object.pointer(&pointer).and_then(Value::as_str).unwrap_or("");
        (actual == value.trim()) != negate
    })
}
