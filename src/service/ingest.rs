//! Reading articles: indexing them into any [`ArticleSink`], printing their entities, scoring
//! extraction against gold labels.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ServiceError;
use crate::article::{Article, Origin};
use crate::backend::{ArticleSink, DocumentMapper, Written};
use crate::eval::{EvalOptions, Evaluation, Evaluator};
use crate::extract::{Decision, Entities, Extractor, TopicVerdict};
use crate::ingest::{self, FetchOptions, Fetcher, Problem, RawRecord, RecordOutcome, Severity};
use crate::pipeline::{self, Analysed, Sink};
use crate::results::StoredArticle;
use crate::schema::Schema;

#[derive(Debug, Clone)]
pub struct IndexRequest {
    /// Files, folders and URLs; `-` is standard input.
    pub paths: Vec<PathBuf>,
    /// A file of URLs to read too, one a line.
    pub url_list: Option<PathBuf>,
    /// Fetches the URLs; remembers what it fetched once the run is committed.
    pub fetcher: Option<Arc<Fetcher>>,
    /// Stop at the first problem, committing nothing from this run.
    pub strict: bool,
    /// Commit after this many new or changed articles.
    pub commit_every: usize,
    /// What reading each file and record may cost.
    pub limits: ingest::ReadLimits,
}

/// Progress, for a progress bar and for warnings as they happen.
#[derive(Debug)]
pub enum IndexEvent<'a> {
    FilesFound(usize),
    FileDone,
    Problem(&'a Problem),
    Committed,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct IndexReport {
    #[serde(skip)]
    pub location: String,
    pub files_read: usize,
    /// Files passed over as not articles, by reason.
    pub files_ignored: Vec<(String, &'static str)>,
    pub added: u64,
    pub updated: u64,
    /// Articles already in the index with the same content (including repeats within the run).
    pub unchanged: u64,
    pub skipped: u64,
    pub warnings: u64,
    /// Problems by message kind (the first words of the message) with counts.
    pub problem_kinds: Vec<(String, u64)>,
    pub articles_in_index: u64,
}

#[derive(Debug, Clone)]
pub struct ExtractRequest {
    pub paths: Vec<PathBuf>,
    /// With every surface form found and the rule that kept or rejected it.
    pub explain: bool,
    /// With the article's text and metadata as geonews indexes them.
    pub text: bool,
}

/// One article's entities, as `geonews extract` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtractedArticle {
    pub id: String,
    pub title: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub text: Option<ArticleText>,
    #[serde(flatten)]
    pub entities: Entities,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<Decision>>,
    /// With `explain`: what the topic model made of each topic it decides, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_model: Option<Vec<TopicVerdict>>,
}

/// An article's text and metadata as the index receives them (`extract --text`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleText {
    pub published: Option<DateTime<Utc>>,
    pub url: Option<String>,
    pub source: Option<String>,
    pub language: Option<String>,
    pub summary: Option<String>,
    pub body: String,
}

impl ArticleText {
    fn of(article: &Article) -> ArticleText {
        ArticleText {
            published: article.published,
            url: article.url.clone(),
            source: article.source.clone(),
            language: article.language.clone(),
            summary: article.summary.clone(),
            body: article.body.clone(),
        }
    }
}

/// What reading articles without indexing them came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadSummary {
    /// Records and files passed over.
    pub skipped: usize,
}

#[derive(Debug, Clone)]
pub struct EvalRequest {
    pub gold: Vec<PathBuf>,
    pub options: EvalOptions,
}

/// Something that happened while reading articles, as it happens.
#[derive(Debug)]
pub enum ReadEvent<'a, T> {
    Problem(&'a Problem),
    Item(T),
}

/// Reading, extracting and indexing articles. It prints nothing: progress, problems and
/// extracted articles go to the callbacks the front end passes.
pub struct IngestService {
    schema: Arc<Schema>,
    extractor: Extractor,
}

