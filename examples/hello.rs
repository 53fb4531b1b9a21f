//! A minimal axum hello-world: the baseline the benchmarks compare Tend against
//! (`bench/run`). Same runtime and allocator as `tend`, one route, no middleware.

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("ready at http://{}", listener.local_addr()?);
    let app = Router::new().route("/healthz", get(|| async { "ok" }));
    axum::serve(listener, app).await
}
