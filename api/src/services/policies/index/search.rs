//! Searching: the page's top hits by tantivy's block-max WAND over the
//! query's words (postings whose best possible score cannot reach the page
//! are skipped unread), with the filters and the full order applied as the
//! candidates come; the total counted over the unscored query.

use std::{cmp::Ordering, collections::BinaryHeap, sync::Arc};

use tantivy::{
    BitSet, DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED, Term,
    collector::{Collector, SegmentCollector},
    columnar::ColumnValues,
    fastfield::AliveBitSet,
    query::{AllQuery, BooleanQuery, BoostQuery, EnableScoring, Occur, TermQuery, Weight},
    schema::IndexRecordOption,
};

use super::{Hit, PolicyIndex, Query, Results, schema, snippet::snippet};

/// How much a match in each field counts.
const TITLE_WEIGHT: f32 = 3.0;
const TAG_WEIGHT: f32 = 2.0;
const TEXT_WEIGHT: f32 = 1.0;

/// The filters as the fast fields hold them.
struct Filter {
    regions: Option<Vec<u64>>,
    category: Option<u64>,
    tag: Option<Term>,
    day: Option<i64>,
}

/// One segment's fast fields, read per candidate.
struct Facts {
    region: Arc<dyn ColumnValues<u64>>,
    category: Arc<dyn ColumnValues<u64>>,
    from_day: Arc<dyn ColumnValues<i64>>,
    until_day: Arc<dyn ColumnValues<i64>>,
    locality: Arc<dyn ColumnValues<u64>>,
    issued_day: Arc<dyn ColumnValues<i64>>,
    id_high: Arc<dyn ColumnValues<u64>>,
    id_low: Arc<dyn ColumnValues<u64>>,
    /// With a tag filter: the segment's documents that carry the tag.
    tagged: Option<BitSet>,
    alive: Option<AliveBitSet>,
}

impl Facts {
    fn open(segment: &SegmentReader, filter: &Filter, tag_field: tantivy::schema::Field) -> tantivy::Result<Self> {
        let fast = segment.fast_fields();
        let u = |name: &str| fast.u64(name).map(|c| c.first_or_default_col(0));
        let i = |name: &str| fast.i64(name).map(|c| c.first_or_default_col(0));
        let tagged = match &filter.tag {
            Some(term) => {
                let mut set = BitSet::with_max_value(segment.max_doc());
                let postings = segment
                    .inverted_index(tag_field)?
                    .read_postings(term, IndexRecordOption::Basic)?;
                if let Some(mut postings) = postings {
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        set.insert(doc);
                        doc = postings.advance();
                    }
                }
                Some(set)
            }
            None => None,
        };
        Ok(Self {
            region: u(schema::REGION)?,
            category: u(schema::CATEGORY)?,
            from_day: i(schema::FROM_DAY)?,
            until_day: i(schema::UNTIL_DAY)?,
            locality: u(schema::LOCALITY)?,
            issued_day: i(schema::ISSUED_DAY)?,
            id_high: u(schema::ID_HIGH)?,
            id_low: u(schema::ID_LOW)?,
            tagged,
            alive: segment.alive_bitset().cloned(),
        })
    }

    fn passes(&self, doc: DocId, filter: &Filter) -> bool {
        self.alive.as_ref().is_none_or(|alive| alive.is_alive(doc))
            && filter
                .regions
                .as_ref()
                .is_none_or(|regions| regions.contains(&self.region.get_val(doc)))
            && filter.category.is_none_or(|c| c == self.category.get_val(doc))
            && filter
                .day
                .is_none_or(|day| self.from_day.get_val(doc) <= day && self.until_day.get_val(doc) >= day)
            && self.tagged.as_ref().is_none_or(|tagged| tagged.contains(doc))
    }

    fn candidate(&self, doc: DocId, score: Score, segment: SegmentOrdinal) -> Candidate {
        Candidate {
            score,
            locality: self.locality.get_val(doc),
            issued_day: self.issued_day.get_val(doc),
            id: (self.id_high.get_val(doc), self.id_low.get_val(doc)),
            address: DocAddress::new(segment, doc),
        }
    }
}

#[derive(Clone, Copy)]
struct Candidate {
    score: Score,
    locality: u64,
    issued_day: i64,
    id: (u64, u64),
    address: DocAddress,
}

/// `Less` when `a` comes first: the higher score, then the more local
/// policy, then the newer, then the smaller id. Ids are unique, so the order
/// is the same on every instance: a page boundary never depends on which
/// one answers, nor on how its segments happen to be laid out.
fn rank(a: &Candidate, b: &Candidate) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then(b.locality.cmp(&a.locality))
        .then(b.issued_day.cmp(&a.issued_day))
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