impl IngestService {
    pub fn new(schema: Arc<Schema>) -> Result<IngestService, ServiceError> {
        let places = schema.places()?;
        let extractor = Extractor::new(&schema.dictionaries, &places)?;
        Ok(IngestService { schema, extractor })
    }

    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// Reads `request.paths` into `sink`, committing every `commit_every` changed articles and
    /// at the end. On an error nothing after the last commit is kept.
    pub fn index<S: ArticleSink>(
        &self,
        request: &IndexRequest,
        sink: S,
        on_event: &mut dyn FnMut(IndexEvent),
    ) -> Result<IndexReport, ServiceError> {
        let discovery = discover_with_url_list(request)?;
        let mapper = sink.mapper();
        let location = sink.location();
        let mut run = IndexRun {
            sink,
            request,
            pending: 0,
            report: IndexReport {
                location,
                files_ignored: discovery
                    .ignored
                    .iter()
                    .map(|(path, why)| (path.display().to_string(), *why))
                    .collect(),
                ..IndexReport::default()
            },
            problem_kinds: HashMap::new(),
            shown: ShownProblems::default(),
            on_event,
        };
        (run.on_event)(IndexEvent::FilesFound(discovery.files.len()));
        pipeline::run(
            &discovery,
            &self.extractor,
            |analysed| mapper.document(analysed),
            &mut run,
        )?;
        let report = run.finish()?;
        if let Some(fetcher) = &request.fetcher {
            fetcher.commit().map_err(|error| {
                ServiceError::Input(format!("cannot remember what was fetched: {error}"))
            })?;
        }
        Ok(report)
    }

    /// A fetcher for URLs given to commands that read without indexing: it remembers nothing.
    fn stateless_fetcher(&self) -> Result<Arc<Fetcher>, ServiceError> {
        Fetcher::open(None, false, FetchOptions::default())
            .map(Arc::new)
            .map_err(ServiceError::Input)
    }

    /// The entities of every article under `request.paths`, without indexing.
    pub fn extract(
        &self,
        request: &ExtractRequest,
        on_event: &mut dyn FnMut(ReadEvent<ExtractedArticle>) -> std::io::Result<()>,
    ) -> Result<ReadSummary, ServiceError> {
        let discovery = ingest::discover(&request.paths, Some(&self.stateless_fetcher()?));
        // Explaining runs extraction again with a trace: a tool for reading, not for speed.
        let extracted = |analysed: Analysed| {
            let (explain, topic_model) = match request.explain {
                true => {
                    let (_, decisions, verdicts) = self.extractor.explain(&analysed.article);
                    (Some(decisions), Some(verdicts))
                }
                false => (None, None),
            };
            let text = request.text.then(|| ArticleText::of(&analysed.article));
            ExtractedArticle {
                id: analysed.article.key,
                title: analysed.article.title,
                text,
                entities: analysed.entities,
                explain,
                topic_model,
            }
        };
        let mut reader = ReadSink::new(on_event);
        pipeline::run(&discovery, &self.extractor, extracted, &mut reader)
            .map_err(ServiceError::Output)?;
        Ok(reader.summary)
    }

    /// The entities of one article given whole (a request body), with the rules that decided
    /// them when `explain` is set.
    pub fn extract_one(
        &self,
        record: RawRecord,
        explain: bool,
    ) -> Result<ExtractedArticle, ServiceError> {
        match ingest::to_article(record) {
            RecordOutcome::Article { article, .. } => Ok(self.extracted(&article, explain, true)),
            RecordOutcome::Skipped(why) => Err(ServiceError::Input(why)),
        }
    }

    /// The entities of a stored article as extraction finds them now, with the rule that kept
    /// or rejected each surface form.
    pub fn explain_stored(&self, stored: &StoredArticle) -> ExtractedArticle {
        self.extracted(&stored.to_article(), true, false)
    }

    fn extracted(&self, article: &Article, explain: bool, text: bool) -> ExtractedArticle {
        let (entities, decisions, verdicts) = if explain {
            let (entities, decisions, verdicts) = self.extractor.explain(article);
            (entities, Some(decisions), Some(verdicts))
        } else {
            (self.extractor.extract(article).0, None, None)
        };
        ExtractedArticle {
            id: article.key.clone(),
            title: article.title.clone(),
            text: text.then(|| ArticleText::of(article)),
            entities,
            explain: decisions,
            topic_model: verdicts,
        }
    }

