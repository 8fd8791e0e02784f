//! HTTP to a Quickwit cluster: requests go to a live node, and move to the next one when a node
//! cannot be reached; Quickwit's "slow down" answers (429, 503) are retried with backoff.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use ureq::http::StatusCode;
use ureq::{Agent, Timeout};

use super::QuickwitError;

/// Tries of one request that Quickwit asks to slow down, the first included: about a minute
/// of waiting in all.
const TRIES: u32 = 15;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A commit with `wait_for` waits for Quickwit's commit timeout; searches are quick.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The nodes of one cluster, tried in turn.
pub struct Client {
    nodes: Vec<String>,
    agent: Agent,
    /// The node that answered last: the first one tried.
    live: AtomicUsize,
}

/// A request body and its media type.
pub enum Body<'a> {
    Json(&'a serde_json::Value),
    Ndjson(&'a [u8]),
}

impl Client {
    /// `nodes` are base URLs (`http://host:7280`), without a trailing slash.
    pub fn new(nodes: Vec<String>) -> Client {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .build();
        Client {
            nodes,
            agent: Agent::new_with_config(config),
            live: AtomicUsize::new(0),
        }
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, QuickwitError> {
        self.call("GET", path, None)
    }

    pub fn post<T: DeserializeOwned>(&self, path: &str, body: Body) -> Result<T, QuickwitError> {
        self.call("POST", path, Some(body))
    }

    pub fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, QuickwitError> {
        self.call("DELETE", path, None)
    }

    /// Sends to the live node, then to each other node in turn while nodes cannot be reached.
    fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<Body>,
    ) -> Result<T, QuickwitError> {
        let first = self.live.load(Ordering::Relaxed);
        let mut unreachable = Vec::new();
        for step in 0..self.nodes.len() {
            let node = (first + step) % self.nodes.len();
            let url = format!("{}{path}", self.nodes[node]);
            match self.call_node(method, &url, body.as_ref()) {
                Err(Attempt::Unreachable(why)) => unreachable.push(format!("{url}: {why}")),
                Err(Attempt::Failed(error)) => return Err(error),
                Ok(text) => {
                    self.live.store(node, Ordering::Relaxed);
                    return serde_json::from_str(&text).map_err(|error| QuickwitError::Response {
                        url,
                        detail: format!("unexpected answer ({error}): {}", excerpt(&text)),
                    });
                }
            }
        }
        Err(QuickwitError::Unreachable(unreachable.join("; ")))
    }

    /// One node's answer, retrying while it asks to slow down.
    fn call_node(&self, method: &str, url: &str, body: Option<&Body>) -> Result<String, Attempt> {
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=TRIES {
            let sent = match (method, body) {
                ("GET", _) => self.agent.get(url).call(),
                ("DELETE", _) => self.agent.delete(url).call(),
                (_, Some(Body::Json(json))) => self
                    .agent
                    .post(url)
                    .header("Content-Type", "application/json")
                    .send(json.to_string().as_bytes()),
                (_, Some(Body::Ndjson(bytes))) => self
                    .agent
                    .post(url)
                    .header("Content-Type", "application/x-ndjson")
                    .send(*bytes),
                (_, None) => self.agent.post(url).send_empty(),
            };
            let response = sent.map_err(|error| describe(url, error))?;
            let status = response.status();
            let text = response
                .into_body()
                .with_config()
                .limit(1 << 30)
                .read_to_string()
                .map_err(|error| describe(url, error))?;
            if status.is_success() {
                return Ok(text);
            }
            let slow_down = status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::SERVICE_UNAVAILABLE;
            if slow_down && attempt < TRIES {
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            return Err(Attempt::Failed(QuickwitError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
                message: quickwit_message(&text),
            }));
        }
        unreachable!("the last try returns")
    }
}

enum Attempt {
    /// The node did not answer: another may.
    Unreachable(String),
    Failed(QuickwitError),
}

fn describe(url: &str, error: ureq::Error) -> Attempt {
    match error {
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            Attempt::Unreachable(error.to_string())
        }
        ureq::Error::Timeout(Timeout::Connect) => {
            Attempt::Unreachable("connection timed out".to_owned())
        }
        ureq::Error::Io(error) if is_connection_lost(&error) => {
            Attempt::Unreachable(error.to_string())
        }
        other => Attempt::Failed(QuickwitError::Response {
            url: url.to_owned(),
            detail: other.to_string(),
        }),
    }
}

fn is_connection_lost(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::AddrNotAvailable
    )
}

/// Quickwit's `{"message": ...}`, or the start of whatever else it said.
fn quickwit_message(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|json| json.get("message")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| excerpt(text))
}

fn excerpt(text: &str) -> String {
    let end = text
        .char_indices()
        .nth(300)
        .map_or(text.len(), |(index, _)| index);
    text[..end].trim().to_owned()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    use serde_json::Value;

    use super::*;

    /// A node that answers each request with the next of `answers` (status, body), then stops.
    fn node(answers: Vec<(u16, &'static str)>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for (status, body) in answers {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                reader
                    .by_ref()
                    .take(length)
                    .read_to_end(&mut Vec::new())
                    .unwrap();
                let mut stream = reader.into_inner();
                write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
            }
        });
        format!("http://{address}")
    }

    /// An address nothing listens on.
    fn dead_node() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{address}")
    }

    #[test]
    fn a_request_moves_to_the_next_node_when_one_cannot_be_reached() {
        let live = node(vec![(200, r#"{"ok":1}"#), (200, r#"{"ok":2}"#)]);
        let client = Client::new(vec![dead_node(), live]);
        let first: Value = client.get("/api/v1/x").unwrap();
        assert_eq!(first["ok"], 1);
        // The node that answered is tried first from then on.
        assert_eq!(client.live.load(Ordering::Relaxed), 1);
        let second: Value = client.get("/api/v1/x").unwrap();
        assert_eq!(second["ok"], 2);
    }

    #[test]
    fn slow_down_answers_are_retried() {
        let busy = node(vec![
            (429, "too many requests"),
            (503, "unavailable"),
            (200, r#"{"ok":true}"#),
        ]);
        let client = Client::new(vec![busy]);
        let answer: Value = client
            .post("/api/v1/x/ingest", Body::Ndjson(b"{}\n"))
            .unwrap();
        assert_eq!(answer["ok"], true);
    }

    #[test]
    fn an_error_carries_quickwits_message() {
        let failing = node(vec![(400, r#"{"message":"failed to parse query: `a:(`"}"#)]);
        let client = Client::new(vec![failing]);
        let error = client.get::<Value>("/api/v1/x/search").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "Quickwit answered 400 to {}/api/v1/x/search: failed to parse query: `a:(`",
                client.nodes[0]
            )
        );
    }

    #[test]
    fn no_node_reachable_names_each() {
        let client = Client::new(vec![dead_node(), dead_node()]);
        let error = client.get::<Value>("/api/v1/x").unwrap_err().to_string();
        assert!(
            error.starts_with("no Quickwit node answered: http://127.0.0.1:"),
            "{error}"
        );
        assert_eq!(error.matches("/api/v1/x:").count(), 2, "{error}");
    }
}
