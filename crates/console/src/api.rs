//! The console's JSON API under `/api` — what its pages use, and scripts may too. Errors are
//! `{"error": "…"}` with a 4xx or 5xx status.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::cluster::{Cluster, ClusterError, NewTopicRequest};

type AppState = Arc<Cluster>;

/// The `/api` routes.
pub fn router(cluster: Arc<Cluster>) -> Router {
    Router::new()
        .route("/api/overview", get(overview))
        .route("/api/topics", get(topics).post(create_topic))
        .route("/api/topics/{name}", get(topic).delete(delete_topic))
        .with_state(cluster)
}

fn error(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(json!({ "error": message }))).into_response()
}

impl IntoResponse for ClusterError {
    fn into_response(self) -> Response {
        error(self.status, &self.message)
    }
}

/// Runs a blocking cluster call off the async threads and answers with its JSON.
async fn answer<T: serde::Serialize + Send + 'static>(
    cluster: AppState,
    f: impl FnOnce(&Cluster) -> Result<T, ClusterError> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(move || f(&cluster)).await {
        Ok(Ok(body)) => axum::Json(body).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(_) => error(500, "the request failed"),
    }
}

async fn overview(State(c): State<AppState>) -> Response {
    answer(c, Cluster::overview).await
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
    match tokio::task::spawn_blocking(move || c.create_topic(&request)).await {
        Ok(Ok(())) => (StatusCode::CREATED, axum::Json(json!({ "name": name }))).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(_) => error(500, "the request failed"),
    }
}

async fn delete_topic(State(c): State<AppState>, Path(name): Path<String>) -> Response {
    match tokio::task::spawn_blocking(move || c.delete_topic(&name)).await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(_) => error(500, "the request failed"),
    }
}