    /// Extraction scored against the gold labels the articles under `request.gold` carry.
    pub fn eval(
        &self,
        request: &EvalRequest,
        on_problem: &mut dyn FnMut(&Problem) -> std::io::Result<()>,
    ) -> Result<(Evaluation, ReadSummary), ServiceError> {
        let discovery = ingest::discover(&request.gold, None);
        let mut evaluator = Evaluator::new(
            &self.schema.dictionaries,
            self.extractor.catalogs(),
            request.options,
        );
        let mut score = |event: ReadEvent<Analysed>| match event {
            ReadEvent::Problem(problem) => on_problem(problem),
            ReadEvent::Item(Analysed { article, entities }) => {
                evaluator.add(&article.key, article.gold.as_ref(), &entities);
                Ok(())
            }
        };
        let mut reader = ReadSink::new(&mut score);
        pipeline::run(
            &discovery,
            &self.extractor,
            |analysed| analysed,
            &mut reader,
        )
        .map_err(ServiceError::Output)?;
        let summary = reader.summary;
        let evaluation = evaluator.finish();
        if evaluation.articles == 0 {
            return Err(ServiceError::NoGold);
        }
        Ok((evaluation, summary))
    }
}

/// Hands every read article and problem to one callback, counting what was skipped.
struct ReadSink<'c, T> {
    summary: ReadSummary,
    on_event: &'c mut dyn FnMut(ReadEvent<T>) -> std::io::Result<()>,
}

impl<'c, T> ReadSink<'c, T> {
    fn new(on_event: &'c mut dyn FnMut(ReadEvent<T>) -> std::io::Result<()>) -> Self {
        ReadSink {
            summary: ReadSummary::default(),
            on_event,
        }
    }
}

impl<T> Sink<T> for ReadSink<'_, T> {
    type Error = std::io::Error;

    fn problem(&mut self, problem: &Problem) -> std::io::Result<()> {
        self.summary.skipped += usize::from(problem.severity == Severity::Skipped);
        (self.on_event)(ReadEvent::Problem(problem))
    }

    fn accept(&mut self, item: T) -> std::io::Result<()> {
        (self.on_event)(ReadEvent::Item(item))
    }
}

/// The inputs of an index request: its paths, and the URLs its list names.
fn discover_with_url_list(request: &IndexRequest) -> Result<ingest::Discovery, ServiceError> {
    let Some(list) = &request.url_list else {
        let mut discovery = ingest::discover(&request.paths, request.fetcher.as_ref());
        discovery.limits = request.limits;
        return Ok(discovery);
    };
    let (urls, problems) = ingest::read_url_list(list).map_err(|error| {
        ServiceError::Input(format!("{}: cannot read: {error}", list.display()))
    })?;
    let paths: Vec<PathBuf> = request.paths.iter().cloned().chain(urls).collect();
    let mut discovery = ingest::discover(&paths, request.fetcher.as_ref());
    discovery.problems.extend(problems);
    discovery.limits = request.limits;
    Ok(discovery)
}

/// Counts what indexing does, commits as it goes, and stops at a problem under `--strict`.
struct IndexRun<'r, S> {
    sink: S,
    request: &'r IndexRequest,
    /// Articles written since the last commit.
    pending: usize,
    report: IndexReport,
    problem_kinds: HashMap<String, u64>,
    shown: ShownProblems,
    on_event: &'r mut dyn FnMut(IndexEvent),
}

/// Problems with records shown one by one: the first [`SHOWN_PER_FILE`] of each file and
/// [`SHOWN_IN_ALL`] in all; the rest are counted in the summary (a file of a million bad
/// lines reports twenty and a count, not a million lines).
#[derive(Default)]
struct ShownProblems {
    in_file: usize,
    hidden_in_file: u64,
    in_all: usize,
    /// The file the last problem came from, for the count of those not shown.
    file: Option<Origin>,
}

const SHOWN_PER_FILE: usize = 20;
/// How the summary counts records skipped for a key seen earlier in the run.
const DUPLICATE_KEY: &str = "a later record with the key of an earlier one (the first is kept)";
const SHOWN_IN_ALL: usize = 1_000;

impl ShownProblems {
    /// Whether to show this problem; counts it otherwise. A problem with a whole file (a read
    /// that failed, a file refused) is always shown.
    fn show(&mut self, problem: &Problem) -> bool {
        self.file = Some(Origin::file(problem.origin.path.clone()));
        let whole_file = problem.origin.line.is_none() && problem.origin.part.is_none();
        if whole_file {
            return true;
        }
        if self.in_file < SHOWN_PER_FILE && self.in_all < SHOWN_IN_ALL {
            self.in_file += 1;
            self.in_all += 1;
            return true;
        }
        self.hidden_in_file += 1;
        false
    }

