//! Kafka Connect's REST API on a [`Worker`]: the paths, bodies, status codes and error shape
//! (`{"error_code": 404, "message": "Connector x not found"}`) of Apache Kafka's.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value as Json, json};

use crate::data::Config;
use crate::loggers::{LoggerError, LoggerLevel, Loggers};
use crate::plugin;
use crate::worker::{TargetState, Worker, WorkerError, validate_all};

/// The Kafka Connect version the API answers as.
pub const CONNECT_VERSION: &str = "3.9.0";

type AppState = Arc<Worker>;

/// A running REST server.
pub struct ConnectServer {
    http: brook_client::http::HttpServer,
    worker: Arc<Worker>,
}

impl ConnectServer {
    /// Serves `worker` on `listen` (on the current tokio runtime); `/admin/loggers` shows the
    /// levels but cannot change them.
    pub async fn start(worker: Arc<Worker>, listen: SocketAddr) -> std::io::Result<ConnectServer> {
        Self::start_with_loggers(worker, listen, Arc::new(Loggers::new("INFO", None))).await
    }

    /// Serves `worker` on `listen`, with `/admin/loggers` changing the process's `loggers`.
    pub async fn start_with_loggers(
        worker: Arc<Worker>,
        listen: SocketAddr,
        loggers: Arc<Loggers>,
    ) -> std::io::Result<ConnectServer> {
        let http =
            brook_client::http::HttpServer::start(listen, router(worker.clone(), loggers)).await?;
        Ok(ConnectServer { http, worker })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// Stops serving, then stops the worker's tasks (committing their offsets).
    pub async fn shutdown(self) {
        self.http.stop().await;
        let worker = self.worker.clone();
        let _ = tokio::task::spawn_blocking(move || worker.shutdown()).await;
    }
}

fn router(worker: AppState, loggers: Arc<Loggers>) -> Router {
    let admin = Router::new()
        .route("/admin/loggers", get(list_loggers))
        .route("/admin/loggers/{logger}", get(get_logger).put(set_logger))
        .with_state(loggers);
    Router::new()
        .route("/", get(root))
        .route("/connectors", get(list).post(create))
        .route("/connectors/{name}", get(describe).delete(delete))
        .route("/connectors/{name}/config", get(config).put(put_config))
        .route("/connectors/{name}/status", get(status))
        .route("/connectors/{name}/tasks", get(tasks))
        .route("/connectors/{name}/tasks/{id}/status", get(task_status))
        .route("/connectors/{name}/tasks/{id}/restart", post(restart_task))
        .route("/connectors/{name}/restart", post(restart))
        .route("/connectors/{name}/pause", put(pause))
        .route("/connectors/{name}/resume", put(resume))
        .route("/connectors/{name}/stop", put(stop))
        .route(
            "/connectors/{name}/offsets",
            get(offsets).patch(alter_offsets).delete(reset_offsets),
        )
        .route(
            "/connectors/{name}/topics",
            get(active_topics).delete(reset_topics),
        )
        .route("/connectors/{name}/topics/reset", put(reset_topics))
        .route("/connector-plugins", get(plugins))
        .route("/connector-plugins/{plugin}/config", get(plugin_config))
        .route("/connector-plugins/{plugin}/config/validate", put(validate))
        .with_state(worker)
        .merge(admin)
        .fallback(not_found)
}

fn error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        axum::Json(json!({"error_code": status, "message": message})),
    )
        .into_response()
}

impl IntoResponse for WorkerError {
    fn into_response(self) -> Response {
        error(self.status, &self.message)
    }
}

/// A worker's answer as JSON, or its error.
fn reply<T: serde::Serialize>(answer: Result<T, WorkerError>) -> Response {
    match answer {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn not_found() -> Response {
    error(404, "HTTP 404 Not Found")
}

/// Runs blocking worker calls off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WorkerError> + Send + 'static,
) -> Result<T, WorkerError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Err(WorkerError {
            status: 500,
            message: "the request failed".into(),
        })
    })
}

