//! Searching, segment by segment. Where the filter passes most policies,
//! the page's top hits come from tantivy's block-max WAND over the query's
//! words (postings whose best possible score cannot reach the page are
//! skipped unread), and the total from the words' postings. Where it passes
//! few (a county and the regions above it), only what passes is scored, in
//! one pass that also counts. Either way the filter is a cached bit set and
//! ties follow the tie-break order the segment is sorted in.

use std::{cmp::Ordering, collections::BinaryHeap, ops::Range, sync::Arc};

use tantivy::{
    BitSet, DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED, Term,
    columnar::ColumnValues,
    fastfield::AliveBitSet,
    query::{AllQuery, BitSetDocSet, BooleanQuery, BoostQuery, EnableScoring, Occur, TermQuery, Weight},
    schema::IndexRecordOption,
};

use super::{
    Hit, PolicyIndex, Query, Results,
    caches::{FilterKey, PassingSet},
    schema,
    snippet::snippet,
};

/// How much a match in each field counts.
const TITLE_WEIGHT: f32 = 3.0;
const TAG_WEIGHT: f32 = 2.0;
const TEXT_WEIGHT: f32 = 1.0;

/// Which documents of one segment pass the filter: a bit per document,
/// computed once per segment and filter (see `caches`), and the reader's
/// alive set.
struct Passing {
    set: Option<Arc<PassingSet>>,
    alive: Option<AliveBitSet>,
}

impl Passing {
    fn open(index: &PolicyIndex, segment: &SegmentReader, filter: &FilterKey) -> tantivy::Result<Self> {
        let set = if filter.filters_nothing() {
            None
        } else {
            Some(
                index
                    .caches
                    .passing(segment, filter, || passing_set(segment, filter, index.fields.tag))?,
            )
        };
        Ok(Self {
            set,
            alive: segment.alive_bitset().cloned(),
        })
    }

    /// How many documents pass the filter, dead ones included.
    fn count(&self, reader: &SegmentReader) -> u32 {
        self.set
            .as_ref()
            .map_or(reader.max_doc(), |passing| passing.set.len() as u32)
    }

    fn passes(&self, doc: DocId) -> bool {
        self.alive.as_ref().is_none_or(|alive| alive.is_alive(doc))
            && self.set.as_ref().is_none_or(|passing| passing.set.contains(doc))
    }
}

/// Reads every document's filter columns once.
fn passing_set(
    segment: &SegmentReader,
    filter: &FilterKey,
    tag_field: tantivy::schema::Field,
) -> tantivy::Result<PassingSet> {
    let fast = segment.fast_fields();
    let u = |name: &str| fast.u64(name).map(|c| c.first_or_default_col(0));
    let i = |name: &str| fast.i64(name).map(|c| c.first_or_default_col(0));
    let (region, category) = (u(schema::REGION)?, u(schema::CATEGORY)?);
    let (from_day, until_day) = (i(schema::FROM_DAY)?, i(schema::UNTIL_DAY)?);
    let tagged = match &filter.tag {
        Some(tag) => {
            let mut tagged = BitSet::with_max_value(segment.max_doc());
            insert_postings(segment, &Term::from_field_text(tag_field, tag), &mut tagged)?;
            Some(tagged)
        }
        None => None,
    };
    let mut passing = BitSet::with_max_value(segment.max_doc());
    for doc in 0..segment.max_doc() {
        let passes = filter
            .regions
            .as_ref()
            .is_none_or(|regions| regions.binary_search(&region.get_val(doc)).is_ok())
            && filter.category.is_none_or(|c| c == category.get_val(doc))
            && filter
                .day
                .is_none_or(|day| from_day.get_val(doc) <= day && until_day.get_val(doc) >= day)
            && tagged.as_ref().is_none_or(|tagged| tagged.contains(doc));
        if passes {
            passing.insert(doc);
        }
    }
    let runs = match &filter.regions {
        Some(regions) => {
            let keys = fast.u64(schema::TIEBREAK)?.first_or_default_col(0);
            let mut runs: Vec<Range<DocId>> = regions
                .iter()
                .flat_map(|region| schema::region_keys(*region))
                .map(|keys_of_region| {
                    first_doc_from(keys.as_ref(), segment.max_doc(), *keys_of_region.start())
                        ..first_doc_from(keys.as_ref(), segment.max_doc(), keys_of_region.end().saturating_add(1))
                })
                .filter(|run| !run.is_empty())
                .collect();
            runs.sort_by_key(|run| run.start);
            runs
        }
        None => std::iter::once(0..segment.max_doc()).collect(),
    };
    Ok(PassingSet { set: passing, runs })
}