    /// At a file's end: a note of the problems not shown, if any.
    fn file_done(&mut self) -> Option<Problem> {
        let hidden = std::mem::take(&mut self.hidden_in_file);
        self.in_file = 0;
        let file = self.file.take()?;
        (hidden > 0).then(|| {
            let message = if self.in_all >= SHOWN_IN_ALL {
                format!(
                    "{hidden} more problems not shown (after {SHOWN_IN_ALL} in all, problems are \
                     only counted in the summary)"
                )
            } else {
                format!("{hidden} more problems not shown (at most {SHOWN_PER_FILE} a file)")
            };
            Problem::note(file, message)
        })
    }
}

impl<S: ArticleSink> Sink<<S::Mapper as DocumentMapper>::Document> for IndexRun<'_, S> {
    type Error = ServiceError;

    fn problem(&mut self, problem: &Problem) -> Result<(), ServiceError> {
        if problem.severity == Severity::Note {
            if self.shown.show(problem) {
                (self.on_event)(IndexEvent::Problem(problem));
            }
            return Ok(());
        }
        if self.request.strict {
            return Err(ServiceError::Strict(problem.clone()));
        }
        match problem.severity {
            Severity::Skipped => self.report.skipped += 1,
            Severity::Warning | Severity::Note => self.report.warnings += 1,
        }
        *self
            .problem_kinds
            .entry(problem_kind(&problem.message))
            .or_default() += 1;
        if self.shown.show(problem) {
            (self.on_event)(IndexEvent::Problem(problem));
        }
        Ok(())
    }

    fn accept(
        &mut self,
        document: <S::Mapper as DocumentMapper>::Document,
    ) -> Result<(), ServiceError> {
        let decided = self.sink.write(document).map_err(ServiceError::backend)?;
        self.count(decided);
        // Under --strict a run commits all or nothing.
        if !self.request.strict && self.pending >= self.request.commit_every {
            self.commit()?;
        }
        Ok(())
    }

    fn file_done(&mut self) {
        self.report.files_read += 1;
        if let Some(note) = self.shown.file_done() {
            (self.on_event)(IndexEvent::Problem(&note));
        }
        (self.on_event)(IndexEvent::FileDone);
    }
}

impl<S: ArticleSink> IndexRun<'_, S> {
    fn count(&mut self, decided: Vec<Written>) {
        for written in decided {
            match written {
                Written::Unchanged => self.report.unchanged += 1,
                Written::Duplicate => {
                    self.report.skipped += 1;
                    *self
                        .problem_kinds
                        .entry(DUPLICATE_KEY.to_owned())
                        .or_default() += 1;
                }
                Written::Updated => {
                    self.report.updated += 1;
                    self.pending += 1;
                }
                Written::Added => {
                    self.report.added += 1;
                    self.pending += 1;
                }
            }
        }
    }

    fn commit(&mut self) -> Result<(), ServiceError> {
        let decided = self.sink.flush().map_err(ServiceError::backend)?;
        self.count(decided);
        if self.pending == 0 {
            return Ok(());
        }
        self.sink.commit().map_err(ServiceError::backend)?;
        self.pending = 0;
        (self.on_event)(IndexEvent::Committed);
        Ok(())
    }

    fn finish(mut self) -> Result<IndexReport, ServiceError> {
        self.commit()?;
        self.report.articles_in_index = self.sink.finish().map_err(ServiceError::backend)?;
        let mut kinds: Vec<(String, u64)> = self.problem_kinds.into_iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.report.problem_kinds = kinds;
        Ok(self.report)
    }
}

/// The general part of a problem message, before its specifics (a colon, quote or bracket).
fn problem_kind(message: &str) -> String {
    let general = message
        .split([':', ';', '"', '`', '('])
        .next()
        .unwrap_or(message);
    general
        .split_whitespace()
        .take(6)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_kinds_drop_specifics() {
        assert_eq!(
            problem_kind("wrong column count: 5 where the header has 4"),
            "wrong column count"
        );
        assert_eq!(
            problem_kind("unreadable date \"x\"; indexed"),
            "unreadable date"
        );
    }
}
