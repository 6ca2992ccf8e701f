//! Cluster effects, through the registry's cluster capability (never a downcast): node GPU
//! inventory, operator resources and cache PVCs, the kubeconfig's contexts, the namespaces,
//! and switching the Kubernetes backend to another context or namespace.

use std::sync::Arc;

use super::Effects;
use crate::backend::kubernetes::KubernetesBackend;
use crate::tui::event::Event;
use crate::tui::features::cluster::{ClusterCommand, ClusterEvent, ClusterInventory, scope_text};

impl Effects {
    pub(super) fn cluster(&self, command: ClusterCommand) {
        if let ClusterCommand::Switch(target) = command {
            // Synchronous (building the backend does no I/O), so the listing and inventory
            // commands that follow in the same batch already reach the new context.
            let kube = Arc::new(KubernetesBackend::watching(target.0));
            self.backends.write().expect("backends lock").set_cluster(kube.clone(), kube);
            return;
        }
        let cluster = self.backends.read().expect("backends lock").cluster().cloned();
        let events = self.events.clone();
        tokio::spawn(async move {
            let event = match command {
                ClusterCommand::Refresh { generation } => ClusterEvent::Inventory {
                    generation,
                    inventory: Box::new(read_inventory(cluster.as_deref()).await),
                },
                ClusterCommand::Contexts { kubeconfig } => {
                    // Reading the kubeconfig is file I/O: off the async workers.
                    let read = tokio::task::spawn_blocking(move || {
                        crate::backend::kubernetes::list_contexts(kubeconfig.as_deref())
                    })
                    .await;
                    ClusterEvent::Contexts(match read {
                        Ok(result) => result.map_err(|e| e.to_string()),
                        Err(err) => Err(err.to_string()),
                    })
                }
                ClusterCommand::Namespaces => {
                    ClusterEvent::Namespaces(match connect(cluster.as_deref()).await {
                        Ok(kube) => kube.namespaces().await.map_err(|e| e.to_string()),
                        Err(err) => Err(err),
                    })
                }
                ClusterCommand::Switch(_) => return,
            };
            Effects::send(&events, Event::Cluster(event)).await;
        });
    }
}

async fn connect(
    cluster: Option<&KubernetesBackend>,
) -> Result<&crate::backend::kubernetes::KubeBackend, String> {
    let cluster = cluster.ok_or_else(|| "no Kubernetes backend is open".to_string())?;
    cluster.cluster().await.map_err(|e| e.to_string())
}

async fn read_inventory(cluster: Option<&KubernetesBackend>) -> ClusterInventory {
    let kube = match connect(cluster).await {
        Ok(kube) => kube,
        Err(err) => {
            return ClusterInventory {
                scope: cluster.map(|k| scope_text(k.target())).unwrap_or_default(),
                nodes: Err(err.clone()),
                operators: Err(err.clone()),
                caches: Err(err),
            };
        }
    };
    let (nodes, operators, caches) =
        tokio::join!(kube.node_gpus(), kube.operator_resources(), kube.cache_pvcs());
    ClusterInventory {
        scope: format!("{}/{}", kube.context().unwrap_or("in-cluster"), kube.namespace()),
        nodes: nodes.map_err(|e| e.to_string()),
        operators: operators.map_err(|e| e.to_string()),
        caches: caches.map_err(|e| e.to_string()),
    }
}
