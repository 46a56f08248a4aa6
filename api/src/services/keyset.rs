//! Keyset paging for the long staff queues (issue 20): a page after a cursor
//! is read as "the rows whose sort key comes after the last row shown", a
//! range of the queue's index, so page 1,000 costs what page 1 costs. OFFSET
//! made the database step over every earlier row instead.
//!
//! A cursor is opaque to clients: `base64url(JSON).mac`, the JSON naming the
//! queue, a fingerprint of its filters and of the caller's region scope, how
//! many rows came before the next page, and the last row's sort key (its id
//! last, so that the order is total). The MAC is a keyed hash under the
//! lookup key, so a cursor cannot be forged or edited, and one from another
//! queue, other filters or another scope is refused rather than read in the
//! wrong order. Every page still applies the caller's filters and region
//! scope: a cursor only says where to start.

use std::fmt::Debug;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    Value,
    sea_query::{Expr, ExprTrait, SimpleExpr},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    error::{AppError, AppResult, ErrorCode},
    infra::crypto::{DataProtector, Purpose},
};

/// Hex characters of the MAC kept in a cursor (128 bits).
const MAC_CHARS: usize = 32;
/// Hex characters of the filter fingerprint kept in a cursor.
const FINGERPRINT_CHARS: usize = 16;
/// Longer text is no cursor this module wrote.
pub const MAX_CURSOR_CHARS: usize = 1024;

/// One value of a row's sort key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Key {
    #[serde(rename = "t")]
    Time(DateTime<Utc>),
    #[serde(rename = "s")]
    Text(String),
    #[serde(rename = "i")]
    Int(i64),
}

impl From<DateTime<Utc>> for Key {
    fn from(at: DateTime<Utc>) -> Self {
        Key::Time(at)
    }
}

impl From<&str> for Key {
    fn from(text: &str) -> Self {
        Key::Text(text.to_owned())
    }
}

impl From<i64> for Key {
    fn from(n: i64) -> Self {
        Key::Int(n)
    }
}

impl From<Key> for Value {
    fn from(key: Key) -> Self {
        match key {
            Key::Time(at) => at.into(),
            Key::Text(text) => text.into(),
            Key::Int(n) => n.into(),
        }
    }
}

/// Which page of a queue is asked for: by number (read with OFFSET, within
/// the first `MAX_PAGED_ROWS` rows), or the page after a cursor, which then
/// decides alone (the page number is ignored).
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub page: u32,
    pub page_size: u32,
    pub cursor: Option<String>,
}

/// One page of a queue: its rows, how many match in all, which page it is,
/// and the cursor of the next page (`None` on the last).
#[derive(Debug)]
pub struct Cut<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
    pub next_cursor: Option<String>,
}

impl Cut<()> {
    /// The page holding `items` instead.
    pub fn with_items<U>(self, items: Vec<U>) -> Cut<U> {
        Cut {
            items,
            total: self.total,
            page: self.page,
            page_size: self.page_size,
            next_cursor: self.next_cursor,
        }
    }
}

impl<T> Cut<T> {
    /// The items apart, and the page without them.
    pub fn take_items(self) -> (Vec<T>, Cut<()>) {
        let Cut {
            items,
            total,
            page,
            page_size,
            next_cursor,
        } = self;
        let rest = Cut {
            items: Vec::new(),
            total,
            page,
            page_size,
            next_cursor,
        };
        (items, rest)
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Cut<U> {
        Cut {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            page_size: self.page_size,
            next_cursor: self.next_cursor,
        }
    }

    pub fn try_map<U>(self, f: impl FnMut(T) -> AppResult<U>) -> AppResult<Cut<U>> {
        Ok(Cut {
            items: self.items.into_iter().map(f).collect::<AppResult<_>>()?,
            total: self.total,
            page: self.page,
            page_size: self.page_size,
            next_cursor: self.next_cursor,
        })
    }
}

/// Where the next page starts, as a cursor says it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Position {
    /// The queue.
    q: String,
    /// The fingerprint of the filters and scope.
    f: String,
    /// Rows before the next page, which tells its number.
    o: u64,
    /// The last row's sort key, its id last.
    k: Vec<Key>,
}

/// Why a cursor is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Not a cursor this server wrote, or one edited since.
    Malformed,
    /// A cursor of another queue, or of the same queue with other filters or scope.
    OtherList,
}

fn fingerprint(queue: &str, scope: &str) -> String {
    let digest = Sha256::new()
        .chain_update(queue)
        .chain_update([0])
        .chain_update(scope)
        .finalize();
    hex::encode(digest)[..FINGERPRINT_CHARS].to_owned()
}

fn mac(protector: &DataProtector, payload: &str) -> String {
    protector.lookup_hash(Purpose::PageCursor, payload)[..MAC_CHARS].to_owned()
}

impl Position {
    fn encode(&self, protector: &DataProtector) -> String {
        let payload = BASE64URL.encode(serde_json::to_vec(self).expect("a position serialises"));
        let mac = mac(protector, &payload);
        format!("{payload}.{mac}")
    }

