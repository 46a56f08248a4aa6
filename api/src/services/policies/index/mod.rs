//! The search index of published policies, on tantivy: Chinese word
//! segmentation (jieba, search mode, as a tantivy tokenizer), BM25 per field
//! with the title above tags above the text, synonyms for the words workers
//! really type, and snippets with the matched words highlighted.
//!
//! Every instance keeps its own index in its own directory
//! (`SHIMINHUA_SEARCH_INDEX_DIR`), memory-mapped, so postings and stored
//! policies live in the page cache rather than on the heap, and follows
//! changes in the database (see `sync`), so a search never touches the
//! database. Each commit records the follower's watermark: a restart opens
//! the directory and reads only what changed since, instead of rebuilding
//! the index from the database.

mod caches;
mod schema;
mod search;
mod snippet;
mod tokenizer;
mod words;

use std::{
    path::Path,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TERMINATED, TantivyDocument, TantivyError, Term,
    directory::error::LockError, schema::IndexRecordOption,
};

use self::{caches::SearchCaches, schema::Fields, tokenizer::JiebaTokenizer, words::Words};
use super::PolicyCategory;
use crate::domain::RegionCode;

/// What the index holds of one published policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexedPolicy {
    pub id: String,
    pub version: i32,
    pub title: String,
    pub summary: String,
    /// Summary and body as plain text, for snippets.
    pub text: String,
    pub category: PolicyCategory,
    #[serde(with = "schema::region_text")]
    pub region: RegionCode,
    pub issuer: String,
    pub doc_number: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub effective_from: Option<NaiveDate>,
    pub effective_until: Option<NaiveDate>,
    pub tags: Vec<String>,
    pub audience_tags: Vec<String>,
    /// 0 national, 1 province, 2 city, 3 county: the more local, the higher.
    pub locality: u8,
}

/// The filters and words of one search.
#[derive(Debug, Default)]
pub struct Query<'a> {
    pub text: Option<&'a str>,
    /// The regions whose policies apply: the region, its ancestors, national.
    pub regions: Option<Vec<RegionCode>>,
    pub category: Option<PolicyCategory>,
    pub tag: Option<&'a str>,
    /// `None`: policies in force on any day.
    pub in_force_on: Option<NaiveDate>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug)]
pub struct Hit {
    pub policy: Arc<IndexedPolicy>,
    pub score: f32,
    /// HTML-escaped text with the matched words in `<em>`.
    pub snippet: String,
}

#[derive(Debug)]
pub struct Results {
    pub total: usize,
    pub hits: Vec<Hit>,
}

/// The indexing arena of the one indexing thread: bulk loading flushes a
/// segment whenever it is full, so it bounds what loading holds on the heap.
const WRITER_MEMORY: usize = 40_000_000;
/// Decompressed blocks of stored policies kept per segment: a page of hits
/// reads a few; the rest stays in the page cache, not on the heap.
const DOC_STORE_CACHE_BLOCKS: usize = 16;
/// How long opening waits for the directory's writer lock: a server stopped
/// in the same process (the tests' restarts) lets go of it a moment later.
const LOCK_PATIENCE: Duration = Duration::from_secs(15);

pub struct PolicyIndex {
    words: Arc<Words>,
    index: Index,
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    /// The follower's watermark in the last commit: changes before it
    /// (less the follower's overlap) are in the index.
    watermark: Mutex<Option<DateTime<Utc>>>,
    /// Counts the commits: an answer computed at one generation is stale at
    /// the next.
    generation: AtomicU64,
    caches: SearchCaches,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every change under these locks is a whole tantivy operation, so a
    // panic elsewhere cannot leave them half-done.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl PolicyIndex {
    /// Opens the index in `dir`, creating the directory where missing. An
    /// index of another schema version, or one whose build never finished
    /// (no watermark), is emptied: `watermark()` is then `None` and the
    /// caller builds it.
    pub async fn open(dir: &Path) -> anyhow::Result<Self> {
        let words = Arc::new(Words::new());
        let (index, watermark) =
            schema::open_or_create(dir).with_context(|| format!("opening the search index in {}", dir.display()))?;
        index
            .tokenizers()
            .register(tokenizer::JIEBA, JiebaTokenizer::new(words.clone()));
        let fields = Fields::of(&index.schema())?;
        let writer = Self::writer(&index).await?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
            .try_into()?;
        Ok(Self {
            words,
            index,
            fields,
            reader,
            writer: Mutex::new(Some(writer)),
            watermark: Mutex::new(watermark),
            generation: AtomicU64::new(0),
            caches: SearchCaches::default(),
        })
    }

    async fn writer(index: &Index) -> anyhow::Result<IndexWriter> {
        let started = tokio::time::Instant::now();
        loop {
            match index.writer_with_num_threads(1, WRITER_MEMORY) {
                Err(TantivyError::LockFailure(LockError::LockBusy, _)) if started.elapsed() < LOCK_PATIENCE => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => return other.context("taking the search index's writer lock (is another server using it?)"),
            }
        }
    }

