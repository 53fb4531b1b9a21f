//! Tend's HTTP/1.1 connection loop: a cap on open connections, a deadline for each request's
//! headers (which also closes idle kept-alive connections), and graceful shutdown.
//!
//! `axum::serve` offers none of the first two, so a client that opens connections and sends
//! a byte a minute could hold them, and the process's file descriptors, for ever. Here such a
//! client loses each connection after [`Limits::header_timeout`], and while
//! [`Limits::max_connections`] are open the loop stops accepting: newcomers wait in the
//! kernel's queue instead of exhausting descriptors. The request's own deadline (body and
//! answer) is the router's `TimeoutLayer`; message streams, once their headers are sent, are
//! not cut by either.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How much a client may take: open connections and time to send headers.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Time a client has to send a request's headers, from the first read of a new or idle
    /// connection; a connection that misses it is closed.
    pub header_timeout: Duration,
}

impl Limits {
    /// The limits an operator configured.
    pub fn from_config(config: &crate::config::Config) -> Limits {
        Limits {
            max_connections: config.max_connections.max(1),
            header_timeout: Duration::from_secs(config.header_timeout_seconds.max(1)),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets requests in flight
/// finish (each connection closes after its current response) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        // Take a connection's permit before accepting it, so that at the cap the loop stops
        // accepting rather than accepting and dropping.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // never closed; ends the loop rather than spinning
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small writes (server-sent events) go out at once rather than waiting for more.
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(connection_service(router.clone(), remote));
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The router for one connection: every request carries the peer's address, as
/// `into_make_service_with_connect_info` would give it.
fn connection_service(
    router: Router,
    remote: SocketAddr,
) -> impl tower::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Send,
> + Clone
+ Send {
    router.map_request(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(remote));
        request
    })
}

/// An accept that failed for the listener rather than for one peer (most often too many
/// open files): logged, then a short pause so the loop does not spin while it lasts.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(error = %err, "could not accept a connection; pausing before the next");
    tokio::time::sleep(Duration::from_millis(250)).await;
}
