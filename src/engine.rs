//! The engine a command reads: the local index of `--index`, or a Quickwit cluster named by
//! `--engine quickwit+http://HOST:7280/INDEX`. Both answer through [`SearchBackend`], so every
//! front end works the same over either.

use std::path::PathBuf;
use std::sync::Arc;

use crate::analytics::{Interval, PairCounts, TimelineCounts};
use crate::backend::{Overview, Page, PageRequest, SearchBackend, Tally};
use crate::index::{IndexError, LocalIndex};
use crate::query::ast::Query;
use crate::quickwit::{QuickwitError, QuickwitIndex, Target};
use crate::results::{Hit, Related, StoredArticle};
use crate::schema::Schema;

/// Where the articles are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineChoice {
    Local(PathBuf),
    Quickwit(Target),
}

/// The read side of the chosen engine.
pub enum Engine {
    Local(LocalIndex),
    Quickwit(QuickwitIndex),
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Local(#[from] IndexError),
    #[error(transparent)]
    Quickwit(#[from] QuickwitError),
}

impl EngineError {
    /// Whether the local index's files are not what its writer left.
    pub fn is_damage(&self) -> bool {
        matches!(self, EngineError::Local(error) if error.is_damage())
    }
}

impl Engine {
    /// The engine as of now, for one command.
    pub fn open(choice: &EngineChoice, schema: &Arc<Schema>) -> Result<Engine, EngineError> {
        Ok(match choice {
            EngineChoice::Local(folder) => Engine::Local(LocalIndex::open(folder, schema)?),
            EngineChoice::Quickwit(target) => {
                Engine::Quickwit(QuickwitIndex::open(target, schema)?)
            }
        })
    }

    /// The engine for a long-lived reader (a server), following commits and rebuilds.
    pub fn open_live(choice: &EngineChoice, schema: &Arc<Schema>) -> Result<Engine, EngineError> {
        Ok(match choice {
            EngineChoice::Local(folder) => Engine::Local(LocalIndex::open_live(folder, schema)?),
            EngineChoice::Quickwit(target) => {
                Engine::Quickwit(QuickwitIndex::open(target, schema)?)
            }
        })
    }
}

/// Runs the same call on whichever engine this is.
macro_rules! on_engine {
    ($engine:expr, $backend:ident => $call:expr) => {
        match $engine {
            Engine::Local($backend) => $call.map_err(EngineError::from),
            Engine::Quickwit($backend) => $call.map_err(EngineError::from),
        }
    };
}

impl SearchBackend for Engine {
    type Error = EngineError;

    fn search(&self, request: &PageRequest) -> Result<Page<Hit>, EngineError> {
        on_engine!(self, backend => backend.search(request))
    }

    fn search_ids(&self, request: &PageRequest) -> Result<Page<String>, EngineError> {
        on_engine!(self, backend => backend.search_ids(request))
    }

    fn count(&self, query: &Query, fields: &[String]) -> Result<(u64, Vec<Tally>), EngineError> {
        on_engine!(self, backend => backend.count(query, fields))
    }

    fn article(&self, id: &str) -> Result<Option<StoredArticle>, EngineError> {
        on_engine!(self, backend => backend.article(id))
    }

    fn timeline(
        &self,
        query: &Query,
        interval: Interval,
        split: Option<&str>,
    ) -> Result<TimelineCounts, EngineError> {
        on_engine!(self, backend => backend.timeline(query, interval, split))
    }

    fn pair_counts(&self, query: &Query, fields: [&str; 2]) -> Result<PairCounts, EngineError> {
        on_engine!(self, backend => backend.pair_counts(query, fields))
    }

    fn related(&self, id: &str, limit: usize) -> Result<Option<Related>, EngineError> {
        on_engine!(self, backend => backend.related(id, limit))
    }

    fn indexed_through(&self) -> Result<u64, EngineError> {
        on_engine!(self, backend => backend.indexed_through())
    }

    fn overview(&self, fields: &[String]) -> Result<(Overview, Vec<Tally>), EngineError> {
        on_engine!(self, backend => backend.overview(fields))
    }

    fn location(&self) -> String {
        match self {
            Engine::Local(backend) => backend.location(),
            Engine::Quickwit(backend) => backend.location(),
        }
    }

    fn warnings(&self) -> Vec<String> {
        match self {
            Engine::Local(backend) => backend.warnings(),
            Engine::Quickwit(backend) => backend.warnings(),
        }
    }
}
