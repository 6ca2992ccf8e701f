//! Ways in for the coverage-guided fuzzer (`fuzz/`, docs/reliability.md "Fuzzing") to readers
//! that are private or sit inside async I/O code: each takes the bytes an outside program or
//! server would send and runs the same reading code the console runs. Not an API.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Docker: a container list and a container inspect answer (see `docker::list::read_answers`).
pub fn docker_answers(list: &[u8], inspect: &[u8]) -> (usize, Option<i64>) {
    crate::backend::docker::list::read_answers(list, inspect)
}

/// The Hub: a revision answer (`/api/models/{id}/revision/{rev}`), a tree page and the headers
/// the client reads (`Link` for the next page, the ETag of a file). `headers` is `name: value`
/// lines. Gives the number of files read from the tree page.
pub fn hub_answers(revision: &[u8], tree: &[u8], headers: &str) -> usize {
    use crate::cache::pull::hub;
    if let Ok(info) = serde_json::from_slice::<hub::RepoInfo>(revision) {
        std::hint::black_box(info.siblings.len());
    }
    let files = serde_json::from_slice::<Vec<hub::TreeItem>>(tree)
        .map_or(0, |items| hub::tree_files(items, "fuzz").map_or(0, |files| files.len()));
    let map = header_map(headers);
    std::hint::black_box((hub::next_page(&map), hub::etag_of(&map)));
    files
}

fn header_map(text: &str) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in text.lines().filter_map(|line| line.split_once(':')) {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.trim().as_bytes()), HeaderValue::from_str(value.trim()))
        {
            map.append(name, value);
        }
    }
    map
}

/// Kubernetes: one watch event (`{"type": "ADDED", "object": {...}}`) per line, of the kinds
/// the adapter watches, read into the rows and the model as the console does.
pub fn kube_watch_events(text: &str) -> usize {
    use crate::backend::kubernetes::{rows, to_model, watch};
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Event, Pod};
    use kube::core::WatchEvent;

    let mut pods = Vec::new();
    let mut read = 0;
    for line in text.lines() {
        if let Ok(WatchEvent::Added(pod) | WatchEvent::Modified(pod) | WatchEvent::Deleted(pod)) =
            serde_json::from_str::<WatchEvent<Pod>>(line)
        {
            pods.push(rows::pod_row(&pod));
            read += 1;
        }
        if let Ok(WatchEvent::Added(event) | WatchEvent::Modified(event)) =
            serde_json::from_str::<WatchEvent<Event>>(line)
        {
            std::hint::black_box(watch::event_row(&event));
            read += 1;
        }
        if let Ok(WatchEvent::Added(d) | WatchEvent::Modified(d)) =
            serde_json::from_str::<WatchEvent<Deployment>>(line)
        {
            std::hint::black_box(rows::deployment_row(&d, pods.clone()));
            std::hint::black_box(to_model::to_deployment(&d, pods.clone()));
            read += 1;
        }
    }
    read
}