/// A request's failure, answered as is.
type Refused = Box<Response>;

fn body_json(body: &Bytes) -> Result<Json, Refused> {
    serde_json::from_slice(body)
        .map_err(|e| Box::new(error(400, &format!("Request body is not valid JSON: {e}"))))
}

fn config_of(j: &Json) -> Result<Config, Refused> {
    crate::data::config_from_json(j).ok_or_else(|| {
        Box::new(error(
            400,
            "The connector configuration must be a JSON object",
        ))
    })
}

async fn root(State(w): State<AppState>) -> Response {
    axum::Json(json!({
        "version": CONNECT_VERSION,
        "commit": "brook",
        "kafka_cluster_id": w.kafka_cluster_id()
    }))
    .into_response()
}

fn info_json(w: &Worker, name: &str) -> Result<Json, WorkerError> {
    let info = w.connector(name)?;
    Ok(json!({
        "name": name,
        "config": info.config,
        "tasks": (0..info.tasks.len()).map(|t| json!({"connector": name, "task": t})).collect::<Vec<_>>(),
        "type": info.kind
    }))
}

fn status_json(w: &Worker, name: &str) -> Result<Json, WorkerError> {
    let (connector, tasks, kind) = w.status(name)?;
    let mut c = json!({"state": connector.state, "worker_id": connector.worker_id});
    if let Some(t) = connector.trace {
        c["trace"] = json!(t);
    }
    Ok(json!({
        "name": name,
        "connector": c,
        "tasks": tasks.iter().enumerate().map(|(id, t)| {
            let mut j = json!({"id": id, "state": t.state, "worker_id": t.worker_id});
            if let Some(trace) = &t.trace {
                j["trace"] = json!(trace);
            }
            j
        }).collect::<Vec<_>>(),
        "type": kind
    }))
}

async fn list(State(w): State<AppState>, Query(q): Query<Vec<(String, String)>>) -> Response {
    let names = w.connectors();
    // `?expand=status&expand=info`, as Kafka takes it (or comma-separated).
    let expand: Vec<&str> = q
        .iter()
        .filter(|(k, _)| k == "expand")
        .flat_map(|(_, v)| v.split(','))
        .collect();
    if expand.is_empty() {
        return axum::Json(names).into_response();
    }
    let mut out = serde_json::Map::new();
    for name in names {
        let mut entry = serde_json::Map::new();
        if expand.contains(&"status") {
            if let Ok(s) = status_json(&w, &name) {
                entry.insert("status".into(), s);
            }
        }
        if expand.contains(&"info") {
            if let Ok(i) = info_json(&w, &name) {
                entry.insert("info".into(), i);
            }
        }
        out.insert(name, Json::Object(entry));
    }
    axum::Json(Json::Object(out)).into_response()
}

async fn create(State(w): State<AppState>, body: Bytes) -> Response {
    let request = match body_json(&body) {
        Ok(j) => j,
        Err(r) => return *r,
    };
    let Some(name) = request["name"].as_str().map(str::to_string) else {
        return error(400, "Connector name is required");
    };
    let config = match config_of(&request["config"]) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let initial = match request["initial_state"].as_str() {
        None => None,
        Some("RUNNING") => Some(TargetState::Started),
        Some("PAUSED") => Some(TargetState::Paused),
        Some("STOPPED") => Some(TargetState::Stopped),
        Some(other) => {
            return error(
                400,
                &format!("Invalid initial state {other}: use RUNNING, PAUSED or STOPPED"),
            );
        }
    };
    save(w, name, config, false, initial).await
}

async fn describe(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    reply(info_json(&w, &name))
}

async fn config(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    reply(w.connector(&name).map(|info| info.config))
}

