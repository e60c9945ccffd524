//! The pages: one HTML shell, a script and a stylesheet, compiled into the binary (no Node.js
//! step, works offline). Every route that is not `/api` or `/assets` gets the shell, so each
//! page's URL can be opened directly.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

const INDEX: &str = include_str!("../assets/index.html");
const APP: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/style.css");

/// `/assets/*` and the shell for every other path.
pub fn router() -> Router {
    Router::new()
        .route("/assets/app.js", get(app))
        .route("/assets/style.css", get(style))
        .fallback(get(index))
}

async fn index() -> Html<&'static str> {
    Html(INDEX)
}

async fn app() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP,
    )
        .into_response()
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}
