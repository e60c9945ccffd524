//! The console's JSON API under `/api` — what its pages use, and scripts may too. Errors are
//! `{"error": "…"}` with a 4xx or 5xx status.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value as Json, json};

use crate::browse::{self, BrowseRequest, Decode, Start};
use crate::cluster::{
    Cluster, ClusterError, ConfigChange, NewTopicRequest, ProduceRequest, ResetRequest,
};
use crate::metrics::Sampler;

/// What the API serves from.
pub struct Console {
    /// The cluster.
    pub cluster: Arc<Cluster>,
    /// The live numbers.
    pub sampler: Sampler,
    /// Which services beside the cluster are configured.
    pub services: Services,
}

/// The services the console links to, as `/api/overview` reports them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Services {
    /// The schema registry's URL.
    pub schema_registry: Option<String>,
    /// Kafka Connect's URL.
    pub connect: Option<String>,
    /// Brook SQL's URL.
    pub sql: Option<String>,
}

type AppState = Arc<Console>;

/// The `/api` routes.
pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/api/overview", get(overview))
        .route("/api/topics", get(topics).post(create_topic))
        .route("/api/topics/{name}", get(topic).delete(delete_topic))
        .route("/api/topics/{name}/messages", get(messages).post(produce))
        .route("/api/topics/{name}/schemas", get(topic_schemas))
        .route(
            "/api/topics/{name}/configs",
            axum::routing::patch(alter_configs),
        )
        .route(
            "/api/topics/{name}/partitions",
            axum::routing::post(add_partitions),
        )
        .route("/api/topics/{name}/empty", axum::routing::post(empty_topic))
        .route("/api/groups", get(groups))
        .route("/api/groups/{name}", get(group).delete(delete_group))
        .route("/api/groups/{name}/reset", axum::routing::post(reset_group))
        .route("/api/metrics", get(metrics))
        .route("/api/metrics/topics/{name}", get(topic_metrics))
        .with_state(console)
}

fn error(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(json!({ "error": message }))).into_response()
}

impl IntoResponse for ClusterError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = match self.field {
            Some(field) => json!({ "error": self.message, "field": field }),
            None => json!({ "error": self.message }),
        };
        (status, axum::Json(body)).into_response()
    }
}

/// Runs a blocking cluster call off the async threads and answers with its JSON.
async fn answer<T: serde::Serialize + Send + 'static>(
    console: AppState,
    f: impl FnOnce(&Cluster) -> Result<T, ClusterError> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(move || f(&console.cluster)).await {
        Ok(Ok(body)) => axum::Json(body).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(_) => error(500, "the request failed"),
    }
}

async fn overview(State(c): State<AppState>) -> Response {
    let services = c.services.clone();
    answer(c, move |c| {
        let overview = c.overview()?;
        Ok(json!({
            "cluster_id": overview.cluster_id,
            "brokers": overview.brokers,
            "topics": overview.topics,
            "partitions": overview.partitions,
            "groups": overview.groups,
            "services": services,
        }))
    })
    .await
}

async fn metrics(State(c): State<AppState>) -> Response {
    axum::Json(c.sampler.metrics()).into_response()
}

async fn topic_metrics(State(c): State<AppState>, Path(name): Path<String>) -> Response {
    let samples: Vec<Json> = c
        .sampler
        .topic_history(&name)
        .into_iter()
        .map(|(time, records, bytes)| {
            json!({"time": time, "records_per_sec": records, "bytes_per_sec": bytes})
        })
        .collect();
    axum::Json(json!({ "topic": name, "samples": samples })).into_response()
}

async fn topics(State(c): State<AppState>) -> Response {
    answer(c, Cluster::topics).await
}

async fn topic(State(c): State<AppState>, Path(name): Path<String>) -> Response {
    answer(c, move |c| c.topic(&name)).await
}

async fn create_topic(State(c): State<AppState>, body: Bytes) -> Response {
    let request: NewTopicRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(400, &format!("the request is not a topic: {e}")),
    };
    let name = request.name.clone();
    match tokio::task::spawn_blocking(move || c.cluster.create_topic(&request)).await {
        Ok(Ok(())) => (StatusCode::CREATED, axum::Json(json!({ "name": name }))).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(_) => error(500, "the request failed"),
    }
}