/// The first document whose tie-break key is at least `key` (the segment is
/// sorted by it), or `max_doc`.
fn first_doc_from(keys: &dyn ColumnValues<u64>, max_doc: DocId, key: u64) -> DocId {
    let (mut low, mut high) = (0, max_doc);
    while low < high {
        let middle = low + (high - low) / 2;
        if keys.get_val(middle) < key {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    low
}

/// One segment's columns that order candidates of equal score.
struct Tiebreaks {
    tiebreak: Arc<dyn ColumnValues<u64>>,
    id_high: Arc<dyn ColumnValues<u64>>,
    id_low: Arc<dyn ColumnValues<u64>>,
}

impl Tiebreaks {
    fn open(segment: &SegmentReader) -> tantivy::Result<Self> {
        let fast = segment.fast_fields();
        let u = |name: &str| fast.u64(name).map(|c| c.first_or_default_col(0));
        Ok(Self {
            tiebreak: u(schema::TIEBREAK)?,
            id_high: u(schema::ID_HIGH)?,
            id_low: u(schema::ID_LOW)?,
        })
    }

    fn candidate(&self, doc: DocId, score: Score, segment: SegmentOrdinal) -> Candidate {
        Candidate {
            score,
            tiebreak: self.tiebreak.get_val(doc),
            id: (self.id_high.get_val(doc), self.id_low.get_val(doc)),
            address: DocAddress::new(segment, doc),
        }
    }
}

#[derive(Clone, Copy)]
struct Candidate {
    score: Score,
    tiebreak: u64,
    id: (u64, u64),
    address: DocAddress,
}

/// `Less` when `a` comes first: the higher score, then the tie-break key
/// (the more local policy, its region, the newer, the smaller id), then the
/// whole id. Ids are unique, so the order is the same on every instance: a
/// page boundary never depends on which one answers, nor on how its
/// segments happen to be laid out.
fn rank(a: &Candidate, b: &Candidate) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then(a.tiebreak.cmp(&b.tiebreak))
        .then(a.id.cmp(&b.id))
        .then(a.address.cmp(&b.address))
}

/// A heap whose top is the candidate that ranks last.
struct Ranked(Candidate);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        rank(&self.0, &other.0) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        rank(&self.0, &other.0)
    }
}

/// One segment's best `wanted` candidates.
struct SegmentTop {
    tiebreaks: Tiebreaks,
    segment: SegmentOrdinal,
    wanted: usize,
    heap: BinaryHeap<Ranked>,
}

impl SegmentTop {
    fn new(reader: &SegmentReader, segment: SegmentOrdinal, wanted: usize) -> tantivy::Result<Self> {
        Ok(Self {
            tiebreaks: Tiebreaks::open(reader)?,
            segment,
            wanted,
            heap: BinaryHeap::with_capacity(wanted + 1),
        })
    }

    fn full(&self) -> bool {
        self.heap.len() >= self.wanted
    }

    /// The score a document met in document order must exceed to be worth
    /// handing over. A segment's documents come in tie-break order, so one
    /// that only equals the last kept score ranks after it: the rest of a
    /// tie is skipped unread.
    fn threshold(&self) -> Score {
        match self.heap.peek() {
            Some(last) if self.full() => last.0.score,
            _ => Score::MIN,
        }
    }

    /// Keeps the document if it ranks among the best so far, in whatever
    /// order documents come.
    fn offer(&mut self, doc: DocId, score: Score) {
        if self.full() && self.heap.peek().is_some_and(|last| score < last.0.score) {
            return;
        }
        let candidate = Ranked(self.tiebreaks.candidate(doc, score, self.segment));
        if !self.full() {
            self.heap.push(candidate);
        } else if self.heap.peek().is_some_and(|last| candidate < *last) {
            self.heap.pop();
            self.heap.push(candidate);
        }
    }

    fn harvest(self) -> Vec<Candidate> {
        self.heap.into_iter().map(|r| r.0).collect()
    }
}

/// How one segment is searched.
enum Strategy<'a> {
    /// The filter passes most documents: block-max WAND over the union of
    /// words finds the top hits, skipping what cannot reach them, and
    /// `count_matching` counts the total.
    Pruning { scored: &'a dyn Weight, terms: &'a [Term] },
    /// The filter passes few documents (a county's policies and those of
    /// the regions above it): WAND would score and then reject mostly
    /// documents that do not pass, so each word's postings are read once,
    /// and only the documents that pass are scored and counted.
    Passing { words: &'a [(Box<dyn Weight>, Score)] },
}

