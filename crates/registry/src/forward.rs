//! Writes go to the leader. A middleware in front of the API lets reads through on every
//! instance, handles writes locally on the leader (after a newly elected leader has read every
//! earlier write), and forwards them from followers to the leader's URL, answering with the
//! leader's response. A follower then reads the topic up to its end, so a client that wrote
//! through it reads its write back from it too. A forwarded write is only taken by the
//! leader, so a write is never handled by two instances or forwarded in a loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::election::{Election, Leader};
use crate::error::RegistryError;
use crate::registry::Registry;

/// Marks a request a follower forwarded; the receiver handles it itself.
const FORWARDED: &str = "x-brook-forwarded";

/// How long a write waits for the election to settle (a new group waits for members first).
const LEADER_WAIT: Duration = Duration::from_secs(15);

/// How long a forwarded write waits for this instance to see itself as the leader (the
/// group may name it a moment before its own callback runs).
const FORWARDED_WAIT: Duration = Duration::from_secs(2);

/// The largest request body forwarded.
const MAX_BODY: usize = 64 << 20;

/// What the middleware needs.
#[derive(Debug)]
pub struct Writes {
    /// The election this instance takes part in.
    pub election: Arc<Election>,
    /// The local registry.
    pub registry: Arc<Registry>,
    agent: ureq::Agent,
    catching_up: tokio::sync::Mutex<()>,
}

impl Writes {
    /// Routes writes for `registry` by `election`.
    pub fn new(election: Arc<Election>, registry: Arc<Registry>) -> Writes {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Writes {
            election,
            registry,
            agent,
            catching_up: tokio::sync::Mutex::new(()),
        }
    }
}

/// Whether a request changes state: everything but GETs, lookups (`POST /subjects/{s}`) and
/// compatibility checks.
fn is_write(method: &Method, path: &str) -> bool {
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        return false;
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let lookup = method == Method::POST && segments.len() == 2 && segments[0] == "subjects";
    let compatibility = segments.first() == Some(&"compatibility");
    !lookup && !compatibility
}

/// The middleware.
pub async fn route_writes(
    State(writes): State<Arc<Writes>>,
    request: Request,
    next: Next,
) -> Response {
    if !is_write(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    // A forwarded write is taken only by the leader (never forwarded twice), so two
    // instances never write at once even while leadership moves.
    if request.headers().contains_key(FORWARDED) {
        return match leader(&writes, FORWARDED_WAIT).await {
            Ok(Leader::Me) => write_here(&writes, request, next).await,
            Ok(Leader::Other(_)) | Err(_) => RegistryError::Forwarding(
                "the instance the write was forwarded to does not lead any more".into(),
            )
            .into_response(),
        };
    }
    let deadline = Instant::now() + LEADER_WAIT;
    let mut url = match leader(&writes, LEADER_WAIT).await {
        Ok(Leader::Me) => return write_here(&writes, request, next).await,
        Ok(Leader::Other(url)) => url,
        Err(e) => return e.into_response(),
    };
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(e) => {
            return RegistryError::BadRequest(400, format!("Invalid request body: {e}"))
                .into_response();
        }
    };
    loop {
        match forward(&writes, &url, &parts, &body).await {
            Ok(response) => return response,
            // Nothing reached the leader (it stopped or crashed): find the leader again.
            Err(Forwarded::NotSent(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let patience = deadline.saturating_duration_since(Instant::now());
                match leader(&writes, patience).await {
                    Ok(Leader::Me) => {
                        let request = Request::from_parts(parts, Body::from(body));
                        return write_here(&writes, request, next).await;
                    }
                    Ok(Leader::Other(next_url)) => url = next_url,
                    Err(e) => return e.into_response(),
                }
            }
            Err(Forwarded::NotSent(reason) | Forwarded::Failed(reason)) => {
                return RegistryError::Forwarding(reason).into_response();
            }
        }
    }
}

/// The leader, waiting up to `patience` for the election to settle.
async fn leader(writes: &Writes, patience: Duration) -> Result<Leader, RegistryError> {
    let election = writes.election.clone();
    tokio::task::spawn_blocking(move || election.leader(patience))
        .await
        .unwrap_or(Err(RegistryError::UnknownLeader))
}

/// Handles a write on this instance, the leader.
async fn write_here(writes: &Writes, request: Request, next: Next) -> Response {
    {
        // Writes arriving while a new leader catches up wait for it.
        let _catching_up = writes.catching_up.lock().await;
        if writes.election.take_catch_up()
            && let Err(e) = writes.registry.catch_up().await
        {
            writes.election.catch_up_again();
            return e.into_response();
        }
    }
    next.run(request).await
}

/// Why forwarding failed.
enum Forwarded {
    /// The leader could not be reached: the write was not sent.
    NotSent(String),
    /// The exchange failed after sending began.
    Failed(String),
}

async fn forward(
    writes: &Writes,
    leader: &str,
    parts: &axum::http::request::Parts,
    body: &axum::body::Bytes,
) -> Result<Response, Forwarded> {
    let method = parts.method.clone();
    let target = format!(
        "{}{}",
        leader.trim_end_matches('/'),
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/vnd.schemaregistry.v1+json")
        .to_string();
    let body = body.to_vec();
    let agent = writes.agent.clone();
    let (status, content_type, text) = tokio::task::spawn_blocking(move || {
        let request = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(&target)
            .header(header::CONTENT_TYPE.as_str(), &content_type)
            .header(FORWARDED, "1")
            .body(body)
            .map_err(|e| Forwarded::Failed(e.to_string()))?;
        let mut response = agent.run(request).map_err(|e| {
            let reason = format!("{target}: {e}");
            let unreachable = match &e {
                ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => true,
                ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
                _ => false,
            };
            if unreachable {
                Forwarded::NotSent(reason)
            } else {
                Forwarded::Failed(reason)
            }
        })?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE.as_str())
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/vnd.schemaregistry.v1+json")
            .to_string();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| Forwarded::Failed(e.to_string()))?;
        Ok((status, content_type, text))
    })
    .await
    .map_err(|e| Forwarded::Failed(e.to_string()))??;
    if (200..300).contains(&status) {
        // Read our own write back before answering.
        if let Err(e) = writes.registry.catch_up().await {
            return Ok(e.into_response());
        }
    }
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_told_from_reads() {
        assert!(is_write(&Method::POST, "/subjects/rides-value/versions"));
        assert!(is_write(&Method::DELETE, "/subjects/rides-value"));
        assert!(is_write(
            &Method::DELETE,
            "/subjects/rides-value/versions/1"
        ));
        assert!(is_write(&Method::PUT, "/config"));
        assert!(is_write(&Method::PUT, "/mode/rides-value"));
        assert!(is_write(&Method::DELETE, "/config/rides-value"));
        assert!(!is_write(&Method::POST, "/subjects/rides-value"));
        assert!(!is_write(
            &Method::POST,
            "/compatibility/subjects/s/versions/latest"
        ));
        assert!(!is_write(&Method::GET, "/subjects"));
    }
}
