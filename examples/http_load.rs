//! A small HTTP load generator for `geonews serve`: N clients, each on its own keep-alive
//! connection, send one query after another from a file of queries (one a line) for a fixed
//! time, and the latency of every request is recorded. Prints one JSON object: requests,
//! errors, throughput and latency percentiles.
//!
//! `cargo run --release --example http_load -- --address 127.0.0.1:4747 --queries q.txt \
//!     --concurrency 8 --seconds 10 --path '/api/search?facets=country&q='`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use geonews::server::url_encode;

#[derive(Debug, Parser)]
struct Args {
    /// The server's address
    #[arg(long)]
    address: SocketAddr,
    /// Queries, one a line; each request takes the next
    #[arg(long)]
    queries: PathBuf,
    /// Clients sending at once, each on one keep-alive connection
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// How long to send for, after a warm-up of one pass over the queries
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The request path; the URL-encoded query is appended
    #[arg(long, default_value = "/api/search?facets=country&limit=10&q=")]
    path: String,
}

fn main() {
    let args = Args::parse();
    let queries: Arc<Vec<String>> = Arc::new(
        std::fs::read_to_string(&args.queries)
            .expect("readable queries")
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| format!("{}{}", args.path, url_encode(line.trim())))
            .collect(),
    );
    assert!(
        !queries.is_empty(),
        "no queries in {}",
        args.queries.display()
    );
    warm_up(args.address, &queries);
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let clients: Vec<_> = (0..args.concurrency)
        .map(|client| {
            let queries = Arc::clone(&queries);
            let address = args.address;
            std::thread::spawn(move || run_client(address, &queries, client, deadline))
        })
        .collect();
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    for client in clients {
        let (latencies, failed) = client.join().expect("a client thread");
        latencies_us.extend(latencies);
        errors += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies_us.sort_unstable();
    let percentile = |fraction: f64| {
        let rank = ((latencies_us.len() as f64 - 1.0) * fraction).round() as usize;
        latencies_us.get(rank).copied().unwrap_or(0)
    };
    println!(
        "{{\"concurrency\": {}, \"requests\": {}, \"errors\": {errors}, \"seconds\": {elapsed:.3}, \
         \"requests_per_s\": {:.1}, \"p50_us\": {}, \"p99_us\": {}, \"max_us\": {}}}",
        args.concurrency,
        latencies_us.len(),
        latencies_us.len() as f64 / elapsed,
        percentile(0.50),
        percentile(0.99),
        latencies_us.last().copied().unwrap_or(0)
    );
}

fn warm_up(address: SocketAddr, queries: &[String]) {
    let mut connection = Connection::open(address);
    for path in queries {
        let status = connection.get(path).expect("the warm-up pass is answered");
        assert_eq!(status, 200, "{path} was answered {status}");
    }
}

/// Sends queries in turn (each client starting at its own offset) until the deadline.
fn run_client(
    address: SocketAddr,
    queries: &[String],
    client: usize,
    deadline: Instant,
) -> (Vec<u64>, usize) {
    let mut connection = Connection::open(address);
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut next = client * 7;
    while Instant::now() < deadline {
        let path = &queries[next % queries.len()];
        next += 1;
        let started = Instant::now();
        match connection.get(path) {
            Ok(200) => latencies.push(started.elapsed().as_micros() as u64),
            Ok(_) => errors += 1,
            Err(_) => {
                errors += 1;
                connection = Connection::open(address);
            }
        }
    }
    (latencies, errors)
}

struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// The `Host` header: the server's address, a loopback name it answers.
    host: String,
}

impl Connection {
    fn open(address: SocketAddr) -> Connection {
        let stream = TcpStream::connect(address).expect("the server accepts connections");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Connection {
            writer: stream.try_clone().expect("a second handle"),
            reader: BufReader::new(stream),
            host: address.to_string(),
        }
    }

    /// One GET on the kept-alive connection; the status, with the body read and dropped.
    fn get(&mut self, path: &str) -> std::io::Result<u16> {
        write!(
            self.writer,
            "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n",
            self.host
        )?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not a status line: {line:?}")))?;
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok(status)
    }
}
