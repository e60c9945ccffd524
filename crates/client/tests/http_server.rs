//! The shared HTTP server: a handler that answers before reading its whole request body still
//! has its answer read by a client that writes the whole body first.

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::post;
use brook_client::http::HttpServer;

/// Answers 413 after reading at most 1 MiB of the body.
async fn limited(request: Request) -> StatusCode {
    match axum::body::to_bytes(request.into_body(), 1 << 20).await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::PAYLOAD_TOO_LARGE,
    }
}

/// Answers 400 without reading the body at all.
async fn refused() -> StatusCode {
    StatusCode::BAD_REQUEST
}

#[test]
fn an_answer_before_the_body_is_read_reaches_a_client_that_writes_it_all_first() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = Router::new()
        .route("/limited", post(limited))
        .route("/refused", post(refused));
    let server = runtime
        .block_on(HttpServer::start("127.0.0.1:0".parse().unwrap(), app))
        .unwrap();
    let url = format!("http://{}", server.local_addr());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    // 32 MiB: far more than the socket buffers hold, so the client is still writing when
    // the answer is sent.
    let big = vec![b'x'; 32 << 20];
    for (path, status) in [("/limited", 413), ("/refused", 400), ("/limited", 413)] {
        let response = agent
            .post(format!("{url}{path}"))
            .send(&big[..])
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(response.status().as_u16(), status, "{path}");
    }
    // A body within the limit is still read whole by the handler.
    let response = agent
        .post(format!("{url}/limited"))
        .send(&big[..1 << 20])
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    runtime.block_on(server.stop());
}
