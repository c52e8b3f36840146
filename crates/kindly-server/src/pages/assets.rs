//! The console's one script, one stylesheet and its icon, served from the binary (no CDN).

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::routes::AppState;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/static/kindly.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    include_str!("../../static/kindly.js"),
                )
                    .into_response()
            }),
        )
        .route(
            "/static/kindly.css",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../../static/kindly.css"))
                    .into_response()
            }),
        )
        // The pages link the icon; `/favicon.ico` is where browsers look without a link.
        .route("/static/favicon.svg", get(icon))
        .route("/favicon.ico", get(icon))
}

async fn icon() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/svg+xml")], include_str!("../../static/favicon.svg"))
}
