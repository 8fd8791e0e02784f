//! The read → map → extract pipeline that `index`, `extract` and `eval` share.
//!
//! A reader thread reads the files in order and sends records in batches over a bounded
//! channel, so reading overlaps with the rest and memory stays bounded however large the corpus:
//! a batch holds at most [`BATCH_SIZE`] records and about [`BATCH_BYTES`], and at most
//! [`BATCHES_AHEAD`] batches wait in the channel, with one more being read and one
//! being analysed. Each batch goes to rayon to be mapped to articles,
//! have its entities extracted and be prepared for the caller; results come back in input
//! order.

use std::mem;
use std::ops::ControlFlow;
use std::sync::mpsc::{self, SyncSender};

use rayon::prelude::*;

use crate::article::{Article, Origin};
use crate::extract::{Entities, Extractor, UnknownTag};
use crate::ingest::{
    self, Discovery, InputFile, Item, Problem, RawRecord, ReadLimits, RecordOutcome,
};

const BATCH_SIZE: usize = 512;
/// A batch is sent sooner when its records hold this much (web pages are large).
const BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Batches read ahead of the one being analysed.
const BATCHES_AHEAD: usize = 2;

/// An article with its entities.
pub struct Analysed {
    pub article: Article,
    pub entities: Entities,
}

/// Where the pipeline's output goes, one item at a time, in input order.
pub trait Sink<T> {
    type Error;

    /// A problem with a file or a record (reading goes on unless this returns an error).
    fn problem(&mut self, problem: &Problem) -> Result<(), Self::Error>;

    /// One prepared article.
    fn accept(&mut self, prepared: T) -> Result<(), Self::Error>;

    /// A file has been read to its end.
    fn file_done(&mut self) {}
}

/// Runs every discovered file through the pipeline: `prepare` runs in parallel on each
/// analysed article, and the sink receives its results and every problem. An error from the
/// sink stops the reading.
pub fn run<T, S>(
    discovery: &Discovery,
    extractor: &Extractor,
    prepare: impl Fn(Analysed) -> T + Sync,
    sink: &mut S,
) -> Result<(), S::Error>
where
    T: Send,
    S: Sink<T>,
{
    for problem in &discovery.problems {
        sink.problem(problem)?;
    }
    let (sender, batches) = mpsc::sync_channel(BATCHES_AHEAD);
    let (files, limits) = (discovery.files.clone(), discovery.limits);
    // Not a scoped thread: when the sink fails, nobody waits for a reader that may be blocked
    // on standard input. Dropping `batches` stops it at its next send.
    let reader = std::thread::spawn(move || read_batches(&files, &limits, sender));
    for batch in batches {
        deliver(analyse_batch(batch, extractor, &limits, &prepare), sink)?;
    }
    // The channel closed because the reader finished, or panicked: pass a panic on.
    if let Err(panic) = reader.join() {
        std::panic::resume_unwind(panic);
    }
    Ok(())
}

/// What the reader sends, in input order. Problems wait in the batch beside the records, so
/// that the sink sees everything in input order (and `--strict` stops at the first problem).
enum Pending {
    Record(Origin, RawRecord),
    Problem(Problem),
    FileDone,
}

/// A pending item after analysis.
enum Outcome<T> {
    Prepared(T, Vec<Problem>),
    Problem(Problem),
    FileDone,
}

