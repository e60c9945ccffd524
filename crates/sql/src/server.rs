//! ksqlDB's REST API over HTTP/1.1 and HTTP/2 (cleartext): `/ksql`, `/query`,
//! `/query-stream`, `/inserts-stream`, `/close-query`, `/info`, `/healthcheck`, `/status`,
//! `/clusterStatus`. Bodies are read as JSON whatever their content type; errors are
//! ksqlDB's `{"@type": …, "error_code": …, "message": …}`.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};
use tokio::sync::{mpsc, oneshot};

use crate::ast::Statement;
use crate::engine::entities::schema_text;
use crate::engine::{Engine, KSQL_VERSION, Session};
use crate::error::{self, SqlError};
use crate::format::json::value_to_json;
use crate::types::SqlType;
use crate::value::{Row, Value};

/// The server's shared state.
struct Shared {
    engine: Arc<Engine>,
    /// Running push queries by id: a sender that stops them.
    running: Mutex<HashMap<String, oneshot::Sender<()>>>,
    listen: SocketAddr,
}

type AppState = Arc<Shared>;

/// A running REST server.
pub struct SqlServer {
    http: brook_client::http::HttpServer,
    engine: Arc<Engine>,
}

impl SqlServer {
    /// Serves `engine` on `listen` (on the current tokio runtime).
    pub async fn start(engine: Arc<Engine>, listen: SocketAddr) -> std::io::Result<SqlServer> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let shared = Arc::new(Shared {
            engine: engine.clone(),
            running: Mutex::new(HashMap::new()),
            listen: listener.local_addr()?,
        });
        let http = brook_client::http::HttpServer::serve(listener, router(shared))?;
        Ok(SqlServer { http, engine })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// Stops serving (push queries' responses are cut), then closes the engine's queries.
    pub async fn shutdown(self) {
        self.http.stop().await;
        let engine = self.engine.clone();
        let _ = tokio::task::spawn_blocking(move || engine.shutdown()).await;
    }
}

fn router(shared: AppState) -> Router {
    Router::new()
        .route("/ksql", post(ksql))
        .route("/ksql/terminate", post(terminate_cluster))
        .route("/query", post(query))
        .route("/query-stream", post(query_stream))
        .route("/inserts-stream", post(inserts_stream))
        .route("/close-query", post(close_query))
        .route("/info", get(info))
        .route("/healthcheck", get(healthcheck))
        .route("/status", get(status))
        .route("/status/{kind}/{entity}/{action}", get(status_of))
        .route("/clusterStatus", get(cluster_status))
        .route("/is_valid_property/{name}", get(is_valid_property))
        .fallback(not_found)
        .with_state(shared)
}

async fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        &SqlError::not_found("Resource not found"),
        None,
    )
}

/// The content type ksqlDB answers with: `application/vnd.ksql.v1+json` when asked for it.
fn ksql_content_type(headers: &HeaderMap) -> &'static str {
    match headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()) {
        Some(a) if a.contains("vnd.ksql.v1+json") => "application/vnd.ksql.v1+json",
        _ => "application/json",
    }
}

fn json_response(status: StatusCode, content_type: &'static str, body: &Json) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, content_type)],
        body.to_string(),
    )
        .into_response()
}

fn error_body(e: &SqlError, statement: Option<&str>) -> Json {
    match statement {
        Some(text) => json!({
            "@type": "statement_error",
            "error_code": e.code,
            "message": e.message,
            "statementText": text,
            "entities": []
        }),
        None => json!({"@type": "generic_error", "error_code": e.code, "message": e.message}),
    }
}

fn error_response(status: StatusCode, e: &SqlError, statement: Option<&str>) -> Response {
    json_response(status, "application/json", &error_body(e, statement))
}

fn status_of_error(e: &SqlError) -> StatusCode {
    match e.code {
        error::NOT_FOUND => StatusCode::NOT_FOUND,
        c if c >= 50000 => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// A request body as JSON (any content type).
fn parse_body(body: &Bytes) -> Result<Json, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error_response(
            StatusCode::BAD_REQUEST,
            &SqlError::bad_request(format!("Invalid JSON in request: {e}")),
            None,
        ))
    })
}

