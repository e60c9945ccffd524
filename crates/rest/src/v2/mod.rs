//! Confluent's REST Proxy API v2: topics, partitions, brokers and produce ([`topics`]), and
//! consumer instances ([`consumers`]). Answers are `application/vnd.kafka.v2+json` (records
//! read are in their embedded format's type); requests may be any of the v2 types or plain
//! `application/json`.

pub mod consumers;
pub mod topics;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;

use crate::RestConfig;
use crate::error::{RestError, V2_JSON};
use crate::formats::{Format, parse_media_type};
use crate::kafka::Kafka;

/// Everything the v2 handlers share.
pub struct Proxy {
    /// The cluster.
    pub kafka: Kafka,
    /// Open consumer instances.
    pub consumers: consumers::Consumers,
    /// Limits.
    pub config: RestConfig,
}

impl Proxy {
    /// The proxy's clients, and the thread that closes idle consumer instances.
    pub fn new(config: RestConfig) -> Result<Proxy, RestError> {
        let kafka = Kafka::new(
            config.cluster.clone(),
            config.schema_registry_url.as_deref(),
        )?;
        Ok(Proxy {
            kafka,
            consumers: consumers::Consumers::new(&config),
            config,
        })
    }
}

/// The v2 routes.
pub fn router(proxy: Arc<Proxy>) -> Router {
    Router::new()
        .route("/", get(|| async { json(&serde_json::json!({})) }))
        .route("/topics", get(topics::list))
        .route(
            "/topics/{topic}",
            get(topics::describe).post(topics::produce),
        )
        .route("/topics/{topic}/partitions", get(topics::partitions))
        .route(
            "/topics/{topic}/partitions/{partition}",
            get(topics::partition).post(topics::produce_to_partition),
        )
        .route(
            "/topics/{topic}/partitions/{partition}/offsets",
            get(topics::partition_offsets),
        )
        .route("/brokers", get(topics::brokers))
        .route("/consumers/{group}", post(consumers::create))
        .route(
            "/consumers/{group}/instances/{instance}",
            axum::routing::delete(consumers::delete),
        )
        .route(
            "/consumers/{group}/instances/{instance}/subscription",
            get(consumers::subscription)
                .post(consumers::subscribe)
                .delete(consumers::unsubscribe),
        )
        .route(
            "/consumers/{group}/instances/{instance}/assignments",
            get(consumers::assignments).post(consumers::assign),
        )
        .route(
            "/consumers/{group}/instances/{instance}/positions",
            post(consumers::seek),
        )
        .route(
            "/consumers/{group}/instances/{instance}/positions/beginning",
            post(consumers::seek_to_beginning),
        )
        .route(
            "/consumers/{group}/instances/{instance}/positions/end",
            post(consumers::seek_to_end),
        )
        .route(
            "/consumers/{group}/instances/{instance}/records",
            get(consumers::records),
        )
        .route(
            "/consumers/{group}/instances/{instance}/offsets",
            get(consumers::committed).post(consumers::commit),
        )
        .fallback(|| async { RestError::new(404, 404, "HTTP 404 Not Found").into_response() })
        .with_state(proxy)
}

/// A JSON answer with the v2 content type.
pub fn json<T: serde::Serialize>(body: &T) -> Response {
    typed_json(body, V2_JSON)
}

/// A JSON answer with `content_type`.
pub fn typed_json<T: serde::Serialize>(body: &T, content_type: &str) -> Response {
    let mut response = axum::Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    response
}

/// 204.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The request's body as `T`, with the embedded format its content type names; an empty
/// body is `None`. A body over the limit is 413, a content type the API does not take 415,
/// malformed JSON 400.
pub async fn body<T: DeserializeOwned>(
    proxy: &Proxy,
    request: Request,
) -> Result<(Option<Format>, Option<T>), RestError> {
    let format = match request.headers().get(header::CONTENT_TYPE) {
        None => None,
        Some(v) => parse_media_type(v.to_str().unwrap_or_default())?,
    };
    let limit = proxy.config.max_body_bytes;
    let bytes = axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| RestError::too_large(limit))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((format, None));
    }
    let parsed =
        serde_json::from_slice(&bytes).map_err(|e| RestError::bad_request(e.to_string()))?;
    Ok((format, Some(parsed)))
}

/// The request's body as `T`, which the endpoint requires (an empty body is 400).
pub async fn required_body<T: DeserializeOwned>(
    proxy: &Proxy,
    request: Request,
) -> Result<T, RestError> {
    match body(proxy, request).await? {
        (_, Some(t)) => Ok(t),
        (_, None) => Err(RestError::bad_request("the request has no body")),
    }
}

/// Runs blocking client work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RestError> + Send + 'static,
) -> Result<T, RestError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RestError::new(500, 500, format!("the request failed: {e}")))?
}