    /// The follower's watermark in the last commit; `None` when the index
    /// has to be built from the database.
    pub fn watermark(&self) -> Option<DateTime<Utc>> {
        *lock(&self.watermark)
    }

    /// Read it before searching: an answer is then never filed under a
    /// generation newer than what it was computed from.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn len(&self) -> usize {
        self.reader.searcher().num_docs() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the live document of a policy is, if it is indexed.
    fn find(&self, searcher: &tantivy::Searcher, id: &str) -> Option<DocAddress> {
        let term = Term::from_field_text(self.fields.id, id);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.fields.id).ok()?;
            let Ok(Some(mut postings)) = inverted.read_postings(&term, IndexRecordOption::Basic) else {
                continue;
            };
            let mut doc = tantivy::DocSet::doc(&postings);
            while doc != TERMINATED {
                if segment.alive_bitset().is_none_or(|alive| alive.is_alive(doc)) {
                    return Some(DocAddress::new(ord as u32, doc));
                }
                doc = tantivy::DocSet::advance(&mut postings);
            }
        }
        None
    }

    /// The indexed version of a policy, if it is indexed.
    pub fn version_of(&self, id: &str) -> Option<i32> {
        let searcher = self.reader.searcher();
        let address = self.find(&searcher, id)?;
        let segment = searcher.segment_reader(address.segment_ord);
        let versions = segment.fast_fields().u64(schema::VERSION).ok()?;
        versions.first(address.doc_id).map(|v| v as i32)
    }

    pub fn get(&self, id: &str) -> Option<Arc<IndexedPolicy>> {
        let searcher = self.reader.searcher();
        let address = self.find(&searcher, id)?;
        self.load(&searcher, address)
    }

    fn load(&self, searcher: &tantivy::Searcher, address: DocAddress) -> Option<Arc<IndexedPolicy>> {
        let segment = searcher.segment_reader(address.segment_ord);
        self.caches.policy(segment, address.doc_id, || {
            let document: TantivyDocument = searcher.doc(address).ok()?;
            self.fields.policy_of(&document)
        })
    }

    fn with_writer<T>(&self, work: impl FnOnce(&mut IndexWriter) -> tantivy::Result<T>) -> anyhow::Result<T> {
        let mut writer = lock(&self.writer);
        let writer = writer.as_mut().context("the search index's writer is gone")?;
        Ok(work(writer)?)
    }

    /// Adds or replaces a policy, visible to searches at the next commit.
    /// Segmentation happens here, on the caller's thread.
    pub fn stage_upsert(&self, policy: &IndexedPolicy) -> anyhow::Result<()> {
        let document = self.fields.document(policy);
        let id = Term::from_field_text(self.fields.id, &policy.id);
        self.with_writer(|writer| {
            writer.delete_term(id);
            writer.add_document(document).map(|_| ())
        })
    }

    /// Removes a policy at the next commit.
    pub fn stage_remove(&self, id: &str) -> anyhow::Result<()> {
        let id = Term::from_field_text(self.fields.id, id);
        self.with_writer(|writer| {
            writer.delete_term(id);
            Ok(())
        })
    }

    /// Makes what was staged durable and visible to searches, recording
    /// `watermark` (or keeping the last one when `None`).
    pub fn commit(&self, watermark: Option<DateTime<Utc>>) -> anyhow::Result<()> {
        let mut writer = lock(&self.writer);
        let writer = writer.as_mut().context("the search index's writer is gone")?;
        let mut kept = lock(&self.watermark);
        if watermark.is_some() {
            *kept = watermark;
        }
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&schema::payload(*kept));
        prepared.commit()?;
        self.reader.reload()?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Waits for the merges a bulk load started, then merges what is left
    /// into one segment: a search pays for each segment (its words looked
    /// up, its filter computed, its postings opened), and a build commits
    /// every few thousand policies, leaving several.
    pub async fn settle(&self) -> anyhow::Result<()> {
        let writer = lock(&self.writer).take().context("the search index's writer is gone")?;
        writer.wait_merging_threads()?;
        let mut writer = Self::writer(&self.index).await?;
        let segments = self.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            let merged = writer.merge(&segments);
            tokio::task::spawn_blocking(move || merged.wait()).await??;
        }
        *lock(&self.writer) = Some(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Adds or replaces a policy and commits: searches on this instance see
    /// it at once.
    pub fn upsert(&self, policy: &IndexedPolicy) -> anyhow::Result<()> {
        self.stage_upsert(policy)?;
        self.commit(None)
    }

    /// Removes a policy and commits.
    pub fn remove(&self, id: &str) -> anyhow::Result<()> {
        self.stage_remove(id)?;
        self.commit(None)
    }
}

#[cfg(test)]
mod tests;