fn string_map(v: Option<&Json>) -> BTreeMap<String, String> {
    v.and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A request carrying a statement: its JSON body, the statement in `field`, and the session
/// from `properties_field` and `sessionVariables`; or the error response.
fn statement_request(
    body: &Bytes,
    field: &str,
    properties_field: &str,
) -> Result<(String, Session), Box<Response>> {
    let body = parse_body(body)?;
    let Some(text) = body.get(field).and_then(Json::as_str).map(str::to_string) else {
        return Err(Box::new(error_response(
            StatusCode::BAD_REQUEST,
            &SqlError::bad_request(format!("The request has no '{field}' field")),
            None,
        )));
    };
    Ok((text, session_of(&body, properties_field)))
}

fn session_of(body: &Json, properties_field: &str) -> Session {
    let mut session = Session::with_properties(string_map(body.get(properties_field)));
    session.variables = string_map(body.get("sessionVariables"))
        .into_iter()
        .map(|(k, v)| (k.to_lowercase(), v))
        .collect();
    session
}

async fn ksql(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (text, mut session) = match statement_request(&body, "ksql", "streamsProperties") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let engine = shared.engine.clone();
    let content_type = ksql_content_type(&headers);
    let outcome = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine.execute(&text, &mut session)
        }))
    })
    .await;
    match outcome {
        Ok(Ok(Ok(entities))) => json_response(StatusCode::OK, content_type, &Json::Array(entities)),
        Ok(Ok(Err(e))) => error_response(status_of_error(&e.error), &e.error, Some(&e.statement)),
        _ => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &SqlError::server("The statement failed inside the server (a bug: please report it)"),
            None,
        ),
    }
}

async fn terminate_cluster() -> Response {
    error_response(
        StatusCode::BAD_REQUEST,
        &SqlError::bad_request("Terminating the cluster is not supported by Brook SQL"),
        None,
    )
}

/// A value as ksqlDB's REST API shows it in rows: times as text, numbers as numbers.
fn rest_json(v: &Value, ty: &SqlType) -> Json {
    match v {
        Value::Timestamp(t) => Json::String(crate::time::format_timestamp_iso(*t)),
        Value::Date(d) => Json::String(crate::time::format_date(*d)),
        Value::Time(t) => Json::String(crate::time::format_time(*t)),
        Value::Array(items) => {
            let et = match ty {
                SqlType::Array(e) => (**e).clone(),
                _ => SqlType::String,
            };
            Json::Array(items.iter().map(|i| rest_json(i, &et)).collect())
        }
        other => value_to_json(other, Some(ty)),
    }
}

fn row_json(row: &[Value], columns: &[(String, SqlType)]) -> Json {
    Json::Array(
        row.iter()
            .zip(columns)
            .map(|(v, (_, t))| rest_json(v, t))
            .collect(),
    )
}

/// A streamed response body fed by a channel.
fn streaming(content_type: &'static str, rx: mpsc::Receiver<Bytes>) -> Response {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header("Transfer-Encoding", "chunked")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// How a query's output is written: `/query`'s JSON array of header/row objects, or
/// `/query-stream`'s delimited lines or JSON array.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `/query`.
    Legacy,
    /// `/query-stream`, `application/vnd.ksqlapi.delimited.v1`.
    Delimited,
    /// `/query-stream`, `application/json`.
    JsonArray,
}

impl Shape {
    fn header(self, id: &str, columns: &[(String, SqlType)]) -> Bytes {
        let text = match self {
            Shape::Legacy => format!(
                "[{},\n",
                json!({"header": {"queryId": id, "schema": schema_text(columns)}})
            ),
            _ => {
                let h = json!({
                    "queryId": id,
                    "columnNames": columns.iter().map(|(n, _)| n).collect::<Vec<_>>(),
                    "columnTypes": columns.iter().map(|(_, t)| t.to_string()).collect::<Vec<_>>()
                });
                if self == Shape::JsonArray {
                    format!("[{h}")
                } else {
                    format!("{h}\n")
                }
            }
        };
        Bytes::from(text)
    }

    fn row(self, row: &[Value], columns: &[(String, SqlType)]) -> Bytes {
        let r = row_json(row, columns);
        Bytes::from(match self {
            Shape::Legacy => format!("{},\n", json!({"row": {"columns": r}})),
            Shape::Delimited => format!("{r}\n"),
            Shape::JsonArray => format!(",{r}"),
        })
    }

