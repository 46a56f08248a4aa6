//! What searches keep between them, per segment. A segment never changes
//! once written (a deletion only marks a document dead in the reader's alive
//! set), so whatever is computed from a segment's documents stays true for
//! as long as the segment exists: nothing here is invalidated, and entries
//! of merged-away segments simply age out.
//!
//! - Decoded policies: a page of hits otherwise decompresses a block of the
//!   document store and parses a policy's JSON for each hit, which cost more
//!   than the ranking itself. Workers' searches return the same policies
//!   again and again (the common words' top hits), as Solr's document cache
//!   assumes.
//! - Filters: which documents of a segment pass a filter (regions, category,
//!   tag, day in force), as a bit set, so that a search tests a bit per
//!   candidate instead of reading four columns, and the runs of documents
//!   its regions occupy. A county's workers all send the same filter, as
//!   Lucene's query cache assumes.

use std::{ops::Range, sync::Arc};

use quick_cache::{Weighter, sync::Cache};
use tantivy::{BitSet, DocId, SegmentReader, index::SegmentId};

use super::IndexedPolicy;

/// Policies kept decoded, by their size: about 4,000 of the seeded size.
const POLICY_BYTES: u64 = 16 * 1024 * 1024;
/// Filter bit sets kept, by their size: 12.5 KB for a segment of 100,000
/// policies, so about 650 of those.
const FILTER_BYTES: u64 = 8 * 1024 * 1024;

/// A filter as cached: what decides whether a document passes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct FilterKey {
    /// Sorted region numbers.
    pub regions: Option<Vec<u64>>,
    pub category: Option<u64>,
    pub tag: Option<String>,
    /// Days since year 1 the policy must be in force on.
    pub day: Option<i64>,
}

impl FilterKey {
    pub fn filters_nothing(&self) -> bool {
        self.regions.is_none() && self.category.is_none() && self.tag.is_none() && self.day.is_none()
    }
}

#[derive(Clone)]
struct PolicySize;

impl Weighter<(SegmentId, DocId), Arc<IndexedPolicy>> for PolicySize {
    fn weight(&self, _: &(SegmentId, DocId), policy: &Arc<IndexedPolicy>) -> u64 {
        (size_of::<IndexedPolicy>() + policy.title.len() + policy.summary.len() + policy.text.len()) as u64
    }
}

/// The documents of a segment that pass a filter.
pub(super) struct PassingSet {
    /// Dead documents included: the reader's alive set says which are.
    pub set: BitSet,
    /// Runs of documents, in order, outside which none passes: one per
    /// region of the filter (the segment is sorted by region within each
    /// locality), or the whole segment when the filter names no region.
    pub runs: Vec<Range<DocId>>,
}

#[derive(Clone)]
struct PassingSize;

impl Weighter<(SegmentId, FilterKey), Arc<PassingSet>> for PassingSize {
    fn weight(&self, _: &(SegmentId, FilterKey), passing: &Arc<PassingSet>) -> u64 {
        (passing.set.max_value() / 8 + 64) as u64 + (passing.runs.len() * size_of::<Range<DocId>>()) as u64
    }
}

pub(super) struct SearchCaches {
    policies: Cache<(SegmentId, DocId), Arc<IndexedPolicy>, PolicySize>,
    filters: Cache<(SegmentId, FilterKey), Arc<PassingSet>, PassingSize>,
}

impl Default for SearchCaches {
    fn default() -> Self {
        Self {
            policies: Cache::with_weighter(4_096, POLICY_BYTES, PolicySize),
            filters: Cache::with_weighter(1_024, FILTER_BYTES, PassingSize),
        }
    }
}

impl SearchCaches {
    /// The policy stored as `doc` of `segment`, decoded by `decode` the
    /// first time (once, however many searches ask at the same moment).
    pub fn policy(
        &self,
        segment: &SegmentReader,
        doc: DocId,
        decode: impl FnOnce() -> Option<IndexedPolicy>,
    ) -> Option<Arc<IndexedPolicy>> {
        self.policies
            .get_or_insert_with(&(segment.segment_id(), doc), || decode().map(Arc::new).ok_or(()))
            .ok()
    }

    /// The documents of `segment` that pass `filter`, computed by `compute`
    /// the first time (once, however many searches ask at the same moment).
    pub fn passing(
        &self,
        segment: &SegmentReader,
        filter: &FilterKey,
        compute: impl FnOnce() -> tantivy::Result<PassingSet>,
    ) -> tantivy::Result<Arc<PassingSet>> {
        self.filters
            .get_or_insert_with(&(segment.segment_id(), filter.clone()), || compute().map(Arc::new))
    }
}
