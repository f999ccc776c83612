//! The HTTP server: our own accept loop (so a fault can kill a connection without answering),
//! the fault/statistics middleware, and the unknown-route answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

use crate::envelope::Reply;
use crate::faults::{Action, CannedAnswer};
use crate::state::{AppState, RequestRecord};

const KILL_RESET: u8 = 1;
const KILL_DROP: u8 = 2;
const KILL_HANG: u8 = 3;

/// Lets a request end its own TCP connection without an answer.
#[derive(Clone, Default)]
pub struct ConnCtl(Arc<(Notify, AtomicU8)>);

impl ConnCtl {
    fn kill(&self, how: u8) {
        self.0.1.store(how, Ordering::SeqCst);
        // notify_one keeps a permit if the connection task is not waiting yet.
        self.0.0.notify_one();
    }
}

pub fn app(st: AppState) -> Router {
    crate::routes::router()
        .merge(crate::control::router())
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_route)
        .layer(middleware::from_fn_with_state(st.clone(), faults_and_stats))
        .with_state(st)
}

/// docs/tyk-dashboard-api.md §2.5, §12.2: routes the Dashboard lacks answer like Go's router
/// (status is a setting).
async fn unknown_route(State(st): State<AppState>) -> Reply {
    Reply::not_found_text(st.settings().missing_route_status)
}

async fn faults_and_stats(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if !(path.starts_with("/admin") || path.starts_with("/api")) {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_string();
    // Unmatched paths are recorded as sent; a test suite's paths are few.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let user_agent = req
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let conn = req.extensions().get::<ConnCtl>().cloned();
    // Counted until the answer is built, or until the connection dies (hang/reset/drop).
    let _in_flight = InFlight::enter(&st, method != "GET");
    let (latency, action) = st.faults.lock().decide(&method, &route, &path);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let record = |outcome: String| {
        st.stats.lock().record(RequestRecord {
            method: method.clone(),
            path: path.clone(),
            route: route.clone(),
            outcome,
            user_agent: user_agent.clone(),
            at_ms: st.started.elapsed().as_millis() as u64,
        })
    };
    let kill = |how: u8| {
        if let Some(c) = &conn {
            c.kill(how);
        }
    };
    match action {
        Action::Serve => {
            let resp = next.run(req).await;
            record(resp.status().as_u16().to_string());
            resp
        }
        Action::Error(code, message) => {
            record(code.to_string());
            let message = message.as_deref().unwrap_or("Injected fault (emulator)");
            Reply::err(code, message).into_response()
        }
        Action::Hang => {
            record("hang".into());
            kill(KILL_HANG);
            std::future::pending().await
        }
        Action::Reset => {
            record("reset".into());
            kill(KILL_RESET);
            std::future::pending().await
        }
        Action::CommitThenDrop => {
            let _ = next.run(req).await;
            record("dropped".into());
            kill(KILL_DROP);
            std::future::pending().await
        }
        Action::Answer(canned) => {
            if canned.after_commit {
                let _ = next.run(req).await;
            }
            record(canned.status.to_string());
            canned_response(&canned)
        }
    }
}

/// Counts a request until its handler ends (answered, or dropped with its connection: hyper
/// drops the handler's future then): every request in `Stats::in_flight` (and its maximum),
/// mutating ones also in `in_flight_writes`.
struct InFlight {
    st: AppState,
    write: bool,
}

impl InFlight {
    fn enter(st: &AppState, write: bool) -> InFlight {
        st.stats.lock().enter();
        if write {
            st.in_flight_writes.fetch_add(1, Ordering::SeqCst);
        }
        InFlight {
            st: st.clone(),
            write,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.st.stats.lock().leave();
        if self.write {
            self.st.in_flight_writes.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn canned_response(c: &CannedAnswer) -> Response {
    let mut resp = Response::new(axum::body::Body::from(c.body.clone()));
    *resp.status_mut() = http::StatusCode::from_u16(c.status).unwrap_or(http::StatusCode::OK);
    let headers = resp.headers_mut();
    if let Some(ct) = c.content_type.as_deref().and_then(|v| v.parse().ok()) {
        headers.insert(http::header::CONTENT_TYPE, ct);
    }
    if let Some(loc) = c.location.as_deref().and_then(|v| v.parse().ok()) {
        headers.insert(http::header::LOCATION, loc);
    }
    resp
}

/// Accepts connections until `shutdown` flips, serving each on its own task.
pub async fn serve(listener: TcpListener, app: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => return,
        };
        let Ok((tcp, _)) = accepted else {
            // Transient accept errors (e.g. EMFILE): back off briefly instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        tokio::spawn(connection(tcp, app.clone(), shutdown.clone()));
    }
}

async fn connection(tcp: TcpStream, app: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = tcp.set_nodelay(true);
    // A duplicate handle on the socket lets us reset or close it after hyper's copy is
    // dropped mid-request.
    let Ok((tcp, handle)) = dup(tcp) else { return };
    let ctl = ConnCtl::default();
    let inner = TowerToHyperService::new(app);
    let ctl2 = ctl.clone();
    let svc = hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ctl2.clone());
        let answer = hyper::service::Service::call(&inner, req);
        async move {
            let mut resp = answer.await?;
            // axum adds `Allow` to method mismatches; Go's router answers a bare 404.
            resp.headers_mut().remove(http::header::ALLOW);
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), svc);
    let how = tokio::select! {
        _ = conn => return,
        _ = ctl.0.0.notified() => ctl.0.1.load(Ordering::SeqCst),
        _ = shutdown.changed() => return,
    };
    // Hyper's half of the socket is gone from here on; `handle` decides how it ends.
    match how {
        KILL_RESET => {
            // SO_LINGER 0 makes the close send a RST. Tokio deprecates it because a
            // non-zero linger blocks on drop; a zero linger never blocks.
            #[allow(deprecated)]
            let _ = handle.set_linger(Some(Duration::ZERO));
        }
        KILL_DROP => {
            if let Ok(std) = handle.into_std() {
                let _ = std.shutdown(std::net::Shutdown::Both);
            }
        }
        KILL_HANG => {
            // Hyper does not read while a request is in flight, so it would never notice the
            // client giving up; watch for EOF ourselves so a hung request does not leak.
            tokio::select! {
                _ = wait_for_eof(&handle) => {}
                _ = shutdown.changed() => {}
            }
        }
        _ => {}
    }
}

async fn wait_for_eof(s: &TcpStream) {
    let mut buf = [0u8; 1];
    loop {
        match s.peek(&mut buf).await {
            Ok(0) | Err(_) => return,
            // Pipelined bytes we will never serve: poll again later rather than spin.
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn dup(tcp: TcpStream) -> std::io::Result<(TcpStream, TcpStream)> {
    let std = tcp.into_std()?;
    let other = std.try_clone()?;
    Ok((TcpStream::from_std(std)?, TcpStream::from_std(other)?))
}
