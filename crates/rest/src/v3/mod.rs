//! Confluent's REST Proxy API v3 (`/v3/clusters/{cluster_id}/…`): the cluster, its brokers,
//! topics and their configs and partitions ([`topics`]), consumer groups and their lags
//! ([`groups`]), and records ([`records`], one request or a stream of them). Resources carry
//! `kind`, `metadata.self` (and `resource_name`) and `related` links as Confluent's do;
//! lists are `{"kind": "Kafka…List", "metadata": {"self", "next"}, "data": [...]}`.

pub mod groups;
pub mod records;
pub mod topics;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::error::RestError;
use crate::v2::{Proxy, blocking};

pub(crate) type AppState = Arc<Proxy>;

/// The v3 routes.
pub fn router(proxy: Arc<Proxy>) -> Router {
    let c = "/v3/clusters/{cluster_id}";
    Router::new()
        .route("/v3/clusters", get(clusters))
        .route(c, get(cluster))
        .route(&format!("{c}/brokers"), get(topics::brokers))
        .route(&format!("{c}/brokers/{{broker_id}}"), get(topics::broker))
        .route(
            &format!("{c}/brokers/{{broker_id}}/configs"),
            get(topics::broker_configs),
        )
        .route(
            &format!("{c}/topics"),
            get(topics::list).post(topics::create),
        )
        .route(
            &format!("{c}/topics/{{topic}}"),
            get(topics::get).delete(topics::delete),
        )
        .route(
            &format!("{c}/topics/{{topic}}/configs"),
            get(topics::configs),
        )
        .route(
            &format!("{c}/topics/{{topic}}/configs:alter"),
            post(topics::alter_configs),
        )
        .route(
            &format!("{c}/topics/{{topic}}/configs/{{name}}"),
            get(topics::config)
                .put(topics::update_config)
                .delete(topics::reset_config),
        )
        .route(
            &format!("{c}/topics/{{topic}}/partitions"),
            get(topics::partitions),
        )
        .route(
            &format!("{c}/topics/{{topic}}/partitions/{{partition}}"),
            get(topics::partition),
        )
        .route(
            &format!("{c}/topics/{{topic}}/records"),
            post(records::produce),
        )
        .route(&format!("{c}/consumer-groups"), get(groups::list))
        .route(&format!("{c}/consumer-groups/{{group}}"), get(groups::get))
        .route(
            &format!("{c}/consumer-groups/{{group}}/consumers"),
            get(groups::consumers),
        )
        .route(
            &format!("{c}/consumer-groups/{{group}}/consumers/{{consumer}}/assignments"),
            get(groups::assignments),
        )
        .route(
            &format!("{c}/consumer-groups/{{group}}/lags"),
            get(groups::lags),
        )
        .route(
            &format!("{c}/consumer-groups/{{group}}/lag-summary"),
            get(groups::lag_summary),
        )
        .with_state(proxy)
}

/// `http://host` of the request, for the links in answers.
pub(crate) fn base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost:8082");
    format!("http://{host}")
}

/// A resource's `metadata`.
pub(crate) fn metadata(url: &str, resource_name: &str) -> Value {
    json!({ "self": url, "resource_name": resource_name })
}

/// A list answer.
pub(crate) fn list(kind: &str, url: &str, data: Vec<Value>) -> Value {
    json!({ "kind": kind, "metadata": { "self": url, "next": null }, "data": data })
}

/// The cluster id, checked against the path's (404 when another).
pub(crate) fn check_cluster(p: &Proxy, cluster_id: &str) -> Result<String, RestError> {
    let id = p.kafka.cluster_id()?;
    if id != cluster_id {
        return Err(RestError::new(
            404,
            404,
            format!("Cluster {cluster_id} cannot be found."),
        ));
    }
    Ok(id)
}

pub(crate) async fn answer(
    f: impl FnOnce() -> Result<Value, RestError> + Send + 'static,
) -> Response {
    match blocking(f).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn cluster_json(p: &Proxy, base: &str, id: &str) -> Result<Value, RestError> {
    let url = format!("{base}/v3/clusters/{id}");
    let controller = p
        .kafka
        .metadata(None)?
        .brokers()
        .iter()
        .map(|b| b.id())
        .min()
        .unwrap_or(1);
    Ok(json!({
        "kind": "KafkaCluster",
        "metadata": metadata(&url, &format!("crn:///kafka={id}")),
        "cluster_id": id,
        "controller": { "related": format!("{url}/brokers/{controller}") },
        "acls": { "related": format!("{url}/acls") },
        "brokers": { "related": format!("{url}/brokers") },
        "broker_configs": { "related": format!("{url}/broker-configs") },
        "consumer_groups": { "related": format!("{url}/consumer-groups") },
        "topics": { "related": format!("{url}/topics") },
        "partition_reassignments": { "related": format!("{url}/topics/-/partitions/-/reassignment") },
    }))
}

async fn clusters(State(p): State<AppState>, headers: HeaderMap) -> Response {
    let base = base(&headers);
    answer(move || {
        let id = p.kafka.cluster_id()?;
        Ok(list(
            "KafkaClusterList",
            &format!("{base}/v3/clusters"),
            vec![cluster_json(&p, &base, &id)?],
        ))
    })
    .await
}

async fn cluster(
    State(p): State<AppState>,
    Path(cluster_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let id = check_cluster(&p, &cluster_id)?;
        cluster_json(&p, &base, &id)
    })
    .await
}
