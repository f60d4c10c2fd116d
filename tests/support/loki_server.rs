//! An in-process Loki stand-in on 127.0.0.1 for integration tests: it records every request
//! (path, decoded query parameters, headers) and answers with what the test's script says —
//! usually a captured real Loki response from `tests/fixtures/loki/`. The tail websocket is
//! scripted per connection (frames, pauses, drops).
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Path without the query string.
    pub path: String,
    /// Decoded query parameters in order (repeats kept).
    pub params: Vec<(String, String)>,
    /// Header names (lower case) → value.
    pub headers: HashMap<String, String>,
}

impl Recorded {
    /// The first value of a parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

/// What to answer an HTTP request with.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A JSON body with a status.
    Json(u16, String),
    /// A plain-text body with a status (Loki's error style).
    Text(u16, String),
    /// Wait, then answer.
    After(Duration, Box<Reply>),
    /// Send the status and headers and part of the body, then drop the connection.
    CutOff(String),
    /// Send the status and headers and part of the body, then stall (a hung backend behind a
    /// proxy that already answered).
    StallMidBody(String, Duration),
}

/// A scripted step on a tail websocket.
#[derive(Debug, Clone)]
pub enum WsStep {
    /// Send a text frame.
    Text(String),
    /// Pause.
    Sleep(Duration),
    /// Close the connection abruptly (no close frame).
    Drop,
    /// Keep the connection open until the client leaves.
    Hold,
}

/// The handler scripts: HTTP by request; tail by (request, connection number from 0).
pub type HttpScript = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;
/// Tail script: `Err(reply)` refuses the upgrade with that HTTP answer.
pub type TailScript = Arc<dyn Fn(&Recorded, usize) -> Result<Vec<WsStep>, Reply> + Send + Sync>;

#[derive(Clone)]
struct ServerState {
    http: HttpScript,
    tail: TailScript,
    log: Arc<Mutex<Vec<Recorded>>>,
    tail_connections: Arc<Mutex<usize>>,
}

/// A running replay server.
pub struct LokiServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl LokiServer {
    /// Starts a server with an HTTP script and no tail.
    pub async fn start(http: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> LokiServer {
        Self::start_with_tail(http, |_, _| Err(Reply::Text(404, "404 page not found\n".into()))).await
    }

    /// Starts a server with HTTP and tail scripts.
    pub async fn start_with_tail(
        http: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
        tail: impl Fn(&Recorded, usize) -> Result<Vec<WsStep>, Reply> + Send + Sync + 'static,
    ) -> LokiServer {
        let state = ServerState {
            http: Arc::new(http),
            tail: Arc::new(tail),
            log: Arc::new(Mutex::new(Vec::new())),
            tail_connections: Arc::new(Mutex::new(0)),
        };
        let log = state.log.clone();
        let app = Router::new()
            .route("/loki/api/v1/tail", any(tail_handler))
            .fallback(http_handler)
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        LokiServer { url: format!("http://{addr}"), addr, log }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().expect("log lock").clone()
    }

    /// Requests to one path.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.path == path).collect()
    }
}

fn record(uri: &axum::http::Uri, headers: &HeaderMap) -> Recorded {
    let params = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    Recorded { path: uri.path().to_string(), params, headers }
}

async fn http_handler(State(state): State<ServerState>, request: Request) -> Response {
    let recorded = record(request.uri(), request.headers());
    state.log.lock().expect("log lock").push(recorded.clone());
    let reply = (state.http)(&recorded);
    respond(reply).await
}

async fn respond(mut reply: Reply) -> Response {
    loop {
        match reply {
            Reply::After(delay, inner) => {
                tokio::time::sleep(delay).await;
                reply = *inner;
            }
            Reply::Json(status, body) => {
                return (status_code(status), [(header::CONTENT_TYPE, "application/json; charset=UTF-8")], body).into_response();
            }
            Reply::Text(status, body) => {
                return (status_code(status), [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
            }
            Reply::CutOff(partial) => {
                let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                    Ok(Bytes::from(partial)),
                    Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut off")),
                ];
                let body = Body::from_stream(futures_util::stream::iter(chunks));
                return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=UTF-8")], body).into_response();
            }
            Reply::StallMidBody(partial, stall) => {
                return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=UTF-8")], stalled_body(partial, stall))
                    .into_response();
            }
        }
    }
}

/// A body that sends `partial`, then nothing for `stall`, then ends.
pub fn stalled_body(partial: String, stall: Duration) -> Body {
    let first = futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(partial)) });
    let rest = futures_util::stream::once(async move {
        tokio::time::sleep(stall).await;
        Ok::<_, std::io::Error>(Bytes::new())
    });
    Body::from_stream(futures_util::StreamExt::chain(first, rest))
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn tail_handler(
    State(state): State<ServerState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let recorded = record(&uri, &headers);
    state.log.lock().expect("log lock").push(recorded.clone());
    let n = {
        let mut count = state.tail_connections.lock().expect("count lock");
        *count += 1;
        *count - 1
    };
    let steps = match (state.tail)(&recorded, n) {
        Ok(steps) => steps,
        Err(reply) => return respond(reply).await,
    };
    let Ok(ws) = ws else { return respond(Reply::Text(400, "websocket upgrade expected".into())).await };
    ws.on_upgrade(move |mut socket| async move {
        for step in steps {
            match step {
                WsStep::Text(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                WsStep::Sleep(d) => tokio::time::sleep(d).await,
                WsStep::Drop => return,
                WsStep::Hold => {
                    while let Some(Ok(_)) = socket.recv().await {}
                    return;
                }
            }
        }
        let _ = socket.send(Message::Close(None)).await;
    })
}

/// Path of a fixture file.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/loki").join(name)
}

/// A fixture's text.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Replies with a fixture: `.json` as JSON 200, `.txt` as text with the given status.
pub fn json_fixture(name: &str) -> Reply {
    Reply::Json(200, fixture(name))
}

/// A captured categorized answer as Loki sends it for the same query without its parser
/// stage: every line's `parsed` object taken out (structured metadata stays).
pub fn raw_fixture(name: &str) -> Reply {
    let mut body: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"));
    for stream in body["data"]["result"].as_array_mut().into_iter().flatten() {
        for value in stream["values"].as_array_mut().into_iter().flatten() {
            if let Some(extra) = value.get_mut(2).and_then(serde_json::Value::as_object_mut) {
                extra.remove("parsed");
            }
        }
    }
    Reply::Json(200, body.to_string())
}