    fn decode(protector: &DataProtector, text: &str) -> Result<Self, Refusal> {
        let (payload, mac) = text.split_once('.').ok_or(Refusal::Malformed)?;
        let signed = text.len() <= MAX_CURSOR_CHARS
            && protector
                .lookup_hashes(Purpose::PageCursor, payload)
                .iter()
                .any(|hash| hash[..MAC_CHARS] == *mac);
        if !signed {
            return Err(Refusal::Malformed);
        }
        let json = BASE64URL.decode(payload).map_err(|_| Refusal::Malformed)?;
        serde_json::from_slice(&json).map_err(|_| Refusal::Malformed)
    }

    /// The position, if it belongs to `queue` under `filter` and has a key of
    /// `width` values.
    fn check(self, queue: &str, filter: &str, width: usize) -> Result<Self, Refusal> {
        if self.q != queue || self.f != filter {
            return Err(Refusal::OtherList);
        }
        if self.k.len() != width {
            return Err(Refusal::Malformed);
        }
        Ok(self)
    }
}

fn refused(refusal: Refusal) -> AppError {
    let reason = match refusal {
        Refusal::Malformed => "malformed",
        Refusal::OtherList => "other_list",
    };
    AppError::new(ErrorCode::CursorInvalid).with_details(serde_json::json!({ "reason": reason }))
}

/// Rows past `key` in the order of `columns` (ascending, or descending): a
/// row-value comparison, which SQLite and PostgreSQL both answer as a range
/// of an index on those columns. Exports read their batches with it too.
pub fn after<C: ColumnTrait>(columns: &[C], key: &[Key], descending: bool) -> SimpleExpr {
    let columns = Expr::tuple(columns.iter().map(|c| Expr::col(c.as_column_ref())));
    let values = Expr::tuple(key.iter().cloned().map(|k| Expr::val(Value::from(k))));
    if descending {
        columns.lt(values)
    } else {
        columns.gt(values)
    }
}

/// A queue's order and the page asked of it.
pub struct Keyset<'a, C> {
    protector: &'a DataProtector,
    queue: &'static str,
    filter: String,
    /// The sort columns, the id last; all ascending or all descending.
    columns: Vec<C>,
    descending: bool,
    window: Window,
    after: Option<Position>,
}

impl<'a, C: ColumnTrait> Keyset<'a, C> {
    /// The page `window` asks of `queue`, ordered by `columns` (the id last)
    /// ascending or, with `descending`, descending. `scope` is everything
    /// that selects the queue's rows (filters and the caller's regions): a
    /// cursor is good only under the same. 400 `CURSOR_INVALID` for a
    /// cursor that is garbage, edited, or of another queue, filters or scope.
    pub fn open(
        protector: &'a DataProtector,
        queue: &'static str,
        scope: &impl Debug,
        (columns, descending): (Vec<C>, bool),
        window: Window,
    ) -> AppResult<Self> {
        let filter = fingerprint(queue, &format!("{scope:?}"));
        let after = match window.cursor.as_deref() {
            Some(text) => Some(
                Position::decode(protector, text)
                    .and_then(|p| p.check(queue, &filter, columns.len()))
                    .map_err(refused)?,
            ),
            None => None,
        };
        Ok(Keyset {
            protector,
            queue,
            filter,
            columns,
            descending,
            window,
            after,
        })
    }

    /// Rows before the page.
    fn offset(&self) -> u64 {
        match &self.after {
            Some(position) => position.o,
            None => u64::from(self.window.page.saturating_sub(1)) * u64::from(self.window.page_size),
        }
    }

    /// `select` in the queue's order, cut to the page and one row more (which
    /// tells whether a next page exists): after the cursor's row by a
    /// row-value comparison, which both databases answer from an index on
    /// the sort columns; without a cursor, by OFFSET.
    pub fn cut<E: EntityTrait<Column = C>>(&self, select: Select<E>) -> Select<E> {
        let order = if self.descending { Order::Desc } else { Order::Asc };
        let mut select = self
            .columns
            .iter()
            .fold(select, |select, column| select.order_by(*column, order.clone()));
        select = match &self.after {
            Some(position) => select.filter(self.after_key(&position.k)),
            None => select.offset(self.offset()),
        };
        select.limit(u64::from(self.window.page_size) + 1)
    }

    fn after_key(&self, key: &[Key]) -> SimpleExpr {
        after(&self.columns, key, self.descending)
    }

    /// The page of `select` (an entity's rows, filtered) and how many rows
    /// match in all: two queries, whatever the depth.
    pub async fn read<E>(
        &self,
        db: &impl ConnectionTrait,
        select: Select<E>,
        key: impl Fn(&E::Model) -> Vec<Key>,
    ) -> AppResult<Cut<E::Model>>
    where
        E: EntityTrait<Column = C>,
        E::Model: Sync,
    {
        let total = select.clone().count(db).await?;
        let rows = self.cut(select).all(db).await?;
        Ok(self.page(rows, total, key))
    }

