//! What a policy is in the index: its fields, how a policy becomes a
//! document and back, and the commit payload that says which schema and
//! which watermark the files on disk have.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tantivy::{
    Index, IndexSettings, IndexSortByField, Order, TantivyDocument,
    directory::MmapDirectory,
    schema::{FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value},
};

use super::{IndexedPolicy, tokenizer::JIEBA};

/// Raised whenever the fields or what goes into them change: an index on
/// disk of another version is rebuilt from the database.
const SCHEMA_VERSION: u32 = 2;

const ID: &str = "id";
const TITLE: &str = "title";
const TAGS: &str = "tags";
const TEXT: &str = "text";
/// Tags and audience tags, each whole, for the tag filter.
const TAG: &str = "tag";
/// The policy as JSON: what a hit shows, and the text of its snippet.
const POLICY: &str = "policy";
pub(super) const VERSION: &str = "version";
pub(super) const REGION: &str = "region";
pub(super) const CATEGORY: &str = "category";
/// In force from and until, as days since year 1; open ends as the
/// extremes of i64, so that the filter needs no special case.
pub(super) const FROM_DAY: &str = "from_day";
pub(super) const UNTIL_DAY: &str = "until_day";
/// The order of policies of equal score (`tiebreak`), which is also the
/// order of each segment's documents.
pub(super) const TIEBREAK: &str = "tiebreak";
/// The id's first and next eight bytes: ties are broken by id.
pub(super) const ID_HIGH: &str = "id_high";
pub(super) const ID_LOW: &str = "id_low";

pub(super) struct Fields {
    pub id: Field,
    pub title: Field,
    pub tags: Field,
    pub text: Field,
    pub tag: Field,
    policy: Field,
    version: Field,
    region: Field,
    category: Field,
    tiebreak: Field,
    id_high: Field,
    id_low: Field,
    from_day: Field,
    until_day: Field,
}

fn build() -> Schema {
    let mut builder = Schema::builder();
    // Frequencies without positions: BM25 needs the former, nothing the latter.
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(JIEBA)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    builder.add_text_field(ID, STRING);
    builder.add_text_field(TITLE, words.clone());
    builder.add_text_field(TAGS, words.clone());
    builder.add_text_field(TEXT, words);
    builder.add_text_field(TAG, STRING);
    builder.add_bytes_field(POLICY, STORED);
    for name in [VERSION, REGION, CATEGORY, TIEBREAK, ID_HIGH, ID_LOW] {
        builder.add_u64_field(name, FAST);
    }
    for name in [FROM_DAY, UNTIL_DAY] {
        builder.add_i64_field(name, FAST);
    }
    builder.build()
}

#[derive(Serialize, Deserialize)]
struct Payload {
    schema: u32,
    watermark: Option<DateTime<Utc>>,
}

pub(super) fn payload(watermark: Option<DateTime<Utc>>) -> String {
    serde_json::to_string(&Payload {
        schema: SCHEMA_VERSION,
        watermark,
    })
    .expect("a payload serializes")
}