async fn put_config(State(w): State<AppState>, Path(name): Path<String>, body: Bytes) -> Response {
    let config = match body_json(&body).and_then(|j| config_of(&j)) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    save(w, name, config, true, None).await
}

/// Creates (201) or, with `allow_update`, reconfigures (200) a connector, answering with it.
async fn save(
    w: AppState,
    name: String,
    config: Config,
    allow_update: bool,
    initial: Option<TargetState>,
) -> Response {
    let (w2, n) = (w.clone(), name.clone());
    match blocking(move || w2.put_connector(&n, config, allow_update, initial)).await {
        Ok(created) => {
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            match info_json(&w, &name) {
                Ok(j) => (code, axum::Json(j)).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => e.into_response(),
    }
}

async fn delete(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    match blocking(move || w.delete_connector(&name)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn status(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    reply(status_json(&w, &name))
}

async fn tasks(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    match w.connector(&name) {
        Ok(info) => axum::Json(
            info.tasks
                .iter()
                .enumerate()
                .map(|(t, c)| json!({"id": {"connector": name, "task": t}, "config": c}))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn task_status(
    State(w): State<AppState>,
    Path((name, id)): Path<(String, usize)>,
) -> Response {
    match w.status(&name) {
        Ok((_, tasks, _)) => match tasks.get(id) {
            Some(t) => {
                let mut j = json!({"id": id, "state": t.state, "worker_id": t.worker_id});
                if let Some(trace) = &t.trace {
                    j["trace"] = json!(trace);
                }
                axum::Json(j).into_response()
            }
            None => error(404, &format!("No status found for task {name}-{id}")),
        },
        Err(e) => e.into_response(),
    }
}

async fn restart(
    State(w): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let flag = |k: &str| q.get(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let (include_tasks, only_failed) = (flag("includeTasks"), flag("onlyFailed"));
    let w2 = w.clone();
    let n = name.clone();
    match blocking(move || w2.restart(&n, include_tasks, only_failed)).await {
        // Kafka answers 204 for the plain form, 202 with the statuses for the KIP-745 form.
        Ok(()) if !include_tasks && !only_failed => StatusCode::NO_CONTENT.into_response(),
        Ok(()) => match status_json(&w, &name) {
            Ok(j) => (StatusCode::ACCEPTED, axum::Json(j)).into_response(),
            Err(e) => e.into_response(),
        },
        Err(e) => e.into_response(),
    }
}

async fn restart_task(
    State(w): State<AppState>,
    Path((name, id)): Path<(String, usize)>,
) -> Response {
    match blocking(move || w.restart_task(&name, id)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn set_target(w: AppState, name: String, target: TargetState) -> Response {
    match blocking(move || w.set_target(&name, target)).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn pause(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    set_target(w, name, TargetState::Paused).await
}

async fn resume(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    set_target(w, name, TargetState::Started).await
}

async fn stop(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    set_target(w, name, TargetState::Stopped).await
}

async fn offsets(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    reply(blocking(move || w.offsets(&name)).await.map(|entries| {
        let offsets: Vec<Json> = entries
            .into_iter()
            .map(|(partition, offset)| json!({"partition": partition, "offset": offset}))
            .collect();
        json!({ "offsets": offsets })
    }))
}

async fn alter_offsets(
    State(w): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(list) = body["offsets"].as_array() else {
        return error(
            400,
            "The request body must be an object with the field offsets: a list of {\"partition\": …, \"offset\": …}",
        );
    };
    let changes: Vec<(Json, Option<Json>)> = list
        .iter()
        .map(|o| {
            let offset = o.get("offset").filter(|v| !v.is_null()).cloned();
            (o.get("partition").cloned().unwrap_or(Json::Null), offset)
        })
        .collect();
    match blocking(move || w.alter_offsets(&name, Some(changes))).await {
        Ok(()) => axum::Json(
            json!({"message": "The offsets for this connector have been altered successfully"}),
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn reset_offsets(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    match blocking(move || w.alter_offsets(&name, None)).await {
        Ok(()) => axum::Json(
            json!({"message": "The offsets for this connector have been reset successfully"}),
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn active_topics(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    let n = name.clone();
    reply(
        blocking(move || w.active_topics(&n))
            .await
            .map(|topics| json!({ name: { "topics": topics } })),
    )
}

async fn reset_topics(State(w): State<AppState>, Path(name): Path<String>) -> Response {
    match blocking(move || w.reset_active_topics(&name)).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

fn logger_json(l: &LoggerLevel) -> Json {
    json!({"level": l.level, "last_modified": l.last_modified})
}

async fn list_loggers(State(loggers): State<Arc<Loggers>>) -> Response {
    let all: serde_json::Map<String, Json> = loggers
        .levels()
        .iter()
        .map(|(name, l)| (name.clone(), logger_json(l)))
        .collect();
    axum::Json(Json::Object(all)).into_response()
}

async fn get_logger(State(loggers): State<Arc<Loggers>>, Path(name): Path<String>) -> Response {
    axum::Json(logger_json(&loggers.level(&name))).into_response()
}

async fn set_logger(
    State(loggers): State<Arc<Loggers>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(level) = body["level"].as_str() else {
        return error(400, "The log level must be specified");
    };
    match loggers.set(&name, level) {
        Ok(changed) => axum::Json(changed).into_response(),
        Err(LoggerError::BadRequest(m)) => error(400, &m),
        Err(LoggerError::Unsupported(m)) => error(500, &m),
    }
}

async fn plugins() -> Response {
    axum::Json(
        plugin::plugins()
            .iter()
            .map(|p| json!({"class": p.class(), "type": p.kind().name(), "version": p.version()}))
            .collect::<Vec<_>>(),
    )
    .into_response()
}

fn find_plugin(name: &str) -> Result<Box<dyn plugin::Plugin>, Refused> {
    plugin::plugin(name).ok_or_else(|| {
        Box::new(error(
            404,
            &format!(
                "Failed to find any class that implements Connector and which name matches {name}"
            ),
        ))
    })
}

async fn plugin_config(Path(name): Path<String>) -> Response {
    let p = match find_plugin(&name) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    axum::Json(
        p.config_def()
            .iter()
            .map(|k| {
                json!({
                    "name": k.name,
                    "type": k.kind,
                    "required": k.default.is_none(),
                    "default_value": k.default,
                    "importance": k.importance,
                    "documentation": k.documentation,
                    "group": null,
                    "width": "NONE",
                    "display_name": k.name,
                    "dependents": [],
                    "order": -1
                })
            })
            .collect::<Vec<_>>(),
    )
    .into_response()
}

async fn validate(State(w): State<AppState>, Path(name): Path<String>, body: Bytes) -> Response {
    let p = match find_plugin(&name) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let config = match body_json(&body).and_then(|j| config_of(&j)) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let errors = validate_all(p.as_ref(), &config, w.config());
    let configs: Vec<Json> = p
        .config_def()
        .iter()
        .map(|k| {
            let errs: Vec<&String> = errors
                .iter()
                .filter(|(n, _)| n == k.name)
                .map(|(_, e)| e)
                .collect();
            json!({
                "definition": {
                    "name": k.name, "type": k.kind, "required": k.default.is_none(),
                    "default_value": k.default, "importance": k.importance,
                    "documentation": k.documentation, "group": null, "width": "NONE",
                    "display_name": k.name, "dependents": [], "order": -1
                },
                "value": {
                    "name": k.name,
                    "value": config.get(k.name).map(String::as_str).or(k.default),
                    "recommended_values": k.recommended,
                    "errors": errs,
                    "visible": true
                }
            })
        })
        .collect();
    axum::Json(json!({
        "name": p.class(),
        "error_count": errors.len(),
        "groups": ["Common"],
        "configs": configs
    }))
    .into_response()
}
