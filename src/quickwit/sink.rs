//! The write side of a Quickwit index: documents looked up by key in batches, sent as NDJSON
//! (at most Quickwit's 10 MB a request), committed at the end of a run.
//!
//! Quickwit cannot replace a document: a changed article is removed by a delete task, then
//! sent again. Quickwit applies delete tasks in the background, so until it has, a search may
//! find both versions.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use serde_json::{Value, json};

use super::client::{Body, Client};
use super::document::{
    BANDS, CLUSTER, CONTENT_HASH, INDEXED_AT, NEWS_HASH, QuickwitDocument, QuickwitMapper,
    SIGNATURE, normalized_field,
};
use super::reader::QuickwitIndex;
use super::stories::Stories;
use super::{QuickwitError, Target};
use crate::backend::{ArticleSink, Copied, Storage, Written};
use crate::dedup::Signature;
use crate::schema::Schema;
use crate::schema::normalize_alias;

/// Documents whose keys are looked up in one search.
const LOOKUP_BATCH: usize = 500;
/// Articles of the index looked at as earlier copies of one batch's articles, at most.
const MAX_HELD_COPIES: usize = 10_000;
/// Bytes sent in one ingest request: under Quickwit's 10 MB limit, with room for the last line.
const MAX_REQUEST_BYTES: usize = 9 * 1024 * 1024;

/// How Quickwit is asked to make what it was sent searchable at a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// Wait for Quickwit's own commit (its `commit_timeout_secs`).
    WaitFor,
    /// Commit at once: small splits, for tests and small runs.
    Force,
}

impl CommitMode {
    fn parameter(self) -> &'static str {
        match self {
            CommitMode::WaitFor => "wait_for",
            CommitMode::Force => "force",
        }
    }
}

/// What the index holds under a key.
struct Held {
    content_hash: u64,
    news_hash: u64,
    indexed_at: u64,
}

pub struct QuickwitSink {
    target: Target,
    client: Arc<Client>,
    mapper: QuickwitMapper,
    commit: CommitMode,
    /// Written, not yet looked up.
    undecided: Vec<QuickwitDocument>,
    /// What was decided and not yet returned to the caller.
    decided: Vec<Written>,
    /// The content hash of each key written in this run: the first record with a key wins.
    seen: HashMap<String, u64>,
    /// Old versions to delete before their new ones are sent.
    replaced: Vec<String>,
    /// Documents to send, one JSON line each.
    lines: Vec<u8>,
    sending: Option<Sending>,
    /// The index held no article when the sink opened: keys need looking up only among those
    /// of this run.
    empty_at_open: bool,
    /// The indexing stamp given last, so that stamps increase.
    last_stamp: u64,
    /// The stories of the articles written in this run, when the schema looks for copies.
    stories: Stories,
}

impl QuickwitSink {
    pub fn open(
        target: &Target,
        schema: &Arc<Schema>,
        commit: CommitMode,
    ) -> Result<QuickwitSink, QuickwitError> {
        // Opening the read side checks the index exists with this schema's fields.
        QuickwitIndex::open(target, schema)?;
        let client = Arc::new(Client::new(target.nodes.clone()));
        let empty_at_open = articles(&client, &target.index)? == 0;
        Ok(QuickwitSink {
            target: target.clone(),
            client,
            sending: None,
            empty_at_open,
            mapper: QuickwitMapper::new(Arc::clone(schema)),
            commit,
            undecided: Vec::new(),
            decided: Vec::new(),
            seen: HashMap::new(),
            replaced: Vec::new(),
            lines: Vec::new(),
            last_stamp: 0,
            stories: Stories::default(),
        })
    }

