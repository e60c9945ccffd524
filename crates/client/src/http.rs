//! The HTTP half of the shared client layer: every Brook service with an HTTP API (the schema
//! registry, Brook SQL, Brook Connect, and the REST proxy and console to come) serves its
//! axum router through an [`HttpServer`], which binds, serves until stopped, and stops the
//! same way everywhere.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::oneshot;

/// How long in-flight requests may finish after a stop before they are cut.
const STOP_GRACE: Duration = Duration::from_secs(5);

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
