//! A scripted HTTP/1.1 server for answer shapes the emulator does not produce (pre-2019
//! envelopes, 48-hex ids, proxies, echoed secrets). One answer per connection, then close.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

type Handler = dyn Fn(&Seen) -> (u16, String) + Send + Sync;

#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

pub struct Mock {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    gauge: Arc<Gauge>,
    task: tokio::task::JoinHandle<()>,
}

impl Mock {
    pub async fn start(handler: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static) -> Mock {
        Self::start_with_delay(Duration::ZERO, handler).await
    }

    /// Every answer is held back by `delay`, so concurrent requests overlap visibly.
    pub async fn start_with_delay(
        delay: Duration,
        handler: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static,
    ) -> Mock {
        let gauge = Arc::new(Gauge::default());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let task = tokio::spawn({
            let (seen, gauge) = (seen.clone(), gauge.clone());
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (seen, handler, gauge) = (seen.clone(), handler.clone(), gauge.clone());
                    tokio::spawn(async move {
                        let _ = serve(stream, seen, handler, gauge, delay).await;
                    });
                }
            }
        });
        Mock {
            url,
            seen,
            gauge,
            task,
        }
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.gauge.max.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    seen: Arc<Mutex<Vec<Seen>>>,
    handler: Arc<Handler>,
    gauge: Arc<Gauge>,
    delay: Duration,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let req = Seen {
        method,
        target,
        headers,
        body,
    };
    let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
    gauge.max.fetch_max(now, Ordering::SeqCst);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    gauge.now.fetch_sub(1, Ordering::SeqCst);
    let (status, answer) = handler(&req);
    seen.lock().unwrap().push(req);
    // A 3xx answer's "body" is its Location.
    let (location, answer) = match status {
        300..=399 => (format!("Location: {answer}\r\n"), String::new()),
        _ => (String::new(), answer),
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\n{location}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