/// A filter passing at most one document in this many makes a segment's
/// search score only what passes.
const SELECTIVE: u64 = 4;

thread_local! {
    /// Per-document score sums of the `Passing` strategy, kept zeroed
    /// between searches: a search thread reuses them instead of allocating
    /// a segment-sized array per search.
    static SUMS: std::cell::RefCell<Vec<Score>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The query's filters as the index holds them.
fn filter_of(query: &Query<'_>) -> FilterKey {
    FilterKey {
        regions: query.regions.as_ref().map(|regions| {
            let mut numbers: Vec<u64> = regions.iter().map(schema::region_number).collect();
            numbers.sort_unstable();
            numbers.dedup();
            numbers
        }),
        category: query.category.map(schema::category_number),
        tag: query.tag.map(str::to_owned),
        day: query
            .in_force_on
            .map(|day| i64::from(chrono::Datelike::num_days_from_ce(&day))),
    }
}

/// The union of the words' weighted term queries; every policy without words.
fn union_of(clauses: &[(TermQuery, Score)]) -> Box<dyn tantivy::query::Query> {
    if clauses.is_empty() {
        return Box::new(AllQuery);
    }
    Box::new(BooleanQuery::new(
        clauses
            .iter()
            .map(|(term, boost)| {
                let clause: Box<dyn tantivy::query::Query> = Box::new(BoostQuery::new(Box::new(term.clone()), *boost));
                (Occur::Should, clause)
            })
            .collect(),
    ))
}

/// Each word's own weight, for scoring its postings one at a time.
fn weights_of(searcher: &Searcher, clauses: &[(TermQuery, Score)]) -> tantivy::Result<Vec<(Box<dyn Weight>, Score)>> {
    clauses
        .iter()
        .map(|(term, boost)| {
            let weight = tantivy::query::Query::weight(term, EnableScoring::enabled_from_searcher(searcher))?;
            Ok((weight, *boost))
        })
        .collect()
}

/// Adds the documents carrying `term` to `docs`, a whole block of postings
/// at a time.
fn insert_postings(reader: &SegmentReader, term: &Term, docs: &mut BitSet) -> tantivy::Result<()> {
    let postings = reader
        .inverted_index(term.field())?
        .read_block_postings(term, IndexRecordOption::Basic)?;
    if let Some(mut postings) = postings {
        while !postings.docs().is_empty() {
            for doc in postings.docs() {
                docs.insert(*doc);
            }
            postings.advance();
        }
    }
    Ok(())
}

/// How many documents of the segment carry any of `terms` (every document
/// when there are none) and pass: the words' postings are read into a bit
/// set instead of being merged document by document, and with no deletions
/// the passing ones are counted 64 documents at a time.
fn count_matching(reader: &SegmentReader, terms: &[Term], passing: &Passing) -> tantivy::Result<usize> {
    let matching = if terms.is_empty() {
        BitSet::with_max_value_and_full(reader.max_doc())
    } else {
        let mut matching = BitSet::with_max_value(reader.max_doc());
        for term in terms {
            insert_postings(reader, term, &mut matching)?;
        }
        matching
    };
    if passing.alive.is_some() {
        let mut matches = BitSetDocSet::from(matching);
        let mut total = 0;
        let mut doc = matches.doc();
        while doc != TERMINATED {
            total += usize::from(passing.passes(doc));
            doc = matches.advance();
        }
        return Ok(total);
    }
    let buckets = reader.max_doc().div_ceil(64);
    Ok(match &passing.set {
        Some(passing) => (0..buckets)
            .map(|bucket| matching.tinyset(bucket).intersect(passing.set.tinyset(bucket)).len() as usize)
            .sum(),
        None => matching.len(),
    })
}

/// Searches one segment: its share of the total and its best candidates.
fn search_segment(
    strategy: &Strategy<'_>,
    passing: &Passing,
    mut top: SegmentTop,
    reader: &SegmentReader,
) -> tantivy::Result<(usize, Vec<Candidate>)> {
    let mut total = 0;
    match strategy {
        Strategy::Pruning { scored, terms } => {
            total = count_matching(reader, terms, passing)?;
            scored.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
                if score > top.threshold() && passing.passes(doc) {
                    top.offer(doc, score);
                }
                top.threshold()
            })?;
        }
        Strategy::Passing { words } => SUMS.with_borrow_mut(|sums| -> tantivy::Result<()> {
            let Some(PassingSet { set, runs }) = passing.set.as_deref() else {
                return Ok(());
            };
            if sums.len() < reader.max_doc() as usize {
                sums.resize(reader.max_doc() as usize, 0.0);
            }
            // Opened before any sum is touched: an error must not leave
            // sums behind for the thread's next search.
            let mut all_postings = words
                .iter()
                .map(|(word, boost)| word.scorer(reader, *boost))
                .collect::<tantivy::Result<Vec<_>>>()?;
            let mut touched: Vec<DocId> = Vec::new();
            for postings in &mut all_postings {
                for run in runs {
                    let mut doc = postings.doc();
                    if doc < run.start {
                        doc = postings.seek(run.start);
                    }
                    while doc < run.end {
                        if set.contains(doc) {
                            let sum = &mut sums[doc as usize];
                            // Every match scores above zero (BM25 with
                            // positive weights), so zero means not met yet.
                            if *sum == 0.0 {
                                touched.push(doc);
                            }
                            *sum += postings.score();
                        }
                        doc = postings.advance();
                    }
                }
            }
            for doc in touched {
                let sum = std::mem::take(&mut sums[doc as usize]);
                if passing.alive.as_ref().is_none_or(|alive| alive.is_alive(doc)) {
                    total += 1;
                    top.offer(doc, sum);
                }
            }
            Ok(())
        })?,
    }
    Ok((total, top.harvest()))
}