async fn delete_topic(State(c): State<AppState>, Path(name): Path<String>) -> Response {
    match tokio::task::spawn_blocking(move || c.cluster.delete_topic(&name)).await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(_) => error(500, "the request failed"),
    }
}

/// The message browser's query: `partition`, `from` (`newest`, `oldest`, `offset`,
/// `timestamp`), `offset`, `timestamp`, `cursor`, `limit`, `key`, `value`, `header`, `format`.
#[derive(Debug, serde::Deserialize)]
struct MessagesQuery {
    partition: Option<i32>,
    from: Option<String>,
    offset: Option<i64>,
    timestamp: Option<i64>,
    cursor: Option<String>,
    limit: Option<usize>,
    key: Option<String>,
    value: Option<String>,
    header: Option<String>,
    format: Option<String>,
}

impl MessagesQuery {
    fn request(self) -> Result<BrowseRequest, ClusterError> {
        let bad = ClusterError::bad_request;
        let start =
            match self.from.as_deref().unwrap_or("newest") {
                "newest" => Start::Newest,
                "oldest" => Start::Oldest,
                "offset" => Start::Offset(
                    self.offset
                        .ok_or_else(|| bad("from=offset needs offset=…".to_string()))?,
                ),
                "timestamp" => Start::Timestamp(self.timestamp.ok_or_else(|| {
                    bad("from=timestamp needs timestamp=… (epoch ms)".to_string())
                })?),
                other => {
                    return Err(bad(format!(
                        "from must be newest, oldest, offset or timestamp, not '{other}'"
                    )));
                }
            };
        Ok(BrowseRequest {
            partition: self.partition,
            start,
            cursor: self
                .cursor
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(browse::parse_positions)
                .transpose()?,
            limit: self.limit.unwrap_or(100),
            key: self.key,
            value: self.value,
            header: self.header,
            decode: Decode::parse(self.format.as_deref().unwrap_or("auto"))?,
        })
    }
}

async fn messages(
    State(c): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<MessagesQuery>,
) -> Response {
    let request = match query.request() {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    answer(c, move |c| c.messages(&name, &request)).await
}

async fn produce(State(c): State<AppState>, Path(name): Path<String>, body: Bytes) -> Response {
    let request: ProduceRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(400, &format!("the request is not a message: {e}")),
    };
    answer(c, move |c| c.produce(&name, &request)).await
}

async fn topic_schemas(State(c): State<AppState>, Path(name): Path<String>) -> Response {
    answer(c, move |c| c.topic_schemas(&name)).await
}

async fn groups(State(c): State<AppState>) -> Response {
    answer(c, Cluster::groups).await
}

async fn group(State(c): State<AppState>, Path(name): Path<String>) -> Response {
    let history = c.sampler.lag_history(&name);
    answer(c, move |c| {
        let view = c.group(&name)?;
        let mut body = serde_json::to_value(&view).unwrap_or_default();
        body["total_lag"] = json!(view.total_lag());
        body["lag_history"] = json!(history);
        Ok(body)
    })
    .await
}

async fn reset_group(State(c): State<AppState>, Path(name): Path<String>, body: Bytes) -> Response {
    let request: ResetRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(400, &format!("the request is not a reset: {e}")),
    };
    answer(c, move |c| c.reset_group(&name, &request)).await
}

async fn delete_group(State(c): State<AppState>, Path(name): Path<String>) -> Response {
    match tokio::task::spawn_blocking(move || c.cluster.delete_group(&name)).await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(_) => error(500, "the request failed"),
    }
}

async fn alter_configs(
    State(c): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let change: ConfigChange = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(400, &format!("the request is not a config change: {e}")),
    };
    answer(c, move |c| {
        c.alter_configs(&name, &change)?;
        Ok(json!({ "topic": name }))
    })
    .await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PartitionCount {
    count: usize,
}

async fn add_partitions(
    State(c): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let request: PartitionCount = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return ClusterError::bad_request(format!("the request is not {{\"count\": n}}: {e}"))
                .on("count")
                .into_response();
        }
    };
    answer(c, move |c| {
        c.add_partitions(&name, request.count)?;
        Ok(json!({ "topic": name, "partitions": request.count }))
    })
    .await
}

async fn empty_topic(State(c): State<AppState>, Path(name): Path<String>) -> Response {
    answer(c, move |c| {
        let deleted = c.empty_topic(&name)?;
        Ok(json!({ "topic": name, "deleted": deleted }))
    })
    .await
}
