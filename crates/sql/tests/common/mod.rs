//! A broker and a Brook SQL server in this process, and an HTTP client for ksqlDB's REST API.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::time::Duration;

use brook_broker::{Broker, BrokerConfig};
use brook_client::ClusterSettings;
use brook_sql::engine::{Engine, EngineConfig};
use brook_sql::server::SqlServer;
use serde_json::Value as Json;

/// A broker and a SQL server on free loopback ports.
pub struct Stack {
    pub runtime: tokio::runtime::Runtime,
    pub broker: Option<Broker>,
    pub registry: Option<brook_registry::RegistryServer>,
    pub registry_url: String,
    pub server: Option<SqlServer>,
    pub bootstrap: String,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Stack {
    pub fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
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
        let registry = runtime.block_on(async {
            brook_registry::RegistryServer::start(brook_registry::RegistryConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                cluster: ClusterSettings::new(&bootstrap),
                topic: "_schemas".into(),
                advertised_url: None,
            })
            .await
            .unwrap()
        });
        let registry_url = format!("http://{}", registry.local_addr());
        let mut stack = Stack {
            runtime,
            broker: Some(broker),
            registry: Some(registry),
            registry_url,
            server: None,
            bootstrap,
            url: String::new(),
            dir,
        };
        stack.start_sql();
        stack
    }

    /// Starts (or restarts) the SQL server on the same state.
    pub fn start_sql(&mut self) {
        let server = self.another_sql("ksql-state");
        self.url = format!("http://{}", server.local_addr());
        self.server = Some(server);
    }

    /// Another SQL server with the same service id on the same cluster, its state in
    /// `state_dir` (under the stack's directory).
    pub fn another_sql(&self, state_dir: &str) -> SqlServer {
        let mut config = EngineConfig::new(
            ClusterSettings::new(&self.bootstrap),
            self.dir.path().join(state_dir),
        );
        config.commit_interval = Duration::from_millis(200);
        config.schema_registry_url = Some(self.registry_url.clone());
        let engine = Engine::start(config).unwrap();
        self.runtime
            .block_on(SqlServer::start(
                engine,
                "127.0.0.1:0".parse::<SocketAddr>().unwrap(),
            ))
            .unwrap()
    }

    pub fn stop_sql(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }

    /// POST /ksql: the status and the body.
    pub fn ksql(&self, statement: &str) -> (u16, Json) {
        ksql_at(&self.url, statement)
    }

    /// POST /ksql expecting success.
    pub fn ksql_ok(&self, statement: &str) -> Json {
        let (status, body) = self.ksql(statement);
        assert_eq!(status, 200, "{statement}: {body}");
        body
    }

    pub fn post(&self, path: &str, body: &Json) -> (u16, Json) {
        let mut response = agent()
            .post(&format!("{}{path}", self.url))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Json::String(text)),
        )
    }

    pub fn get(&self, path: &str) -> (u16, Json) {
        let mut response = agent().get(&format!("{}{path}", self.url)).call().unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Json::String(text)),
        )
    }

    /// POST a query to /query-stream (delimited): the response's lines, read as they come.
    pub fn query_stream(&self, sql: &str, properties: Json) -> Lines {
        let response = agent()
            .post(&format!("{}/query-stream", self.url))
            .header("Accept", "application/vnd.ksqlapi.delimited.v1")
            .send(serde_json::json!({"sql": sql, "properties": properties}).to_string())
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        Lines(BufReader::new(Box::new(response.into_body().into_reader())))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop_sql();
        if let Some(registry) = self.registry.take() {
            self.runtime.block_on(registry.shutdown());
        }
        if let Some(broker) = self.broker.take() {
            self.runtime.block_on(broker.shutdown());
        }
    }
}

pub struct Lines(pub BufReader<Box<dyn Read + Send>>);

impl Lines {
    /// The next line as JSON, or None at the end of the response.
    pub fn next_json(&mut self) -> Option<Json> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.0.read_line(&mut line).unwrap() == 0 {
                return None;
            }
            if !line.trim().is_empty() {
                return Some(serde_json::from_str(line.trim()).unwrap());
            }
        }
    }
}

/// POST /ksql to the server at `url`: the status and the body.
pub fn ksql_at(url: &str, statement: &str) -> (u16, Json) {
    let mut response = agent()
        .post(&format!("{url}/ksql"))
        .header("Content-Type", "application/json")
        .send(serde_json::json!({"ksql": statement, "streamsProperties": {"auto.offset.reset": "earliest"}}).to_string())
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Json::String(text)),
    )
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// Polls `f` until it returns Some, for up to `secs` seconds.
pub fn eventually<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(200));
    }
}
