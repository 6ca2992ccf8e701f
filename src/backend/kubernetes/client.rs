//! Connecting to a cluster: kubeconfig (`--kubeconfig`, else `KUBECONFIG`, else
//! `~/.kube/config`), a context, a namespace, or the in-cluster service account; and discovery
//! of the optional APIs the renderer and the views adapt to.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde::Serialize;

use super::errors::K8sError;

/// Where to connect. Every field is optional: the defaults are those of `kubectl`.
#[derive(Debug, Clone, Default)]
pub struct KubeTarget {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// Deadline for each API call (watches and followed logs excepted) [default: 30s].
    pub timeout: Option<Duration>,
}

/// One context of a kubeconfig, for the contexts view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KubeContextInfo {
    pub name: String,
    pub cluster: String,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub current: bool,
}

/// Optional APIs found by discovery; the renderer leaves out what the cluster cannot take.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClusterApis {
    pub autoscaling_v2: bool,
    pub policy_v1: bool,
    /// `monitoring.coreos.com` ServiceMonitor (Prometheus Operator).
    pub service_monitor: bool,
    /// `custom.metrics.k8s.io` (a metrics adapter), needed for an HPA on a Pods metric.
    pub custom_metrics: bool,
    /// NVIDIA NIM Operator `apps.nvidia.com` NIMService / NIMCache, with the served version.
    pub nim_operator: Option<String>,
    /// AMD AIM `aim.eai.amd.com` AIMService / AIMTemplateCache, with the served version.
    pub aim_operator: Option<String>,
    /// KServe `serving.kserve.io` InferenceService, with the served version.
    pub kserve: Option<String>,
    /// `leaderworkerset.x-k8s.io/v1` LeaderWorkerSet: needed for multi-node replicas.
    pub leader_worker_set: bool,
    /// KEDA `keda.sh/v1alpha1` ScaledObject: needed for `--autoscale keda`.
    pub keda: bool,
}

/// A connected cluster and the namespace aimdeck works in.
#[derive(Clone)]
pub struct KubeBackend {
    client: Client,
    namespace: String,
    context: Option<String>,
    timeout: Duration,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Lists the contexts of a kubeconfig (the explicit file, else `KUBECONFIG`/`~/.kube/config`).
pub fn list_contexts(kubeconfig: Option<&Path>) -> Result<Vec<KubeContextInfo>, K8sError> {
    let config = read_kubeconfig(kubeconfig)?;
    let current = config.current_context.clone();
    Ok(config
        .contexts
        .iter()
        .map(|named| {
            let context = named.context.as_ref();
            KubeContextInfo {
                name: named.name.clone(),
                cluster: context.map(|c| c.cluster.clone()).unwrap_or_default(),
                user: context.and_then(|c| c.user.clone()),
                namespace: context.and_then(|c| c.namespace.clone()),
                current: current.as_deref() == Some(named.name.as_str()),
            }
        })
        .collect())
}

fn read_kubeconfig(path: Option<&Path>) -> Result<Kubeconfig, K8sError> {
    match path {
        Some(path) => Kubeconfig::read_from(path)
            .map_err(|err| K8sError::Config(format!("{}: {err}", path.display()))),
        None => Kubeconfig::read()
            .map_err(|err| K8sError::Config(format!("$KUBECONFIG or ~/.kube/config: {err}"))),
    }
}

impl KubeBackend {
    /// Connects as `kubectl` would. The namespace is `target.namespace`, else the context's,
    /// else `default` (or the service account's namespace in a pod).
    pub async fn connect(target: &KubeTarget) -> Result<Self, K8sError> {
        let options = KubeConfigOptions { context: target.context.clone(), ..Default::default() };
        // The context in use, named even when it is the kubeconfig's current one, so the views
        // can say which cluster they show.
        let mut context = target.context.clone();
        let config = match (&target.kubeconfig, &target.context) {
            (Some(path), _) => {
                let kubeconfig = read_kubeconfig(Some(path))?;
                check_context(&kubeconfig, target.context.as_deref(), Some(path))?;
                context = context.or_else(|| kubeconfig.current_context.clone());
                Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|err| K8sError::Config(format!("{}: {err}", path.display())))?
            }
            (None, Some(_)) => {
                if let Ok(kubeconfig) = Kubeconfig::read() {
                    check_context(&kubeconfig, target.context.as_deref(), None)?;
                }
                Config::from_kubeconfig(&options)
                    .await
                    .map_err(|err| K8sError::Config(err.to_string()))?
            }
            (None, None) => {
                context = Kubeconfig::read().ok().and_then(|k| k.current_context);
                // kube's own text repeats every place it looked in a 300-character line; the
                // places are these two, so one short line says it.
                Config::infer().await.map_err(|_| {
                    K8sError::Config(
                        "no kubeconfig ($KUBECONFIG, ~/.kube/config) and not running in a pod"
                            .into(),
                    )
                })?
            }
        };
        Self::from_config(config, target, context)
    }