    /// The end of a push query's response. `/query` ends with a final message, as ksqlDB's
    /// does: every row before it was written with its trailing comma.
    fn end(self, message: &str) -> Bytes {
        Bytes::from(match self {
            Shape::Legacy => format!("{}]\n", json!({"finalMessage": message})),
            Shape::Delimited => String::new(),
            Shape::JsonArray => "]".to_string(),
        })
    }

    /// A whole pull query's response: rows without a trailing comma after the last.
    fn pull_response(self, id: &str, columns: &[(String, SqlType)], rows: &[Row]) -> Vec<u8> {
        let mut out = Vec::new();
        if self == Shape::Legacy {
            let mut elements =
                vec![json!({"header": {"queryId": id, "schema": schema_text(columns)}})];
            elements.extend(
                rows.iter()
                    .map(|r| json!({"row": {"columns": row_json(r, columns)}})),
            );
            let lines: Vec<String> = elements.iter().map(Json::to_string).collect();
            out.extend_from_slice(format!("[{}]\n", lines.join(",\n")).as_bytes());
            return out;
        }
        out.extend_from_slice(&self.header(id, columns));
        for r in rows {
            out.extend_from_slice(&self.row(r, columns));
        }
        if self == Shape::JsonArray {
            out.push(b']');
        }
        out
    }
}

async fn query(State(shared): State<AppState>, body: Bytes) -> Response {
    let (text, session) = match statement_request(&body, "ksql", "streamsProperties") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    run_query(shared, text, session, Shape::Legacy).await
}

async fn query_stream(State(shared): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (text, session) = match statement_request(&body, "sql", "properties") {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let shape = match headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()) {
        Some(a) if a.contains("application/json") => Shape::JsonArray,
        _ => Shape::Delimited,
    };
    run_query(shared, text, session, shape).await
}

async fn run_query(shared: AppState, text: String, session: Session, shape: Shape) -> Response {
    let statements = crate::lexer::split_statements(&text);
    if statements.len() != 1 {
        return error_response(
            StatusCode::BAD_REQUEST,
            &SqlError::statement(format!(
                "Expected exactly one statement, got {}",
                statements.len()
            )),
            Some(&text),
        );
    }
    let prepared = match shared.engine.prepare(&statements[0], &session) {
        Ok(p) => p,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, &e, Some(&text)),
    };
    let content_type = match shape {
        Shape::Delimited => "application/vnd.ksqlapi.delimited.v1",
        _ => "application/json",
    };
    match prepared.statement {
        Statement::Select(q) if q.emit.is_none() => {
            let engine = shared.engine.clone();
            let result = tokio::task::spawn_blocking(move || engine.pull_query(&q)).await;
            match result {
                Ok(Ok(pull)) => {
                    let out = shape.pull_response(&pull.id, &pull.columns, &pull.rows);
                    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], out).into_response()
                }
                Ok(Err(e)) => error_response(status_of_error(&e), &e, Some(&text)),
                Err(_) => error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &SqlError::server("the pull query failed"),
                    None,
                ),
            }
        }
        Statement::Select(q) => {
            let engine = shared.engine.clone();
            let statement = statements[0].clone();
            let started =
                tokio::task::spawn_blocking(move || engine.push_query(&q, &statement, &session))
                    .await;
            let mut push = match started {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => return error_response(status_of_error(&e), &e, Some(&text)),
                Err(_) => {
                    return error_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &SqlError::server("the push query failed"),
                        None,
                    );
                }
            };
            let (tx, rx) = mpsc::channel::<Bytes>(256);
            let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
            let id = push.id.clone();
            shared
                .running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.clone(), stop_tx);
            let columns = push.schema.columns.clone();
            let header = shape.header(&id, &columns);
            let shared2 = shared.clone();
            tokio::spawn(async move {
                let mut sent = 0u64;
                // Rows end when the query does (TERMINATE, DROP): "Query Completed".
                let mut finished = "Query Completed";
                if tx.send(header).await.is_ok() {
                    loop {
                        if push.limit.is_some_and(|l| sent >= l) {
                            finished = "Limit Reached";
                            break;
                        }
                        tokio::select! {
                            row = push.rows.recv() => match row {
                                Some(row) => {
                                    if tx.send(shape.row(&row, &columns)).await.is_err() {
                                        break;
                                    }
                                    sent += 1;
                                }
                                None => break,
                            },
                            _ = &mut stop_rx => {
                                finished = "Query terminated";
                                break;
                            }
                            _ = tx.closed() => break,
                        }
                    }
                    let _ = tx.send(shape.end(finished)).await;
                }
                shared2
                    .running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id);
                let _ = tokio::task::spawn_blocking(move || push.close()).await;
            });
            streaming(content_type, rx)
        }
        Statement::Print {
            topic,
            from_beginning,
            interval,
            limit,
        } => {
            if shape != Shape::Legacy {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    &SqlError::statement("PRINT is served on /query (or the brook sql shell)"),
                    Some(&text),
                );
            }
            let (lines_tx, mut lines_rx) = mpsc::channel::<String>(256);
            let engine = shared.engine.clone();
            let (tx, rx) = mpsc::channel::<Bytes>(256);
            let failed = tx.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = engine.print(&topic, from_beginning, interval, limit, lines_tx) {
                    let _ =
                        failed.blocking_send(Bytes::from(format!("{}\n", error_body(&e, None))));
                }
            });
            tokio::spawn(async move {
                while let Some(line) = lines_rx.recv().await {
                    if tx.send(Bytes::from(format!("{line}\n"))).await.is_err() {
                        break;
                    }
                }
            });
            streaming("application/json", rx)
        }
        _ => error_response(
            StatusCode::BAD_REQUEST,
            &SqlError::statement(
                "Only SELECT and PRINT statements are served here; send other statements to /ksql",
            ),
            Some(&text),
        ),
    }
}