/// Keeps the `wanted` best candidates that pass the filter.
struct TopPassing {
    filter: Arc<Filter>,
    tag_field: tantivy::schema::Field,
    wanted: usize,
}

struct SegmentTop {
    facts: Facts,
    filter: Arc<Filter>,
    segment: SegmentOrdinal,
    wanted: usize,
    heap: BinaryHeap<Ranked>,
}

impl SegmentTop {
    /// The score a document must exceed to be worth handing over. Equal
    /// scores may still win on the rest of the order, so the bound is the
    /// last kept score's next lower value.
    fn threshold(&self) -> Score {
        match self.heap.peek() {
            Some(last) if self.heap.len() >= self.wanted => last.0.score.next_down(),
            _ => Score::MIN,
        }
    }
}

impl SegmentCollector for SegmentTop {
    type Fruit = Vec<Candidate>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if !self.facts.passes(doc, &self.filter) {
            return;
        }
        let candidate = Ranked(self.facts.candidate(doc, score, self.segment));
        if self.heap.len() < self.wanted {
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

impl Collector for TopPassing {
    type Fruit = Vec<Candidate>;
    type Child = SegmentTop;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentTop> {
        Ok(SegmentTop {
            facts: Facts::open(reader, &self.filter, self.tag_field)?,
            filter: self.filter.clone(),
            segment,
            wanted: self.wanted,
            heap: BinaryHeap::with_capacity(self.wanted + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Candidate>>) -> tantivy::Result<Vec<Candidate>> {
        let mut all: Vec<Candidate> = fruits.into_iter().flatten().collect();
        all.sort_unstable_by(rank);
        all.truncate(self.wanted);
        Ok(all)
    }

    /// As TopDocs does: the scorer is driven with a threshold, so that a
    /// union of words runs as block-max WAND.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Vec<Candidate>> {
        let mut top = self.for_segment(segment, reader)?;
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
            top.collect(doc, score);
            top.threshold()
        })?;
        Ok(top.harvest())
    }
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
        let filter = Arc::new(Filter {
            regions: query
                .regions
                .as_ref()
                .map(|regions| regions.iter().map(schema::region_number).collect()),
            category: query.category.map(schema::category_number),
            tag: query.tag.map(|tag| Term::from_field_text(self.fields.tag, tag)),
            day: query
                .in_force_on
                .map(|day| i64::from(chrono::Datelike::num_days_from_ce(&day))),
        });
        let matching: Box<dyn tantivy::query::Query> = match &words {
            Some(words) => Box::new(self.text_query(words)),
            None => Box::new(AllQuery),
        };
        let searcher = self.reader.searcher();
        let total = self.count(&searcher, matching.as_ref(), &filter)?;
        let wanted = (query.offset + query.limit).min(total);
        if wanted <= query.offset {
            return Ok(Results {
                total,
                hits: Vec::new(),
            });
        }
        let top = searcher.search(
            matching.as_ref(),
            &TopPassing {
                filter,
                tag_field: self.fields.tag,
                wanted,
            },
        )?;
        let highlight: Vec<&str> = words.iter().flatten().map(|(w, _)| w.as_str()).collect();
        let hits = top
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
    /// by whether the worker typed it or it is a synonym: a union of term
    /// queries, which tantivy scores by block-max WAND.
    fn text_query(&self, words: &[(String, f32)]) -> BooleanQuery {
        let fields = [
            (self.fields.title, TITLE_WEIGHT),
            (self.fields.tags, TAG_WEIGHT),
            (self.fields.text, TEXT_WEIGHT),
        ];
        let clauses = words
            .iter()
            .flat_map(|(word, weight)| {
                fields.iter().map(move |(field, field_weight)| {
                    let term = TermQuery::new(Term::from_field_text(*field, word), IndexRecordOption::WithFreqs);
                    let clause: Box<dyn tantivy::query::Query> =
                        Box::new(BoostQuery::new(Box::new(term), weight * field_weight));
                    (Occur::Should, clause)
                })
            })
            .collect();
        BooleanQuery::new(clauses)
    }

    /// How many documents match and pass the filter: the unscored query's
    /// documents, each tested against the fast fields.
    fn count(
        &self,
        searcher: &Searcher,
        matching: &dyn tantivy::query::Query,
        filter: &Filter,
    ) -> tantivy::Result<usize> {
        let weight = matching.weight(EnableScoring::disabled_from_searcher(searcher))?;
        let mut total = 0;
        for segment in searcher.segment_readers() {
            let facts = Facts::open(segment, filter, self.fields.tag)?;
            weight.for_each_no_score(segment, &mut |docs| {
                total += docs.iter().filter(|doc| facts.passes(**doc, filter)).count();
            })?;
        }
        Ok(total)
    }
}
