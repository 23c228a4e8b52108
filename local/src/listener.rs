//! The accept loop: HTTP/1.1 with a bound on connections and on how long a connection may
//! take to send a request head (idle keep-alive or slowloris alike). At the bound, the
//! connection idle longest (no request in flight) makes room for the new one: a flood of idle
//! or trickling connections cannot keep a client that sends its request out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;
use tower::ServiceExt;

/// How many connections, and how long one may wait before its request head is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serving {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

impl Default for Serving {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// One open connection: since when it has been idle, requests in flight, its task.
struct Open {
    idle_since: Mutex<Instant>,
    in_flight: AtomicUsize,
    abort: Mutex<Option<AbortHandle>>,
}

#[derive(Default)]
struct Table {
    open: Mutex<HashMap<u64, Arc<Open>>>,
}

impl Table {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Open>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the connection idle longest; `false` when every one is serving a request.
    fn evict_idlest(&self) -> bool {
        let mut open = self.lock();
        let idlest = open
            .iter()
            .filter(|(_, c)| c.in_flight.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, c)| *c.idle_since.lock().unwrap_or_else(|p| p.into_inner()))
            .map(|(id, _)| *id);
        let Some(id) = idlest else { return false };
        if let Some(c) = open.remove(&id)
            && let Some(abort) = c.abort.lock().unwrap_or_else(|p| p.into_inner()).take()
        {
            abort.abort();
        }
        true
    }
}

/// Serves `app` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, app: Router, serving: Serving) {
    let table = Arc::new(Table::default());
    let mut next_id = 0u64;
    let mut warned_full = None::<Instant>;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, typically: wait for some to close, keep serving.
                tracing::warn!("local server: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if table.lock().len() >= serving.max_connections {
            if warned_full.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                tracing::warn!(
                    max_connections = serving.max_connections,
                    "local server: connection limit reached; closing the idlest connections"
                );
                warned_full = Some(Instant::now());
            }
            if !table.evict_idlest() {
                continue; // every connection is mid-request: this one is dropped
            }
        }
        next_id += 1;
        let id = next_id;
        let open = Arc::new(Open {
            idle_since: Mutex::new(Instant::now()),
            in_flight: AtomicUsize::new(0),
            abort: Mutex::new(None),
        });
        table.lock().insert(id, open.clone());
        let task = tokio::spawn(connection(stream, peer, app.clone(), serving, open.clone()));
        *open.abort.lock().unwrap_or_else(|p| p.into_inner()) = Some(task.abort_handle());
        let table = table.clone();
        tokio::spawn(async move {
            let _ = task.await;
            table.lock().remove(&id);
        });
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    serving: Serving,
    open: Arc<Open>,
) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let app = app.clone();
        let open = open.clone();
        async move {
            open.in_flight.fetch_add(1, Ordering::AcqRel);
            req.extensions_mut().insert(ConnectInfo(peer));
            let resp = app.oneshot(req.map(axum::body::Body::new)).await;
            *open.idle_since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
            open.in_flight.fetch_sub(1, Ordering::AcqRel);
            resp
        }
    });
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(serving.header_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(e) = served
        && !e.is_incomplete_message()
    {
        tracing::debug!("local server: connection ended: {e}");
    }
}
