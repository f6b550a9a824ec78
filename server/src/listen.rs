//! The accept loop. axum's `serve` gives hyper no timer, so a client that never finishes its
//! request head (slowloris), or that idles on a kept-alive connection, holds that connection
//! for ever. Here each connection must deliver a complete request head within
//! [`Limits::header_read_timeout`] — which is also how long a kept-alive connection may idle —
//! and its bodies within their [`BodyDeadline`]; at most [`Limits::max_connections`] are open at
//! once (further connects wait in the kernel's backlog), and at most
//! [`Limits::per_client`] of them from one client (see [`crate::client`]; trusted proxies
//! aside), so no one client can take every slot: one more from it is answered 503 with
//! `Retry-After` and closed. A shutdown lets in-flight requests finish.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use hyper::body::{Body as _, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::body_deadline::BodyDeadline;
use crate::client::{ClientKey, Clients};

/// How long a shutdown waits for in-flight requests before it stops anyway.
const DRAIN: Duration = Duration::from_secs(30);

/// What one connection may take.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The time a connection has to send a complete request head; also its keep-alive idle time.
    pub header_read_timeout: Duration,
    /// How long a request body may take.
    pub body: BodyDeadline,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one client (trusted proxies are not counted).
    pub per_client: usize,
    /// Who the trusted proxies are.
    pub clients: Clients,
}

/// What a client over its cap is told: how soon to try again.
const RETRY_AFTER_SECS: u64 = 5;

/// The connections open per client.
#[derive(Default)]
struct Open(Mutex<HashMap<ClientKey, usize>>);

/// One counted connection: uncounted when dropped.
struct Counted {
    open: Arc<Open>,
    client: ClientKey,
}

impl Open {
    /// Counts a connection of `client`, unless it has `cap` open already.
    fn count(self: &Arc<Self>, client: ClientKey, cap: usize) -> Option<Counted> {
        let mut open = self.0.lock().ok()?;
        let n = open.entry(client).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(Counted {
            open: self.clone(),
            client,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.0.lock()
            && let Some(n) = open.get_mut(&self.client)
        {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// Answers a connection over its client's cap with 503 and closes it, without reading it.
async fn turn_away(mut tcp: TcpStream) {
    const BODY: &str = "Too many connections from this address: try again shortly.";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: {RETRY_AFTER_SECS}\r\n\
         content-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = tcp.write_all(answer.as_bytes()).await;
        let _ = tcp.shutdown().await;
        // What the client sent is read and dropped until it closes too: a socket closed with
        // unread input is reset, and the client might never see the answer.
        let mut sink = [0u8; 4096];
        while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// The answer to a request whose body passed its deadline; the connection then closes.
fn too_slow() -> Response {
    let mut res = (
        StatusCode::REQUEST_TIMEOUT,
        "The request body did not arrive in time.",
    )
        .into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Serves `router` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let open = Arc::new(Open::default());
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Pages stream in several writes: without TCP_NODELAY, Nagle's algorithm holds the last
        // one back until the client's delayed ACK (~40 ms per page).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
        let counted = if limits.clients.is_trusted(peer.ip()) {
            None
        } else {
            match open.count(ClientKey::of(peer.ip()), limits.per_client.max(1)) {
                Some(counted) => Some(counted),
                None => {
                    tracing::warn!(client = %ClientKey::of(peer.ip()), "connection cap reached");
                    tokio::spawn(async move {
                        turn_away(tcp).await;
                        drop(permit);
                    });
                    continue;
                }
            }
        };
        let router = router.clone();
        let deadline = limits.body;
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let (mut parts, body) = req.into_parts();
            parts.extensions.insert(ConnectInfo::<SocketAddr>(peer));
            let (req, expired) = if body.is_end_stream() {
                (hyper::Request::from_parts(parts, Body::new(body)), None)
            } else {
                let (timed, expired) = deadline.apply(body);
                (
                    hyper::Request::from_parts(parts, Body::new(timed)),
                    Some(expired),
                )
            };
            let answer = router.clone().oneshot(req);
            async move {
                let res = answer.await?;
                Ok::<_, std::convert::Infallible>(match expired {
                    Some(expired) if expired.load(Ordering::Relaxed) => too_slow(),
                    _ => res,
                })
            }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(counted);
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => tracing::warn!("shutdown: requests still running after {DRAIN:?}"),
    }
}

/// Connections a burst may queue before they are accepted. std's default, 128, is too few: the
/// kernel drops the rest of a burst of a thousand, and each dropped SYN costs its client a
/// one-second retransmit. (The kernel caps it at `net.core.somaxconn`.)
const LISTEN_BACKLOG: u32 = 4096;

/// A listener on `addr` with [`LISTEN_BACKLOG`]: what the public and the ops listeners use.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
