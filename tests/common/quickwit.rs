//! Quickwit nodes for the live tests: started from the binary `GEONEWS_QUICKWIT` names, on
//! 127.0.0.1 with free ports and data in a temporary folder (telemetry off), or the running
//! node `GEONEWS_QUICKWIT_URL` names. build.rs marks the tests ignored without either.

use std::fs;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a node may take to answer `/health/readyz`.
const READY_WITHIN: Duration = Duration::from_secs(120);

/// A Quickwit node this test started; killed when dropped.
pub struct Node {
    child: Child,
    pub rest_port: u16,
    pub gossip_port: u16,
    pub log: PathBuf,
}

impl Node {
    pub fn url(&self) -> String {
        format!("127.0.0.1:{}", self.rest_port)
    }

    /// Stops the node at once, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What runs one node: its roles, and the cluster it joins.
pub struct NodeSpec<'a> {
    pub name: &'a str,
    pub services: &'a [&'a str],
    /// The folder every node of the cluster shares: metastore and splits.
    pub storage: &'a Path,
    pub seed: Option<u16>,
}

/// Where the live tests send their requests: nodes they started, or a running one.
pub enum Quickwit {
    Started { nodes: Vec<Node>, _data: TempDir },
    Running(String),
}

impl Quickwit {
    /// One node with every role, or the node of `GEONEWS_QUICKWIT_URL`.
    pub fn single() -> Quickwit {
        if let Some(url) = option_env!("GEONEWS_TEST_QUICKWIT_URL") {
            let host = url
                .trim_end_matches('/')
                .trim_start_matches("http://")
                .to_owned();
            return Quickwit::Running(host);
        }
        let data = TempDir::new().unwrap();
        let node = start(&NodeSpec {
            name: "single",
            services: &[
                "metastore",
                "control_plane",
                "indexer",
                "searcher",
                "janitor",
            ],
            storage: data.path(),
            seed: None,
        });
        Quickwit::Started {
            nodes: vec![node],
            _data: data,
        }
    }

    /// `quickwit+http://HOST:PORT/INDEX` for a fresh index name.
    pub fn engine(&self, index: &str) -> String {
        let host = match self {
            Quickwit::Started { nodes, .. } => nodes[0].url(),
            Quickwit::Running(host) => host.clone(),
        };
        format!("quickwit+http://{host}/{}", unique(index))
    }
}

/// An index name no other test of this run, or earlier run against the same node, uses.
pub fn unique(name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!(
        "{name}-{}-{seconds}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Starts a node of the binary `GEONEWS_QUICKWIT` names and waits until it is ready.
pub fn start(spec: &NodeSpec) -> Node {
    let Some(binary) = option_env!("GEONEWS_TEST_QUICKWIT") else {
        panic!("GEONEWS_QUICKWIT named no quickwit binary when the tests were built");
    };
    let rest_port = free_tcp_port();
    let grpc_port = free_tcp_port();
    let gossip_port = free_udp_port();
    let folder = spec.storage.join(spec.name);
    fs::create_dir_all(folder.join("data")).unwrap();
    let storage = spec.storage.display();
    let seeds = spec
        .seed
        .map(|port| format!("peer_seeds:\n  - 127.0.0.1:{port}\n"))
        .unwrap_or_default();
    let services = spec.services.join(", ");
    let config = format!(
        "version: 0.8\n\
         node_id: {name}\n\
         cluster_id: geonews-test\n\
         listen_address: 127.0.0.1\n\
         rest:\n  listen_port: {rest_port}\n\
         grpc_listen_port: {grpc_port}\n\
         gossip_listen_port: {gossip_port}\n\
         data_dir: {data}\n\
         metastore_uri: file://{storage}/metastore\n\
         default_index_root_uri: file://{storage}/indexes\n\
         enabled_services: [{services}]\n\
         {seeds}",
        name = spec.name,
        data = folder.join("data").display(),
    );
    let config_path = folder.join("node.yaml");
    fs::write(&config_path, config).unwrap();
    let log = folder.join("node.log");
    let child = Command::new(binary)
        .arg("run")
        .arg("--config")
        .arg(&config_path)
        .env("QW_DISABLE_TELEMETRY", "1")
        .stdout(Stdio::from(fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(
            fs::File::create(folder.join("node.err")).unwrap(),
        ))
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {binary}: {error}"));
    let mut node = Node {
        child,
        rest_port,
        gossip_port,
        log,
    };
    wait_ready(&mut node);
    node
}

fn wait_ready(node: &mut Node) {
    let started = Instant::now();
    let url = format!("http://{}/health/readyz", node.url());
    while started.elapsed() < READY_WITHIN {
        if let Some(status) = node.child.try_wait().unwrap() {
            panic!(
                "quickwit exited ({status}) before it was ready: see {}",
                node.log.display()
            );
        }
        if ureq::get(&url)
            .call()
            .is_ok_and(|response| response.status().is_success())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "quickwit was not ready within {READY_WITHIN:?}: see {}",
        node.log.display()
    );
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
