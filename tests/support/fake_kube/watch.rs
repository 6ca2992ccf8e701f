//! Watches: newline-delimited `{"type","object"}` events from a resourceVersion, BOOKMARKs,
//! `timeoutSeconds`, and `410 Expired` as an `ERROR` event once history is compacted.

use std::time::Duration;

use axum::body::Bytes;
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::FakeKube;
use super::resources::api_version;
use super::server::{Params, Target, streaming};
use super::store::{ApiError, fields_match, labels_match};

pub fn watch_response(fake: &FakeKube, target: &Target, params: &Params) -> Response {
    let mut subscription = fake.shared.changes.subscribe();
    let labels = params.get("labelSelector").cloned().unwrap_or_default();
    let fields = params.get("fieldSelector").cloned().unwrap_or_default();
    let bookmarks = params.get("allowWatchBookmarks").is_some_and(|b| b == "true");
    let timeout = params.get("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).unwrap_or(1800);
    let def = target.def;
    let namespace = target.namespace.clone();
    let matches = move |group: &str, plural: &str, ns: &str, object: &Value| {
        group == def.group
            && plural == def.plural
            && (namespace.is_empty() || ns == namespace)
            && labels_match(&labels, &object["metadata"]["labels"])
            && fields_match(&fields, object)
    };
    let line = |kind: &str, object: &Value| {
        Bytes::from(format!("{}\n", json!({"type": kind, "object": object})))
    };
    let (initial, mut last_rv) = {
        let inner = fake.shared.inner.lock().expect("store");
        let since = params.get("resourceVersion").cloned().unwrap_or_default();
        if since.is_empty() || since == "0" {
            let items: Vec<Bytes> = inner
                .list(def, &target.namespace)
                .into_iter()
                .filter(|(k, v)| matches(&k.group, &k.plural, &k.namespace, v))
                .map(|(_, v)| line("ADDED", &v))
                .collect();
            (items, inner.rv)
        } else {
            let since: u64 = since.parse().unwrap_or(0);
            if since < inner.compacted_below {
                let gone = ApiError {
                    code: 410,
                    reason: "Expired",
                    message: format!(
                        "too old resource version: {since} ({})",
                        inner.compacted_below
                    ),
                    details: json!({}),
                };
                // A watch reports expiry as an ERROR event in a 200 stream, as real servers do.
                let (tx, rx) = mpsc::channel(1);
                let _ = tx.try_send(line("ERROR", &gone.status()));
                return streaming(rx, "application/json");
            }
            let items: Vec<Bytes> = inner
                .history
                .iter()
                .filter(|c| c.rv > since && matches(&c.group, &c.plural, &c.namespace, &c.object))
                .map(|c| line(c.kind, &c.object))
                .collect();
            (items, inner.rv)
        }
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let kind = def.kind;
    let api_version = api_version(def);
    let bookmark = move |rv: u64| {
        Bytes::from(format!(
            "{}\n",
            json!({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": rv.to_string()}}})
        ))
    };
    let interval = fake.options.bookmark_interval;
    let shared = fake.shared.clone();
    tokio::spawn(async move {
        let killed = shared.kill_watches.notified();
        tokio::pin!(killed);
        killed.as_mut().enable();
        for item in initial {
            if tx.send(item).await.is_err() {
                return;
            }
        }
        if bookmarks && tx.send(bookmark(last_rv)).await.is_err() {
            return;
        }
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = &mut killed => return,
                _ = ticker.tick(), if bookmarks => {
                    if tx.send(bookmark(last_rv)).await.is_err() { return; }
                }
                change = subscription.recv() => match change {
                    Ok(change) => {
                        if change.rv <= last_rv { continue; }
                        last_rv = change.rv;
                        if matches(&change.group, &change.plural, &change.namespace, &change.object)
                            && tx.send(line(change.kind, &change.object)).await.is_err() {
                            return;
                        }
                    }
                    // Fell behind: end the stream; the client re-watches from its last version.
                    Err(_) => return,
                },
            }
        }
    });
    streaming(rx, "application/json")
}