async fn close_query(State(shared): State<AppState>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Some(id) = body.get("queryId").and_then(Json::as_str) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            &SqlError::bad_request("No queryId in the request"),
            None,
        );
    };
    match shared
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(id)
    {
        Some(stop) => {
            let _ = stop.send(());
            StatusCode::OK.into_response()
        }
        None => error_response(
            StatusCode::BAD_REQUEST,
            &SqlError::bad_request(format!("No query with id {id}")),
            None,
        ),
    }
}

/// `/inserts-stream`: the first line names the target, each further line is a row (a JSON
/// object); each row is acknowledged with its sequence number.
async fn inserts_stream(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body).to_string();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(first) = lines.next() else {
        return error_response(
            StatusCode::BAD_REQUEST,
            &SqlError::bad_request("The request is empty"),
            None,
        );
    };
    let target = match serde_json::from_str::<Json>(first).ok().and_then(|j| {
        j.get("target")
            .and_then(Json::as_str)
            .map(str::to_uppercase)
    }) {
        Some(t) => t,
        None => {
            return error_response(
                StatusCode::BAD_REQUEST,
                &SqlError::bad_request("The first line must be {\"target\": \"<stream>\"}"),
                None,
            );
        }
    };
    let rows: Vec<String> = lines.map(str::to_string).collect();
    let json_array = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let engine = shared.engine.clone();
    let acks = tokio::task::spawn_blocking(move || {
        let mut acks = Vec::new();
        for (seq, line) in rows.iter().enumerate() {
            let ack = match insert_json_row(&engine, &target, line) {
                Ok(()) => json!({"status": "ok", "seq": seq}),
                Err(e) => json!({"status": "error", "seq": seq, "error_code": e.code, "message": e.message}),
            };
            let failed = ack["status"] == "error";
            acks.push(ack);
            if failed {
                break;
            }
        }
        acks
    })
    .await
    .unwrap_or_default();
    let body = if json_array {
        Json::Array(acks).to_string()
    } else {
        acks.iter().map(|a| format!("{a}\n")).collect()
    };
    let content_type = if json_array {
        "application/json"
    } else {
        "application/vnd.ksqlapi.delimited.v1"
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// One `/inserts-stream` row: a JSON object with the target's columns.
fn insert_json_row(engine: &Engine, target: &str, line: &str) -> Result<(), SqlError> {
    let object: serde_json::Map<String, Json> = serde_json::from_str(line)
        .map_err(|e| SqlError::bad_request(format!("Invalid JSON in inserts stream: {e}")))?;
    let source = engine.catalog().get(target).cloned().ok_or_else(|| {
        SqlError::statement(format!("Cannot insert into an unknown stream: {target}"))
    })?;
    let columns: Vec<(String, SqlType)> = source
        .key_columns
        .iter()
        .chain(&source.value_columns)
        .cloned()
        .collect();
    let mut names = Vec::new();
    let mut values = Vec::new();
    for (k, v) in object {
        let name = columns
            .iter()
            .find(|(n, _)| *n == k || n.eq_ignore_ascii_case(&k))
            .map(|(n, _)| n.clone())
            .ok_or_else(|| SqlError::statement(format!("Column name {k} does not exist.")))?;
        let ty = columns
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.clone())
            .unwrap_or(SqlType::String);
        let one = vec![(name.clone(), ty)];
        let row =
            crate::format::json::read_row(v.to_string().as_bytes(), &one, false).map_err(|e| {
                SqlError::statement(format!(
                    "Failed to insert values into '{target}': column {name}: {e}"
                ))
            })?;
        names.push(name);
        values.push(crate::ast::Expr::Literal(
            row.into_iter().next().unwrap_or(Value::Null),
        ));
    }
    engine.insert_values(target, Some(&names), &values)
}

