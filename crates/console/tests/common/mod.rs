//! A broker, a schema registry and a console in this process, and plain-HTTP calls to it.

#![allow(dead_code)]

use std::time::Duration;

use brook_broker::{Broker, BrokerConfig};
use brook_client::ClusterSettings;
use brook_console::{ConsoleConfig, ConsoleServer};
use serde_json::Value as Json;

/// The services one test talks to.
pub struct Stack {
    pub runtime: tokio::runtime::Runtime,
    pub broker: Option<Broker>,
    pub registry: Option<brook_registry::RegistryServer>,
    pub console: Option<ConsoleServer>,
    /// The console's base URL.
    pub url: String,
    /// The broker's address.
    pub bootstrap: String,
    /// The registry's base URL.
    pub registry_url: String,
    _dir: tempfile::TempDir,
}

impl Stack {
    pub fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let broker = runtime.block_on(async {
            Broker::start(BrokerConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                data_dir: dir.path().join("data"),
                metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
                ..BrokerConfig::default()
            })
            .await
            .unwrap()
        });
        let bootstrap = broker.local_addr().to_string();
        let registry = runtime
            .block_on(brook_registry::RegistryServer::start(
                brook_registry::RegistryConfig {
                    listen: "127.0.0.1:0".parse().unwrap(),
                    cluster: ClusterSettings::new(bootstrap.clone()),
                    topic: "_schemas".into(),
                    advertised_url: None,
                },
            ))
            .unwrap();
        let registry_url = format!("http://{}", registry.local_addr());
        let mut config = ConsoleConfig::new(ClusterSettings::new(bootstrap.clone()));
        config.schema_registry_url = Some(registry_url.clone());
        config.metrics_urls = broker
            .metrics_addr()
            .map(|a| format!("http://{a}/metrics"))
            .into_iter()
            .collect();
        let console = runtime
            .block_on(ConsoleServer::start(config, "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        Stack {
            url: format!("http://{}", console.local_addr()),
            runtime,
            broker: Some(broker),
            registry: Some(registry),
            console: Some(console),
            bootstrap,
            registry_url,
            _dir: dir,
        }
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Json>) -> (u16, String) {
        call(&self.url, method, path, body)
    }

    pub fn json(&self, method: &str, path: &str, body: Option<Json>) -> (u16, Json) {
        let (status, text) = self.call(method, path, body);
        (status, serde_json::from_str(&text).unwrap_or(Json::Null))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(c) = self.console.take() {
            self.runtime.block_on(c.shutdown());
        }
        if let Some(r) = self.registry.take() {
            self.runtime.block_on(r.shutdown());
        }
        drop(self.broker.take());
    }
}

pub fn call(url: &str, method: &str, path: &str, body: Option<Json>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let url = format!("{url}{path}");
    let mut response = match (method, body) {
        ("GET", _) => agent.get(&url).call(),
        ("DELETE", _) => agent.delete(&url).call(),
        (_, Some(b)) => agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(b.to_string()),
        _ => agent.post(&url).send_empty(),
    }
    .unwrap();
    (
        response.status().as_u16(),
        response.body_mut().read_to_string().unwrap(),
    )
}