/// The index in `dir` with its watermark when it is of this schema version
/// and was committed by the follower; otherwise a fresh, empty one (the
/// directory's files are removed first).
pub(super) fn open_or_create(dir: &Path) -> anyhow::Result<(Index, Option<DateTime<Utc>>)> {
    let schema = build();
    if dir.join("meta.json").exists() {
        let index = Index::open(MmapDirectory::open(dir)?)?;
        let payload = index.load_metas()?.payload;
        let kept = payload.and_then(|p| serde_json::from_str::<Payload>(&p).ok());
        if let Some(Payload {
            schema: SCHEMA_VERSION,
            watermark: Some(watermark),
        }) = kept
            && index.schema() == schema
        {
            return Ok((index, Some(watermark)));
        }
        drop(index);
        tracing::info!("policy index: another schema or an unfinished build on disk; building it anew");
        std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let settings = IndexSettings {
        sort_by_field: Some(IndexSortByField {
            field: TIEBREAK.to_owned(),
            order: Order::Asc,
        }),
        ..IndexSettings::default()
    };
    let index = Index::create(MmapDirectory::open(dir)?, schema, settings)?;
    Ok((index, None))
}

fn day(date: Option<NaiveDate>, open: i64) -> i64 {
    date.map_or(open, |d| i64::from(d.num_days_from_ce()))
}

/// Region codes in the tie-break key: six decimal digits fit in 20 bits.
const TIEBREAK_REGION_BITS: u32 = 20;
/// Days since 1900-01-01 in the tie-break key: 17 bits, up to 2258.
const TIEBREAK_DAY_BITS: u32 = 17;
/// Hex digits of the id in the tie-break key: 24 bits.
const TIEBREAK_ID_DIGITS: u32 = 6;
const TIEBREAK_ID_BITS: u32 = 4 * TIEBREAK_ID_DIGITS;
const TIEBREAK_REGION_SHIFT: u32 = TIEBREAK_DAY_BITS + TIEBREAK_ID_BITS;
const TIEBREAK_REMOTENESS_SHIFT: u32 = TIEBREAK_REGION_SHIFT + TIEBREAK_REGION_BITS;

/// The order of policies of equal score as one number, smallest first: the
/// more local, then by region, then the newer (issue date), then the smaller
/// id (its first six hex digits; the whole id decides between two that
/// share them). Each segment keeps its documents in this order, which
/// serves two ends:
/// - among documents of equal score, the first one a search meets is the
///   one that ranks first, so once a page is full a search skips the rest
///   of a tie unread instead of comparing every one of them;
/// - a region's policies are one run of documents (`region_run`), so a
///   search filtered to a county and the regions above it reads only those
///   runs. Within one such search every policy of a locality has the same
///   region, so its order is the more local, then the newer, then the id.
pub(super) fn tiebreak(policy: &IndexedPolicy) -> u64 {
    let remoteness = 3 - u64::from(policy.locality.min(3));
    let newest = (1u64 << TIEBREAK_DAY_BITS) - 1;
    let base = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date");
    let days = policy
        .issued_on
        .map_or(0, |d| (d - base).num_days().clamp(0, newest as i64) as u64);
    let digits: Vec<u64> = policy
        .id
        .chars()
        .filter(|c| *c != '-')
        .take(TIEBREAK_ID_DIGITS as usize)
        .map(|c| u64::from(c.to_digit(16).unwrap_or(15)))
        .collect();
    let id =
        digits.iter().fold(0u64, |acc, digit| acc << 4 | digit) << (4 * (TIEBREAK_ID_DIGITS as usize - digits.len()));
    remoteness << TIEBREAK_REMOTENESS_SHIFT
        | region_number(&policy.region) << TIEBREAK_REGION_SHIFT
        | (newest - days) << TIEBREAK_ID_BITS
        | id
}

/// The tie-break keys of a region's policies, at each of the four
/// localities (a region has one, but the key's order does not depend on
/// knowing which).
pub(super) fn region_keys(region: u64) -> impl Iterator<Item = std::ops::RangeInclusive<u64>> {
    (0..4u64).map(move |remoteness| {
        let first = remoteness << TIEBREAK_REMOTENESS_SHIFT | region << TIEBREAK_REGION_SHIFT;
        first..=first | ((1u64 << TIEBREAK_REGION_SHIFT) - 1)
    })
}

/// A region code's six digits as a number (the filter compares numbers).
pub(super) fn region_number(code: &crate::domain::RegionCode) -> u64 {
    code.as_str().parse().expect("a region code is six digits")
}

pub(super) fn category_number(category: super::PolicyCategory) -> u64 {
    super::PolicyCategory::ALL
        .iter()
        .position(|c| *c == category)
        .expect("every category is in ALL") as u64
}

pub(super) fn id_halves(id: &str) -> (u64, u64) {
    let mut bytes = [0u8; 16];
    for (to, from) in bytes.iter_mut().zip(id.bytes()) {
        *to = from;
    }
    let (high, low) = bytes.split_at(8);
    (
        u64::from_be_bytes(high.try_into().expect("eight bytes")),
        u64::from_be_bytes(low.try_into().expect("eight bytes")),
    )
}

impl Fields {
    pub fn of(schema: &Schema) -> anyhow::Result<Self> {
        Ok(Self {
            id: schema.get_field(ID)?,
            title: schema.get_field(TITLE)?,
            tags: schema.get_field(TAGS)?,
            text: schema.get_field(TEXT)?,
            tag: schema.get_field(TAG)?,
            policy: schema.get_field(POLICY)?,
            version: schema.get_field(VERSION)?,
            region: schema.get_field(REGION)?,
            category: schema.get_field(CATEGORY)?,
            tiebreak: schema.get_field(TIEBREAK)?,
            id_high: schema.get_field(ID_HIGH)?,
            id_low: schema.get_field(ID_LOW)?,
            from_day: schema.get_field(FROM_DAY)?,
            until_day: schema.get_field(UNTIL_DAY)?,
        })
    }

    pub fn document(&self, policy: &IndexedPolicy) -> TantivyDocument {
        let mut document = TantivyDocument::default();
        document.add_text(self.id, &policy.id);
        document.add_text(self.title, &policy.title);
        document.add_text(self.tags, policy.tags.join(" "));
        document.add_text(self.text, &policy.text);
        for tag in policy.tags.iter().chain(&policy.audience_tags) {
            document.add_text(self.tag, tag);
        }
        document.add_bytes(self.policy, &serde_json::to_vec(policy).expect("a policy serializes"));
        let (high, low) = id_halves(&policy.id);
        document.add_u64(self.version, u64::try_from(policy.version).unwrap_or(0));
        document.add_u64(self.region, region_number(&policy.region));
        document.add_u64(self.category, category_number(policy.category));
        document.add_u64(self.tiebreak, tiebreak(policy));
        document.add_u64(self.id_high, high);
        document.add_u64(self.id_low, low);
        document.add_i64(self.from_day, day(policy.effective_from, i64::MIN));
        document.add_i64(self.until_day, day(policy.effective_until, i64::MAX));
        document
    }

    pub fn policy_of(&self, document: &TantivyDocument) -> Option<IndexedPolicy> {
        let bytes = document.get_first(self.policy)?.as_bytes()?;
        serde_json::from_slice(bytes).ok()
    }
}

/// A region code as its text in the stored JSON.
pub(super) mod region_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::domain::{RegionCode, TextType};

    pub fn serialize<S: Serializer>(code: &RegionCode, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(code.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<RegionCode, D::Error> {
        let text = String::deserialize(deserializer)?;
        RegionCode::parse(&text).map_err(|_| D::Error::custom("not a region code"))
    }
}
