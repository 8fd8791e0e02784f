//! The read → map → extract pipeline that `index` and `extract` share.
//!
//! Files are read in order; records go to rayon in batches to be mapped to articles, have their
//! entities extracted and be prepared for the caller, and come back in input order.

use std::ops::ControlFlow;

use rayon::prelude::*;

use crate::article::{Article, Origin};
use crate::extract::{Entities, Extractor, UnknownTag};
use crate::ingest::{self, Discovery, Item, Problem, RawRecord, RecordOutcome};

const BATCH_SIZE: usize = 512;

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
/// analysed article, and the sink receives its results and every problem.
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
    // Problems wait in the batch beside the records, so that the sink sees everything in input
    // order (and `--strict` stops at the first problem of the input).
    let mut batch: Vec<Pending> = Vec::with_capacity(BATCH_SIZE);
    let flush = |batch: &mut Vec<Pending>, sink: &mut S| {
        let prepared: Vec<_> = batch
            .par_drain(..)
            .map(|pending| match pending {
                Pending::Record(origin, record) => analyse(extractor, origin, record)
                    .map(|(analysed, warnings)| (prepare(analysed), warnings)),
                Pending::Problem(problem) => Err(problem),
            })
            .collect();
        for item in prepared {
            match item {
                Ok((prepared, warnings)) => {
                    for warning in &warnings {
                        sink.problem(warning)?;
                    }
                    sink.accept(prepared)?;
                }
                Err(problem) => sink.problem(&problem)?,
            }
        }
        Ok(())
    };
    for file in &discovery.files {
        let mut failure = None;
        ingest::read(file, &mut |item| {
            batch.push(match item {
                Item::Record { origin, record } => Pending::Record(origin, record),
                Item::Problem(problem) => Pending::Problem(problem),
            });
            if batch.len() < BATCH_SIZE {
                return ControlFlow::Continue(());
            }
            match flush(&mut batch, sink) {
                Ok(()) => ControlFlow::Continue(()),
                Err(error) => {
                    failure = Some(error);
                    ControlFlow::Break(())
                }
            }
        });
        if let Some(error) = failure {
            return Err(error);
        }
        sink.file_done();
    }
    flush(&mut batch, sink)
}

/// A record, or a problem with one, waiting for its batch.
enum Pending {
    Record(Origin, RawRecord),
    Problem(Problem),
}

/// Maps a record to an article and extracts its entities, with the warnings of both.
fn analyse(
    extractor: &Extractor,
    origin: Origin,
    record: RawRecord,
) -> Result<(Analysed, Vec<Problem>), Problem> {
    let (article, warnings) = match ingest::to_article(record) {
        RecordOutcome::Article { article, warnings } => (*article, warnings),
        RecordOutcome::Skipped(reason) => return Err(Problem::skipped(origin, reason)),
    };
    let (entities, unknown_tags) = extractor.extract(&article);
    let warnings = warnings
        .into_iter()
        .chain(unknown_tags.iter().map(UnknownTag::to_string))
        .map(|warning| Problem::warning(origin.clone(), warning))
        .collect();
    let analysed = Analysed { article, entities };
    Ok((analysed, warnings))
}
