//! The HTTP half of the shared client layer: every Brook service with an HTTP API (the schema
//! registry, Brook SQL, Brook Connect, the REST proxy and the console) serves its axum router
//! through an [`HttpServer`], which binds, serves until stopped, and stops the same way
//! everywhere.
//!
//! It also reads what a handler left of a request body. A handler that answers before reading
//! the whole body (a body over its size limit, a request refused on its headers) drops the
//! rest; a socket closed with unread bytes is reset by the kernel, and most HTTP clients (ureq,
//! Python's requests, curl without `Expect`) write their whole body before reading the answer,
//! so they would see a broken pipe or a reset instead of the 413 or 400. Every request's body
//! is therefore wrapped so that dropping it unfinished reads and drops the rest in the
//! background, within [`DRAIN_BYTES`] and [`DRAIN_TIME`] (past either the connection closes).

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::oneshot;

/// How long in-flight requests may finish after a stop before they are cut.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Most bytes of an abandoned request body read and dropped.
pub const DRAIN_BYTES: u64 = 256 << 20;
/// Longest time spent reading and dropping an abandoned request body.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

/// An axum router served on an address (on the current tokio runtime) until stopped.
#[derive(Debug)]
pub struct HttpServer {
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    /// Binds `listen` and serves `app` on it.
    pub async fn start(listen: SocketAddr, app: axum::Router) -> std::io::Result<HttpServer> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        Self::serve(listener, app)
    }

    /// Serves `app` on a listener bound already (when the address is needed before the
    /// router is built).
    pub fn serve(
        listener: tokio::net::TcpListener,
        app: axum::Router,
    ) -> std::io::Result<HttpServer> {
        let local_addr = listener.local_addr()?;
        let app = app.layer(axum::middleware::map_request(drain_when_dropped));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, %local_addr, "HTTP server stopped");
            }
        });
        Ok(HttpServer {
            local_addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets in-flight requests finish for a few seconds (a streaming
    /// response that would go on longer is cut), and returns once it has stopped.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if tokio::time::timeout(STOP_GRACE, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
            let _ = (&mut self.task).await;
        }
    }
}

/// Wraps a request's body in a [`DrainOnDrop`].
async fn drain_when_dropped(request: axum::extract::Request) -> axum::extract::Request {
    request.map(|body| Body::new(DrainOnDrop(Some(body))))
}

/// A request body that, dropped before its end, has the rest read and dropped by a task.
struct DrainOnDrop(Option<Body>);

impl HttpBody for DrainOnDrop {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.0.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.0.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.0
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(mut body) = self.0.take() else {
            return;
        };
        if body.is_end_stream() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let drain = async {
                let mut read = 0u64;
                while read < DRAIN_BYTES {
                    let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
                    match frame {
                        Some(Ok(frame)) => {
                            read += frame.data_ref().map_or(0, |d| d.len() as u64);
                        }
                        _ => return,
                    }
                }
            };
            let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
        });
    }
}
