//! A small web server on 127.0.0.1 for the tests that index URLs: it serves files of
//! sample-corpus/web and a few misbehaving routes, and records what it was asked.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A request as the server saw it: its path and its conditional headers.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub if_none_match: Option<String>,
    pub user_agent: Option<String>,
}

pub struct WebServer {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl WebServer {
    /// Serves `root`: every file with an ETag of its length, and these routes besides:
    /// `/robots.txt` (disallows `/private/`), `/status/NNN`, `/hang` (never answers),
    /// `/huge` (an endless body), `/binary.png`.
    pub fn start(root: PathBuf) -> WebServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&seen);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, recorded) = (root.clone(), Arc::clone(&recorded));
                thread::spawn(move || answer(stream, &root, &recorded));
            }
        });
        WebServer { port, seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn seen(&self, path: &str) -> Vec<Seen> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|s| s.path == path).cloned().collect()
    }
}

fn answer(stream: TcpStream, root: &std::path::Path, seen: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut request = Seen {
        path: path.clone(),
        if_none_match: None,
        user_agent: None,
    };
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = Some(value.trim().to_owned());
            match name.trim().to_ascii_lowercase().as_str() {
                "if-none-match" => request.if_none_match = value,
                "user-agent" => request.user_agent = value,
                _ => {}
            }
        }
    }
    seen.lock().unwrap().push(request.clone());
    let mut stream = stream;
    match path.as_str() {
        "/robots.txt" => respond(
            &mut stream,
            "200 OK",
            "text/plain",
            None,
            b"User-agent: *\nDisallow: /private/\n",
        ),
        "/hang" => thread::sleep(Duration::from_secs(30)),
        "/huge" => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n";
            let _ = stream.write_all(head.as_bytes());
            let chunk = vec![b'x'; 64 * 1024];
            // About 2 GB if nobody stops reading; the client gives up at its cap.
            for _ in 0..32_768 {
                if stream.write_all(&chunk).is_err() {
                    return;
                }
            }
        }
        "/binary.png" => respond(
            &mut stream,
            "200 OK",
            "image/png",
            None,
            b"\x89PNG\r\n\x1a\n\0\0",
        ),
        status if status.starts_with("/status/") => {
            let code = &status["/status/".len()..];
            respond(
                &mut stream,
                &format!("{code} Status"),
                "text/html",
                None,
                b"<html></html>",
            );
        }
        _ => match std::fs::read(root.join(path.trim_start_matches('/'))) {
            Ok(body) => {
                let etag = format!("\"{}\"", body.len());
                if request.if_none_match.as_deref() == Some(etag.as_str()) {
                    respond(
                        &mut stream,
                        "304 Not Modified",
                        "text/html",
                        Some(&etag),
                        b"",
                    );
                } else {
                    respond(
                        &mut stream,
                        "200 OK",
                        content_type(&path),
                        Some(&etag),
                        &body,
                    );
                }
            }
            Err(_) => respond(
                &mut stream,
                "404 Not Found",
                "text/html",
                None,
                b"<html>gone</html>",
            ),
        },
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("rss" | "xml") => "application/rss+xml",
        Some("atom") => "application/atom+xml",
        Some("xhtml") => "application/xhtml+xml",
        _ => "text/html",
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    etag: Option<&str>,
    body: &[u8],
) {
    let etag = etag
        .map(|etag| format!("ETag: {etag}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{etag}Content-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}
