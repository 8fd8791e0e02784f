//! What the benchmarks share.

use std::ops::ControlFlow;
use std::path::PathBuf;

use geonews::article::Article;
use geonews::ingest::{self, Item, RecordOutcome};

/// Every article under `paths`, in reading order, handed to `each` as it is read; records
/// that are not articles are passed over.
pub fn for_each_article(paths: &[PathBuf], mut each: impl FnMut(Article)) {
    for file in ingest::discover(paths, None).files {
        ingest::read(&file, &ingest::ReadLimits::default(), &mut |item| {
            if let Item::Record { record, .. } = item
                && let RecordOutcome::Article { article, .. } = ingest::to_article(record)
            {
                each(*article);
            }
            ControlFlow::Continue(())
        });
    }
}