async fn info(State(shared): State<AppState>) -> Response {
    let body = json!({"KsqlServerInfo": {
        "version": KSQL_VERSION,
        "kafkaClusterId": "brook",
        "ksqlServiceId": shared.engine.config().service_id,
        "serverStatus": "RUNNING"
    }});
    json_response(StatusCode::OK, "application/json", &body)
}

async fn healthcheck(State(shared): State<AppState>) -> Response {
    let engine = shared.engine.clone();
    let kafka = tokio::task::spawn_blocking(move || engine.cluster().topics(false).is_ok())
        .await
        .unwrap_or(false);
    let runner = shared.engine.is_caught_up();
    let healthy = kafka && runner;
    let body = json!({
        "isHealthy": healthy,
        "details": {
            "metastore": {"isHealthy": true},
            "kafka": {"isHealthy": kafka},
            "commandRunner": {"isHealthy": runner}
        }
    });
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, "application/json", &body)
}

async fn status(State(shared): State<AppState>) -> Response {
    let catalog = shared.engine.catalog();
    let statuses: serde_json::Map<String, Json> = catalog
        .sources
        .values()
        .map(|s| {
            (
                format!(
                    "{}/`{}`/create",
                    crate::engine::entities::command_kind(s.kind),
                    s.name
                ),
                json!("SUCCESS"),
            )
        })
        .collect();
    json_response(
        StatusCode::OK,
        "application/json",
        &json!({"commandStatuses": statuses}),
    )
}

async fn status_of(
    State(shared): State<AppState>,
    axum::extract::Path((kind, entity, action)): axum::extract::Path<(String, String, String)>,
) -> Response {
    let name = entity.trim_matches('`').to_string();
    let exists = shared.engine.catalog().get(&name).is_some();
    let id = format!("{kind}/{entity}/{action}");
    if exists || action != "create" {
        json_response(
            StatusCode::OK,
            "application/json",
            &json!({"id": id, "status": "SUCCESS", "message": "Executed"}),
        )
    } else {
        error_response(
            StatusCode::NOT_FOUND,
            &SqlError::not_found(format!("Command not found: {id}")),
            None,
        )
    }
}

async fn cluster_status(State(shared): State<AppState>) -> Response {
    let host = format!("http://{}", shared.listen);
    let body = json!({"clusterStatus": {host: {
        "hostAlive": true,
        "lastStatusUpdateMs": crate::time::now_millis(),
        "activeStandbyPerQuery": shared.engine.query_ids().into_iter().map(|q| (q, json!({"activeStores": [], "activePartitions": [], "standByStores": [], "standByPartitions": []}))).collect::<serde_json::Map<_, _>>(),
        "hostStoreLags": {"stateStoreLags": {}, "updateTimeMs": crate::time::now_millis()}
    }}});
    json_response(StatusCode::OK, "application/json", &body)
}

async fn is_valid_property(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let valid = name.starts_with("ksql.") || name.contains('.');
    json_response(StatusCode::OK, "application/json", &json!(valid))
}