    /// Looks the undecided documents' keys up and queues what must be sent.
    fn decide(&mut self) -> Result<(), QuickwitError> {
        if self.undecided.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.undecided);
        let unseen: Vec<&str> = batch
            .iter()
            .map(|document| document.key.as_str())
            .filter(|key| !self.seen.contains_key(*key))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let held = self.look_up(&unseen)?;
        let held_stories = self.held_stories(&batch)?;
        for document in batch {
            let (key, content_hash) = (document.key.clone(), document.content_hash);
            let written = match self.seen.get(&key) {
                Some(&hash) if hash == content_hash => Written::Unchanged,
                Some(_) => Written::Duplicate,
                None => match held.get(&key) {
                    Some(old) if old.content_hash == content_hash => Written::Unchanged,
                    Some(old) => {
                        self.replaced.push(key.clone());
                        // Same facets and text: not news again for saved searches.
                        let stamp = (old.news_hash == document.news_hash).then_some(old.indexed_at);
                        self.queue(document, stamp, &held_stories)?;
                        Written::Updated
                    }
                    None => {
                        self.queue(document, None, &held_stories)?;
                        Written::Added
                    }
                },
            };
            self.seen.entry(key).or_insert(content_hash);
            self.decided.push(written);
        }
        Ok(())
    }

    /// What the index holds under each of `keys`.
    fn look_up(&self, keys: &[&str]) -> Result<HashMap<String, Held>, QuickwitError> {
        if keys.is_empty() || self.empty_at_open {
            return Ok(HashMap::new());
        }
        let query = id_query(keys);
        let body = json!({ "query": query, "max_hits": keys.len() });
        let response: Value = self.client.post(
            &format!("/api/v1/{}/search", self.target.index),
            Body::Json(&body),
        )?;
        let mut held = HashMap::new();
        for hit in response["hits"].as_array().into_iter().flatten() {
            let number = |field: &str| hit[field].as_u64().unwrap_or(0);
            if let Some(id) = hit["id"].as_str() {
                held.insert(
                    id.to_owned(),
                    Held {
                        content_hash: number(CONTENT_HASH),
                        news_hash: number(NEWS_HASH),
                        indexed_at: number(INDEXED_AT),
                    },
                );
            }
        }
        Ok(held)
    }

    /// The articles the index held before this run that share a band with a document of
    /// `batch`: candidates for the stories of the batch's copies.
    fn held_stories(&self, batch: &[QuickwitDocument]) -> Result<Stories, QuickwitError> {
        let mut held = Stories::default();
        let bands: Vec<String> = batch
            .iter()
            .filter_map(|document| document.signature.as_ref())
            .flat_map(|signature| signature.bands())
            .map(|band| band.to_string())
            .collect();
        if bands.is_empty() || self.empty_at_open {
            return Ok(held);
        }
        let body = json!({
            "query": format!("{BANDS}:IN [{}]", bands.join(" ")),
            "max_hits": MAX_HELD_COPIES,
            "sort_by": format!("-{INDEXED_AT}"),
        });
        let response: Value = self.client.post(
            &format!("/api/v1/{}/search", self.target.index),
            Body::Json(&body),
        )?;
        // Oldest first, so that each band ends up with the last article written with it.
        for hit in response["hits"].as_array().into_iter().flatten() {
            let signature = hit[SIGNATURE].as_str().and_then(Signature::from_hex);
            if let (Some(signature), Some(cluster)) = (signature, hit[CLUSTER].as_str()) {
                held.remember(signature, cluster.to_owned());
            }
        }
        Ok(held)
    }

    /// Adds a document to the lines to send, stamped now (or with the stamp it keeps), with
    /// the story it is a copy of.
    fn queue(
        &mut self,
        document: QuickwitDocument,
        stamp: Option<u64>,
        held_stories: &Stories,
    ) -> Result<(), QuickwitError> {
        let stamp = stamp.unwrap_or_else(|| self.next_stamp());
        let mut json = document.json;
        json.push(INDEXED_AT, &json!(stamp));
        if self.mapper.finds_copies() {
            let cluster = match &document.signature {
                Some(signature) => self.stories.assign(&document.key, signature, held_stories),
                None => document.key.clone(),
            };
            json.push(
                &normalized_field(CLUSTER),
                &json!(normalize_alias(&cluster)),
            );
            json.push(CLUSTER, &json!(cluster));
        }
        let line = json.into_line();
        if self.lines.len() + line.len() > MAX_REQUEST_BYTES {
            self.send(None)?;
        }
        self.lines.extend_from_slice(&line);
        Ok(())
    }

    fn next_stamp(&mut self) -> u64 {
        let now = chrono::Utc::now().timestamp_micros().max(0) as u64;
        self.last_stamp = now.max(self.last_stamp + 1);
        self.last_stamp
    }

    /// Deletes the old versions of replaced articles, then sends the queued lines: on the
    /// sending thread while the run goes on, or, for a commit, after everything before them
    /// and with the commit.
    fn send(&mut self, commit: Option<CommitMode>) -> Result<(), QuickwitError> {
        let replaced = std::mem::take(&mut self.replaced);
        if !replaced.is_empty() {
            let keys: Vec<&str> = replaced.iter().map(String::as_str).collect();
            self.delete_task(&id_query(&keys))?;
        }
        let lines = std::mem::take(&mut self.lines);
        let Some(commit) = commit else {
            return self.send_in_background(lines);
        };
        self.wait_for_sending()?;
        // A batch is sent only when the next line does not fit beside it, so the lines held are
        // empty only when nothing was sent since the last commit.
        if lines.is_empty() {
            return Ok(());
        }
        ingest(&self.client, &self.ingest_path(commit.parameter()), &lines)
    }

    fn ingest_path(&self, commit: &str) -> String {
        format!(
            "/api/v1/{}/ingest?commit={commit}&detailed_response=true",
            self.target.index
        )
    }

    fn send_in_background(&mut self, lines: Vec<u8>) -> Result<(), QuickwitError> {
        if self.sending.is_none() {
            let (batches, received) = sync_channel::<Vec<u8>>(1);
            let client = Arc::clone(&self.client);
            let path = self.ingest_path("auto");
            let thread = std::thread::spawn(move || {
                for lines in received {
                    ingest(&client, &path, &lines)?;
                }
                Ok(())
            });
            self.sending = Some(Sending { batches, thread });
        }
        let sending = self.sending.as_ref().expect("started above");
        if sending.batches.send(lines).is_err() {
            // The thread stopped at an error: that is the error.
            return self.wait_for_sending();
        }
        Ok(())
    }

    /// Waits until every batch handed to the sending thread is sent.
    fn wait_for_sending(&mut self) -> Result<(), QuickwitError> {
        let Some(Sending { batches, thread }) = self.sending.take() else {
            return Ok(());
        };
        drop(batches);
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    fn delete_task(&self, query: &str) -> Result<(), QuickwitError> {
        let body = json!({ "query": query });
        self.client.post::<Value>(
            &format!("/api/v1/{}/delete-tasks", self.target.index),
            Body::Json(&body),
        )?;
        Ok(())
    }
}