    fn from_config(
        mut config: Config,
        target: &KubeTarget,
        context: Option<String>,
    ) -> Result<Self, K8sError> {
        if let Some(namespace) = &target.namespace {
            config.default_namespace = namespace.clone();
        }
        let namespace = config.default_namespace.clone();
        // Every call is bounded by `call(timeout, ..)`; the connect bound also holds for the
        // watches, whose reads stay long (kube's default) so an idle watch is not cut.
        config.connect_timeout = Some(target.timeout.unwrap_or(DEFAULT_TIMEOUT));
        let client = Client::try_from(config)
            .map_err(|err| K8sError::Config(format!("cannot build the HTTP client: {err}")))?;
        Ok(KubeBackend {
            client,
            namespace,
            context,
            timeout: target.timeout.unwrap_or(DEFAULT_TIMEOUT),
        })
    }

    /// Wraps an existing client (tests, embedding).
    pub fn from_client(client: Client, namespace: &str) -> Self {
        KubeBackend {
            client,
            namespace: namespace.to_string(),
            context: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same cluster in another namespace (the namespace switcher).
    pub fn with_namespace(&self, namespace: &str) -> Self {
        KubeBackend { namespace: namespace.to_string(), ..self.clone() }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn context(&self) -> Option<&str> {
        self.context.as_deref()
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Namespaces the user may list (for the namespace switcher).
    pub async fn namespaces(&self) -> Result<Vec<String>, K8sError> {
        use k8s_openapi::api::core::v1::Namespace;
        let api: kube::Api<Namespace> = kube::Api::all(self.client.clone());
        let action = super::errors::Action {
            verb: "list",
            resource: "namespaces",
            name: None,
            namespace: None,
        };
        let list = super::errors::call(self.timeout, action, api.list(&Default::default())).await?;
        Ok(list.items.into_iter().filter_map(|ns| ns.metadata.name).collect())
    }

    /// Finds which optional APIs the cluster serves.
    pub async fn discover(&self) -> Result<ClusterApis, K8sError> {
        let action = super::errors::Action {
            verb: "get",
            resource: "/apis (discovery)",
            name: None,
            namespace: None,
        };
        let groups =
            super::errors::call(self.timeout, action, self.client.list_api_groups()).await?;
        let mut apis = ClusterApis::default();
        for group in &groups.groups {
            let versions: Vec<&str> = group.versions.iter().map(|v| v.version.as_str()).collect();
            let preferred = group
                .preferred_version
                .as_ref()
                .map(|v| v.version.clone())
                .or_else(|| versions.first().map(|v| v.to_string()));
            match group.name.as_str() {
                "autoscaling" => apis.autoscaling_v2 = versions.contains(&"v2"),
                "policy" => apis.policy_v1 = versions.contains(&"v1"),
                "monitoring.coreos.com" => apis.service_monitor = true,
                "custom.metrics.k8s.io" => apis.custom_metrics = true,
                "apps.nvidia.com" => apis.nim_operator = preferred,
                "aim.eai.amd.com" => apis.aim_operator = preferred,
                "serving.kserve.io" => apis.kserve = preferred,
                "leaderworkerset.x-k8s.io" => apis.leader_worker_set = versions.contains(&"v1"),
                "keda.sh" => apis.keda = versions.contains(&"v1alpha1"),
                _ => {}
            }
        }
        if apis.service_monitor {
            // The group can exist (PodMonitor, PrometheusRule) without the ServiceMonitor CRD.
            let action = super::errors::Action {
                verb: "get",
                resource: "/apis/monitoring.coreos.com/v1 (discovery)",
                name: None,
                namespace: None,
            };
            let resources = super::errors::call(
                self.timeout,
                action,
                self.client.list_api_group_resources("monitoring.coreos.com/v1"),
            )
            .await?;
            apis.service_monitor = resources.resources.iter().any(|r| r.name == "servicemonitors");
        }
        Ok(apis)
    }

    pub(crate) fn action<'a>(
        &'a self,
        verb: &'a str,
        resource: &'a str,
        name: Option<&'a str>,
    ) -> super::errors::Action<'a> {
        super::errors::Action { verb, resource, name, namespace: Some(&self.namespace) }
    }
}

fn check_context(
    kubeconfig: &Kubeconfig,
    context: Option<&str>,
    path: Option<&Path>,
) -> Result<(), K8sError> {
    let Some(wanted) = context else { return Ok(()) };
    if kubeconfig.contexts.iter().any(|c| c.name == wanted) {
        return Ok(());
    }
    let known: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
    let file = path
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "$KUBECONFIG or ~/.kube/config".into());
    Err(K8sError::Config(format!(
        "{file}: no context named `{wanted}`; the contexts are: {}",
        if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
    )))
}