/// Reads `files` in order into batches for the channel, until the files end or the receiver
/// hangs up.
fn read_batches(files: &[InputFile], limits: &ReadLimits, sender: SyncSender<Vec<Pending>>) {
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    let mut batch_bytes = 0;
    for file in files {
        let mut hung_up = false;
        ingest::read(file, limits, &mut |item| {
            batch.push(match item {
                Item::Record { origin, record } => {
                    batch_bytes += record.approximate_bytes();
                    Pending::Record(origin, record)
                }
                Item::Problem(problem) => Pending::Problem(problem),
            });
            if batch.len() < BATCH_SIZE && batch_bytes < BATCH_BYTES {
                return ControlFlow::Continue(());
            }
            batch_bytes = 0;
            let full = mem::replace(&mut batch, Vec::with_capacity(BATCH_SIZE));
            hung_up = sender.send(full).is_err();
            if hung_up {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if hung_up {
            return;
        }
        batch.push(Pending::FileDone);
    }
    // The receiver may have hung up: then nobody needs the rest.
    let _ = sender.send(batch);
}

fn analyse_batch<T: Send>(
    batch: Vec<Pending>,
    extractor: &Extractor,
    limits: &ReadLimits,
    prepare: &(impl Fn(Analysed) -> T + Sync),
) -> Vec<Outcome<T>> {
    batch
        .into_par_iter()
        .map(|pending| match pending {
            Pending::Record(origin, record) => match analyse(extractor, limits, origin, record) {
                Ok((analysed, warnings)) => Outcome::Prepared(prepare(analysed), warnings),
                Err(problem) => Outcome::Problem(problem),
            },
            Pending::Problem(problem) => Outcome::Problem(problem),
            Pending::FileDone => Outcome::FileDone,
        })
        .collect()
}

fn deliver<T, S: Sink<T>>(outcomes: Vec<Outcome<T>>, sink: &mut S) -> Result<(), S::Error> {
    for outcome in outcomes {
        match outcome {
            Outcome::Prepared(prepared, warnings) => {
                for warning in &warnings {
                    sink.problem(warning)?;
                }
                sink.accept(prepared)?;
            }
            Outcome::Problem(problem) => sink.problem(&problem)?,
            Outcome::FileDone => sink.file_done(),
        }
    }
    Ok(())
}

/// Maps a record to an article and extracts its entities, with the warnings of both.
fn analyse(
    extractor: &Extractor,
    limits: &ReadLimits,
    origin: Origin,
    record: RawRecord,
) -> Result<(Analysed, Vec<Problem>), Problem> {
    let (mut article, mut warnings) = match ingest::to_article(record) {
        RecordOutcome::Article { article, warnings } => (*article, warnings),
        RecordOutcome::Skipped(reason) => return Err(Problem::skipped(origin, reason)),
    };
    if article.body.len() > limits.max_article {
        warnings.push(format!(
            "body of {} cut to {} (--max-article)",
            ingest::megabytes(article.body.len() as u64),
            ingest::megabytes(limits.max_article as u64)
        ));
        ingest::cut_to(&mut article.body, limits.max_article);
    }
    let (entities, unknown_tags) = extractor.extract(&article);
    let warnings = warnings
        .into_iter()
        .chain(unknown_tags.iter().map(UnknownTag::to_string))
        .map(|warning| Problem::warning(origin.clone(), warning))
        .collect();
    let analysed = Analysed { article, entities };
    Ok((analysed, warnings))
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::Path;

    use super::*;
    use crate::schema::Schema;

    /// Writes down everything the pipeline hands on; fails once `accepts_before_failing` is
    /// spent.
    #[derive(Default)]
    struct Recorder {
        events: Vec<String>,
        accepts_before_failing: Option<usize>,
    }

    impl Sink<String> for Recorder {
        type Error = &'static str;

        fn problem(&mut self, problem: &Problem) -> Result<(), &'static str> {
            self.events.push(format!("problem: {}", problem.message));
            Ok(())
        }

        fn accept(&mut self, key: String) -> Result<(), &'static str> {
            if let Some(left) = &mut self.accepts_before_failing {
                if *left == 0 {
                    return Err("the sink gave up");
                }
                *left -= 1;
            }
            self.events.push(key);
            Ok(())
        }

        fn file_done(&mut self) {
            self.events.push("file done".to_owned());
        }
    }

    fn extractor() -> Extractor {
        let schema = Schema::builtin().unwrap();
        Extractor::new(&schema.dictionaries, &schema.places().unwrap()).unwrap()
    }

    /// A JSON Lines file of articles `{prefix}-0`..; the line numbers in `broken` hold no JSON.
    fn write_articles(dir: &Path, name: &str, count: usize, broken: &[usize]) {
        let mut lines = String::new();
        for n in 0..count {
            if broken.contains(&n) {
                lines.push_str("{not json\n");
            } else {
                let _ = writeln!(lines, r#"{{"id": "{name}-{n}", "title": "Article {n}"}}"#);
            }
        }
        std::fs::write(dir.join(format!("{name}.jsonl")), lines).unwrap();
    }

    #[test]
    fn everything_arrives_in_input_order_across_batches_and_files() {
        let dir = tempfile::tempdir().unwrap();
        // More than two batches in the first file, with a problem in the second batch.
        write_articles(dir.path(), "a", 3 * BATCH_SIZE + 7, &[BATCH_SIZE + 3]);
        write_articles(dir.path(), "b", 3, &[]);
        let discovery = ingest::discover(&[dir.path().to_path_buf()], None);
        let mut recorder = Recorder::default();
        run(&discovery, &extractor(), |a| a.article.key, &mut recorder).unwrap();
        let mut expected: Vec<String> = (0..3 * BATCH_SIZE + 7)
            .map(|n| {
                if n == BATCH_SIZE + 3 {
                    "problem: invalid JSON".to_owned()
                } else {
                    format!("a-{n}")
                }
            })
            .collect();
        expected.push("file done".to_owned());
        expected.extend(["b-0", "b-1", "b-2", "file done"].map(str::to_owned));
        let events: Vec<String> = recorder
            .events
            .iter()
            .map(|event| event.split(" (").next().unwrap().to_owned())
            .collect();
        assert_eq!(events, expected);
    }

    #[test]
    fn a_failing_sink_stops_the_reading() {
        let dir = tempfile::tempdir().unwrap();
        write_articles(dir.path(), "a", 20 * BATCH_SIZE, &[]);
        let discovery = ingest::discover(&[dir.path().to_path_buf()], None);
        let mut recorder = Recorder {
            accepts_before_failing: Some(BATCH_SIZE + 10),
            ..Recorder::default()
        };
        let outcome = run(&discovery, &extractor(), |a| a.article.key, &mut recorder);
        assert_eq!(outcome, Err("the sink gave up"));
        assert_eq!(recorder.events.len(), BATCH_SIZE + 10);
        assert!(!recorder.events.contains(&"file done".to_owned()));
    }
}