    /// The page from the rows `cut` read, with the cursor of the next page
    /// when there is one; `key` gives a row's sort key, as `columns` list it.
    pub fn page<M>(&self, mut rows: Vec<M>, total: u64, key: impl Fn(&M) -> Vec<Key>) -> Cut<M> {
        let page_size = self.window.page_size;
        let more = rows.len() > page_size as usize;
        rows.truncate(page_size as usize);
        let offset = self.offset();
        let next_cursor = match rows.last() {
            Some(last) if more => Some(
                Position {
                    q: self.queue.to_owned(),
                    f: self.filter.clone(),
                    o: offset + rows.len() as u64,
                    k: key(last),
                }
                .encode(self.protector),
            ),
            _ => None,
        };
        Cut {
            items: rows,
            total,
            page: u32::try_from(offset / u64::from(Ord::max(page_size, 1)) + 1).unwrap_or(u32::MAX),
            page_size,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretBox;

    use super::*;
    use crate::config::DataKey;

    fn protector(byte: u8) -> DataProtector {
        let key = |id: &str| DataKey {
            id: id.to_owned(),
            key: SecretBox::new(Box::new([byte; 32])),
        };
        DataProtector::new(&[key("d")], &[key("l")])
    }

    fn position() -> Position {
        Position {
            q: "applications.review".to_owned(),
            f: fingerprint("applications.review", "scope"),
            o: 40,
            k: vec![
                Key::Time(
                    DateTime::parse_from_rfc3339("2026-12-01T08:00:00.123456Z")
                        .unwrap()
                        .into(),
                ),
                Key::Int(-7),
                Key::Text("0193-字".to_owned()),
            ],
        }
    }

    #[test]
    fn a_cursor_reads_back_as_written() {
        let keys = protector(1);
        let text = position().encode(&keys);
        assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
        assert_eq!(Position::decode(&keys, &text), Ok(position()));
    }

    #[test]
    fn garbage_and_edited_cursors_are_malformed() {
        let keys = protector(1);
        let text = position().encode(&keys);
        let (payload, mac) = text.split_once('.').unwrap();
        let mut edited = payload.as_bytes().to_vec();
        edited[10] = if edited[10] == b'A' { b'B' } else { b'A' };
        let edited = format!("{}.{mac}", String::from_utf8(edited).unwrap());
        let unsigned = BASE64URL.encode(serde_json::to_vec(&position()).unwrap());
        for bad in [
            "",
            "abc",
            ".",
            "e30.",
            &edited,
            &unsigned,
            &format!("{unsigned}.{}", "0".repeat(32)),
        ] {
            assert_eq!(Position::decode(&keys, bad), Err(Refusal::Malformed), "{bad}");
        }
        assert_eq!(Position::decode(&protector(2), &text), Err(Refusal::Malformed));
    }

    #[test]
    fn a_cursor_serves_only_its_queue_filters_and_width() {
        let filter = fingerprint("applications.review", "scope");
        assert_eq!(position().check("applications.review", &filter, 3), Ok(position()));
        assert_eq!(
            position().check("complaints.queue", &filter, 3),
            Err(Refusal::OtherList)
        );
        let other = fingerprint("applications.review", "other scope");
        assert_eq!(
            position().check("applications.review", &other, 3),
            Err(Refusal::OtherList)
        );
        assert_eq!(
            position().check("applications.review", &filter, 2),
            Err(Refusal::Malformed)
        );
    }

    #[test]
    fn a_page_after_a_cursor_is_numbered_by_the_rows_before_it() {
        let keys = protector(1);
        let window = Window {
            page: 1,
            page_size: 20,
            cursor: Some(position().encode(&keys)),
        };
        let keyset = Keyset::<entity::application::Column>::open(
            &keys,
            "applications.review",
            &"scope",
            (vec![entity::application::Column::Id; 3], false),
            window,
        );
        // The scope is formatted with Debug, so the fingerprint differs from "scope".
        assert_eq!(keyset.err().map(|e| e.code), Some(ErrorCode::CursorInvalid));
        let scope = "s";
        let mut with_scope = position();
        with_scope.f = fingerprint("applications.review", &format!("{scope:?}"));
        let window = Window {
            page: 9,
            page_size: 20,
            cursor: Some(with_scope.encode(&keys)),
        };
        let keyset = Keyset::open(
            &keys,
            "applications.review",
            &scope,
            (vec![entity::application::Column::Id; 3], false),
            window,
        )
        .unwrap();
        let rows: Vec<i64> = (0..21).collect();
        let cut = keyset.page(rows, 100, |n| vec![Key::Int(*n); 3]);
        assert_eq!((cut.items.len(), cut.page, cut.total), (20, 3, 100));
        let next = Position::decode(&keys, cut.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!((next.o, next.k), (60, vec![Key::Int(19); 3]));
        assert!(
            keyset
                .page(vec![1_i64], 100, |n| vec![Key::Int(*n); 3])
                .next_cursor
                .is_none()
        );
    }
}
