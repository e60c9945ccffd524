//! A Brook broker and schema registries in the test process, and a small HTTP client.
#![allow(dead_code)]

use std::time::Duration;

use brook_registry::{RegistryConfig, RegistryServer};
use serde_json::Value;

/// A broker for the registry's `_schemas` topic.
pub async fn broker(dir: &std::path::Path) -> brook_broker::Broker {
    brook_broker::Broker::start(brook_broker::BrokerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        group_initial_rebalance_delay: Duration::from_millis(0),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// A registry on a free port, on `broker`.
pub async fn registry(broker: &brook_broker::Broker) -> RegistryServer {
    RegistryServer::start(RegistryConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        cluster: brook_client::ClusterSettings::new(broker.local_addr().to_string()),
        topic: "_schemas".into(),
        advertised_url: None,
    })
    .await
    .unwrap()
}

/// Blocking HTTP calls to one registry; answers are (status, JSON body).
pub struct Api {
    agent: ureq::Agent,
    base: String,
}

impl Api {
    /// A client for the registry at `addr`.
    pub fn new(addr: std::net::SocketAddr) -> Api {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Api {
            agent,
            base: format!("http://{addr}"),
        }
    }

    fn finish(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
        let mut response = response.unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// GET.
    pub fn get(&self, path: &str) -> (u16, Value) {
        Self::finish(self.agent.get(format!("{}{path}", self.base)).call())
    }

    /// DELETE.
    pub fn delete(&self, path: &str) -> (u16, Value) {
        Self::finish(self.agent.delete(format!("{}{path}", self.base)).call())
    }

    /// POST with a body and Confluent's content type.
    pub fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.post_as(path, body, "application/vnd.schemaregistry.v1+json")
    }

    /// POST with a given content type.
    pub fn post_as(&self, path: &str, body: &str, content_type: &str) -> (u16, Value) {
        Self::finish(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("Content-Type", content_type)
                .send(body),
        )
    }

    /// PUT.
    pub fn put(&self, path: &str, body: &str) -> (u16, Value) {
        Self::finish(
            self.agent
                .put(format!("{}{path}", self.base))
                .header("Content-Type", "application/json")
                .send(body),
        )
    }
}

/// A registration body for an Avro schema given as JSON text.
pub fn avro_body(schema: &str) -> String {
    serde_json::json!({ "schema": schema }).to_string()
}
