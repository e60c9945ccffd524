//! A broker, a schema registry and a REST proxy in this process, and plain-HTTP calls.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use brook_broker::{Broker, BrokerConfig};
use brook_client::ClusterSettings;
use brook_rest::{RestConfig, RestServer};
use serde_json::Value as Json;

pub struct Stack {
    pub runtime: tokio::runtime::Runtime,
    pub broker: Option<Broker>,
    registry: Option<brook_registry::RegistryServer>,
    rest: Option<RestServer>,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Stack {
    pub fn start(instance_timeout: Duration) -> Stack {
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
                group_initial_rebalance_delay: Duration::ZERO,
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
        let mut config = RestConfig::new(ClusterSettings::new(bootstrap));
        config.schema_registry_url = Some(format!("http://{}", registry.local_addr()));
        config.consumer_instance_timeout = instance_timeout;
        config.max_body_bytes = 1 << 20;
        let rest = runtime
            .block_on(RestServer::start(config, "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        Stack {
            url: format!("http://{}", rest.local_addr()),
            runtime,
            broker: Some(broker),
            registry: Some(registry),
            rest: Some(rest),
            _dir: dir,
        }
    }

    /// A request with `content_type` (and `accept`), answering (status, JSON or Null).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&str>,
        accept: Option<&str>,
    ) -> (u16, Json) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let url = format!("{}{path}", self.url);
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Content-Type", content_type)
            .header("Accept", accept.unwrap_or("application/vnd.kafka.v2+json"))
            .body(body.unwrap_or("").to_string())
            .unwrap();
        let mut response = agent.run(request).unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Json::Null))
    }

    pub fn post(&self, path: &str, content_type: &str, body: &Json) -> (u16, Json) {
        self.call("POST", path, content_type, Some(&body.to_string()), None)
    }

    pub fn get(&self, path: &str) -> (u16, Json) {
        self.call("GET", path, "application/vnd.kafka.v2+json", None, None)
    }

    pub fn end_offsets(&self, topic: &str) -> i64 {
        let (_, partitions) = self.get(&format!("/topics/{topic}/partitions"));
        partitions
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let id = p["partition"].as_i64().unwrap();
                let (_, o) = self.get(&format!("/topics/{topic}/partitions/{id}/offsets"));
                o["end_offset"].as_i64().unwrap()
            })
            .sum()
    }

    /// The broker's address.
    pub fn bootstrap(&self) -> String {
        self.broker.as_ref().unwrap().local_addr().to_string()
    }

    pub fn create_topic(&self, name: &str, partitions: i32) {
        let bootstrap = self.broker.as_ref().unwrap().local_addr().to_string();
        let admin: rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext> =
            rdkafka::ClientConfig::new()
                .set("bootstrap.servers", &bootstrap)
                .create()
                .unwrap();
        let topic = rdkafka::admin::NewTopic::new(
            name,
            partitions,
            rdkafka::admin::TopicReplication::Fixed(1),
        );
        let result = brook_client::block_on(
            admin.create_topics(&[topic], &rdkafka::admin::AdminOptions::new()),
        )
        .unwrap();
        assert!(result[0].is_ok(), "{result:?}");
    }

    /// Reads from an instance until `want` records came or 60 s passed.
    pub fn read_all(&self, base: &str, format: &str, want: usize) -> Vec<Json> {
        let mut records = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while records.len() < want {
            assert!(
                Instant::now() < deadline,
                "only {} of {want}",
                records.len()
            );
            let (status, got) = self.call(
                "GET",
                &format!("{base}/records?timeout=500"),
                "application/vnd.kafka.v2+json",
                None,
                Some(&format!("application/vnd.kafka.{format}.v2+json")),
            );
            assert_eq!(status, 200, "{got}");
            records.extend(got.as_array().unwrap().iter().cloned());
        }
        records
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(r) = self.rest.take() {
            self.runtime.block_on(r.shutdown());
        }
        if let Some(r) = self.registry.take() {
            self.runtime.block_on(r.shutdown());
        }
        drop(self.broker.take());
    }
}
