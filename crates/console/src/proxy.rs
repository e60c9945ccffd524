//! The services beside the cluster, reached through the console: `/api/registry/…` is the
//! schema registry's API (Confluent's), `/api/connect/…` Kafka Connect's, `/api/sql/…`
//! ksqlDB's. Requests are passed on as they are (method, path, query, content type, body up
//! to [`BODY_LIMIT`]); answers come back streamed, so a push query's rows reach the page as
//! they arrive, and a page that goes away closes the request upstream.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Largest request body passed on.
pub const BODY_LIMIT: usize = 16 << 20;

/// A service the console passes requests to.
#[derive(Clone)]
pub struct Upstream {
    /// What it is, for errors ("the schema registry").
    pub what: &'static str,
    /// The flag that configures it, for errors.
    pub flag: &'static str,
    /// Its base URL, when configured.
    pub url: Option<String>,
    client: Client<HttpConnector, Body>,
}

impl Upstream {
    /// A service at `url` (none: requests answer 404 saying how to configure it).
    pub fn new(what: &'static str, flag: &'static str, url: Option<String>) -> Upstream {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        connector.set_nodelay(true);
        Upstream {
            what,
            flag,
            url: url.map(|u| u.trim_end_matches('/').to_string()),
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// Passes `request` (whose path is `/api/<service>/<rest>`) on to `upstream`.
pub async fn forward(
    State(upstream): State<Upstream>,
    Path(rest): Path<String>,
    request: Request,
) -> Response {
    let Some(base) = &upstream.url else {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "{} is not configured: start brook console with {}",
                upstream.what, upstream.flag
            ),
        );
    };
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is over {} MiB", BODY_LIMIT >> 20),
            );
        }
    };
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let uri: Uri = match format!("{base}/{rest}{query}").parse() {
        Ok(u) => u,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("bad path: {e}")),
    };
    let mut outgoing = axum::http::Request::builder().method(parts.method).uri(uri);
    for name in [header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(v) = parts.headers.get(&name) {
            outgoing = outgoing.header(name, v);
        }
    }
    let outgoing = match outgoing.body(Body::from(body)) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    match tokio::time::timeout(Duration::from_secs(60), upstream.client.request(outgoing)).await {
        Ok(Ok(response)) => {
            let (mut parts, incoming) = response.into_parts();
            parts.headers.remove(header::CONNECTION);
            parts.headers.remove(header::TRANSFER_ENCODING);
            parts
                .headers
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Response::from_parts(parts, Body::new(incoming))
        }
        Ok(Err(e)) => error(
            StatusCode::BAD_GATEWAY,
            format!("{} at {base} did not answer: {e}", upstream.what),
        ),
        Err(_) => error(
            StatusCode::GATEWAY_TIMEOUT,
            format!("{} at {base} did not answer within 60 s", upstream.what),
        ),
    }
}