impl PolicyIndex {
    pub fn search(&self, query: &Query<'_>) -> Results {
        match self.try_search(query) {
            Ok(results) => results,
            Err(err) => {
                // The files are this instance's own and mapped: an error
                // here is a broken disk, and the worker is better served
                // by an empty page than by a 500.
                tracing::error!(error = %err, "policy index: search failed");
                Results {
                    total: 0,
                    hits: Vec::new(),
                }
            }
        }
    }

    fn try_search(&self, query: &Query<'_>) -> tantivy::Result<Results> {
        let words = query.text.map(|t| self.words.query_terms(t)).filter(|w| !w.is_empty());
        let filter = filter_of(query);
        let clauses = words
            .as_deref()
            .map(|words| self.text_clauses(words))
            .unwrap_or_default();
        let matching = union_of(&clauses);
        let searcher = self.reader.searcher();
        let scored = matching.weight(EnableScoring::enabled_from_searcher(&searcher))?;
        let terms: Vec<Term> = clauses.iter().map(|(query, _)| query.term().clone()).collect();
        let pruning = Strategy::Pruning {
            scored: scored.as_ref(),
            terms: &terms,
        };
        let mut word_weights: Option<Vec<(Box<dyn Weight>, Score)>> = None;
        let wanted = query.offset + query.limit;
        let mut total = 0;
        let mut candidates = Vec::new();
        for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
            let passing = Passing::open(self, reader, &filter)?;
            let top = SegmentTop::new(reader, ordinal as SegmentOrdinal, wanted)?;
            let selective =
                !clauses.is_empty() && u64::from(passing.count(reader)) * SELECTIVE <= u64::from(reader.max_doc());
            let (found, best) = if selective {
                let words = match &word_weights {
                    Some(words) => words,
                    None => word_weights.insert(weights_of(&searcher, &clauses)?),
                };
                search_segment(&Strategy::Passing { words }, &passing, top, reader)?
            } else {
                search_segment(&pruning, &passing, top, reader)?
            };
            total += found;
            candidates.extend(best);
        }
        candidates.sort_unstable_by(rank);
        candidates.truncate(wanted);
        let highlight: Vec<&str> = words.iter().flatten().map(|(w, _)| w.as_str()).collect();
        let hits = candidates
            .into_iter()
            .skip(query.offset)
            .filter_map(|candidate| {
                let policy = self.load(&searcher, candidate.address)?;
                let snippet = snippet(&policy.text, &highlight);
                let score = if words.is_some() { candidate.score } else { 0.0 };
                Some(Hit { policy, score, snippet })
            })
            .collect();
        Ok(Results { total, hits })
    }

    /// Each word in the title, the tags and the text, weighted by field and
    /// by whether the worker typed it or it is a synonym. Their union is the
    /// query, which tantivy scores by block-max WAND.
    fn text_clauses(&self, words: &[(String, f32)]) -> Vec<(TermQuery, Score)> {
        let fields = [
            (self.fields.title, TITLE_WEIGHT),
            (self.fields.tags, TAG_WEIGHT),
            (self.fields.text, TEXT_WEIGHT),
        ];
        words
            .iter()
            .flat_map(|(word, weight)| {
                fields.iter().map(move |(field, field_weight)| {
                    let term = TermQuery::new(Term::from_field_text(*field, word), IndexRecordOption::WithFreqs);
                    (term, weight * field_weight)
                })
            })
            .collect()
    }
}