/// The articles the index holds.
fn articles(client: &Client, index: &str) -> Result<u64, QuickwitError> {
    let body = json!({ "query": "*", "max_hits": 0, "count_all": true });
    let response: Value = client.post(&format!("/api/v1/{index}/search"), Body::Json(&body))?;
    Ok(response["num_hits"].as_u64().unwrap_or(0))
}

/// Sends one batch, and fails when Quickwit rejected any of its articles (naming a few).
fn ingest(client: &Client, path: &str, lines: &[u8]) -> Result<(), QuickwitError> {
    let response: Value = client.post(path, Body::Ndjson(lines))?;
    let rejected = response["num_rejected_docs"].as_u64().unwrap_or(0);
    if rejected == 0 {
        return Ok(());
    }
    let failures: Vec<String> = response["parse_failures"]
        .as_array()
        .into_iter()
        .flatten()
        .take(3)
        .map(|failure| {
            let id = failure["document"]
                .as_str()
                .and_then(|document| serde_json::from_str::<Value>(document).ok())
                .and_then(|document| document["id"].as_str().map(str::to_owned))
                .unwrap_or_default();
            format!(
                "{id}: {}",
                failure["message"].as_str().unwrap_or("rejected")
            )
        })
        .collect();
    Err(QuickwitError::Response {
        url: path.to_owned(),
        detail: format!(
            "Quickwit rejected {rejected} articles ({})",
            failures.join("; ")
        ),
    })
}

/// The thread that sends batches while the run reads and extracts the next ones.
struct Sending {
    batches: SyncSender<Vec<u8>>,
    thread: JoinHandle<Result<(), QuickwitError>>,
}

/// Documents whose id is one of `keys`.
fn id_query(keys: &[&str]) -> String {
    let terms: Vec<String> = keys
        .iter()
        .map(|key| {
            let escaped = key.replace('\\', "\\\\").replace('"', "\\\"");
            format!("id:\"{escaped}\"")
        })
        .collect();
    terms.join(" OR ")
}

impl ArticleSink for QuickwitSink {
    type Mapper = QuickwitMapper;
    type Error = QuickwitError;

    fn mapper(&self) -> QuickwitMapper {
        self.mapper.clone()
    }

    fn location(&self) -> String {
        self.target.to_string()
    }

    fn write(&mut self, document: QuickwitDocument) -> Result<Vec<Written>, QuickwitError> {
        self.undecided.push(document);
        if self.undecided.len() >= LOOKUP_BATCH {
            self.decide()?;
        }
        Ok(std::mem::take(&mut self.decided))
    }

    fn flush(&mut self) -> Result<Vec<Written>, QuickwitError> {
        self.decide()?;
        Ok(std::mem::take(&mut self.decided))
    }

    fn delete(&mut self, id: &str) -> Result<bool, QuickwitError> {
        self.decide()?;
        self.seen.remove(id);
        if self.look_up(&[id])?.is_empty() {
            return Ok(false);
        }
        self.delete_task(&id_query(&[id]))?;
        Ok(true)
    }

    fn commit(&mut self) -> Result<(), QuickwitError> {
        self.decide()?;
        self.send(Some(self.commit))
    }

    fn compact(&mut self) -> Result<(Storage, Storage), QuickwitError> {
        Err(QuickwitError::Unsupported {
            what: "`geonews compact`",
            instead: "Quickwit merges its splits itself, and its janitor removes deleted articles",
        })
    }

    fn backup(&mut self, _destination: &Path) -> Result<Copied, QuickwitError> {
        Err(QuickwitError::Unsupported {
            what: "`geonews backup`",
            instead: "back up the cluster's storage (its index root and metastore) instead",
        })
    }

    fn finish(mut self) -> Result<u64, QuickwitError> {
        self.commit()?;
        articles(&self.client, &self.target.index)
    }
}
