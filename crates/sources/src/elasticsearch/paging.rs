//! Paging without duplicates or misses when documents share a timestamp.
//!
//! Inside an Elasticsearch point in time the sort has a true tiebreaker (`_shard_doc`), so the
//! next page continues exactly after the last hit's sort values. Elsewhere (OpenSearch, servers
//! without point in time, and ES when the point in time expired) no tiebreaker is portable:
//! ES 8 refuses to sort on `_id`, `_doc` is per shard, ES-compatible servers sort on at most
//! a couple of fields. There the next page asks for everything at or before the last
//! timestamp (`search_after: [t + 1]` on a descending sort) and skips the documents already
//! shown at `t`, which the cursor remembers by identity.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::response::{identity, sort_values};
use logsleuth_core::model::Record;
use crate::Cursor;

/// Most documents remembered at one timestamp; past that, paging reads the rest of the range
/// through the scroll API (a snapshot with an exact continuation) rather than asking for ever
/// larger pages.
pub const MAX_SEEN_AT_BOUNDARY: usize = 2000;

/// Which point-in-time API a cursor's id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PitApi {
    /// Elasticsearch `POST <index>/_pit`, `DELETE /_pit`.
    Elasticsearch,
    /// OpenSearch `POST <index>/_search/point_in_time`, `DELETE /_search/point_in_time`.
    OpenSearch,
}

/// An open point in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pit {
    /// Which API.
    pub api: PitApi,
    /// Its id (may change with each search answer on ES).
    pub id: String,
}

/// The last timestamp shown and the documents already shown at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Boundary {
    /// The time field's sort value of the last hit (epoch ms, or ns for `date_nanos`).
    pub value: i64,
    /// Identities of the documents shown with that sort value.
    pub seen: Vec<String>,
}

/// Where the next page starts. Serialized to JSON inside the opaque [`Cursor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PageCursor {
    /// The point in time the pages are read in.
    pub pit: Option<Pit>,
    /// The last hit's sort values (exact continuation inside an ES point in time).
    pub search_after: Vec<Json>,
    /// Inclusive continuation with de-duplication (everywhere else, and the fallback).
    pub boundary: Option<Boundary>,
    /// A scroll reading the rest of the range after a timestamp shared by more documents than
    /// the remembered identities hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scroll: Option<Scroll>,
}

/// An open scroll (`POST <index>/_search?scroll=…`, `POST /_search/scroll`): its id and the
/// documents it returns again that earlier pages showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scroll {
    /// The latest `_scroll_id`.
    pub id: String,
    /// Hits a scroll page holds (fixed when the scroll starts); a shorter page is the last.
    pub size: usize,
    /// Documents shown before the scroll began at its first timestamp (and anything newer,
    /// which the scroll's range may include at sub-millisecond precision), still to be skipped.
    pub skip: Option<Boundary>,
}

impl PageCursor {
    /// Encodes for [`Cursor`].
    pub fn encode(&self) -> Cursor {
        Cursor(serde_json::to_string(self).unwrap_or_default())
    }

    /// Decodes a cursor made by [`PageCursor::encode`].
    pub fn decode(cursor: &Cursor) -> Option<PageCursor> {
        serde_json::from_str(&cursor.0).ok()
    }

    /// Whether the continuation is exact (ES point in time with `_shard_doc`).
    pub fn exact(&self) -> bool {
        matches!(&self.pit, Some(Pit { api: PitApi::Elasticsearch, .. })) && !self.search_after.is_empty()
    }
}

/// Removes records already shown at the boundary (each remembered identity skips one record,
/// so identical duplicate documents are still all shown).
pub fn skip_seen(records: Vec<Record>, boundary: &Boundary) -> Vec<Record> {
    let mut pending: Vec<&str> = boundary.seen.iter().map(String::as_str).collect();
    records
        .into_iter()
        .filter(|r| {
            if first_sort_i64(r) != Some(boundary.value) || pending.is_empty() {
                return true;
            }
            let id = identity(r);
            match pending.iter().position(|s| *s == id) {
                Some(i) => {
                    pending.swap_remove(i);
                    false
                }
                None => true,
            }
        })
        .collect()
}

/// Removes from a scroll's page what was shown before the scroll began: documents newer than
/// the boundary, and the remembered ones at it (each identity once, consumed from `boundary`).
/// Once the page goes past the boundary's timestamp nothing more needs skipping (`*skip`
/// becomes `None`).
pub fn skip_shown(records: Vec<Record>, skip: &mut Option<Boundary>) -> Vec<Record> {
    let Some(boundary) = skip.as_mut() else { return records };
    let mut past = false;
    let kept = records
        .into_iter()
        .filter(|r| {
            let Some(value) = first_sort_i64(r) else { return true };
            if value > boundary.value {
                return false;
            }
            if value < boundary.value {
                past = true;
                return true;
            }
            let id = identity(r);
            match boundary.seen.iter().position(|s| *s == id) {
                Some(i) => {
                    boundary.seen.swap_remove(i);
                    false
                }
                None => true,
            }
        })
        .collect();
    if past || boundary.seen.is_empty() {
        *skip = None;
    }
    kept
}

/// The time sort value of a record as an integer.
pub fn first_sort_i64(record: &Record) -> Option<i64> {
    let values = sort_values(record)?;
    let first = values.first()?;
    first.as_i64().or_else(|| first.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
}

/// The boundary after showing `shown` (in order), continuing from `previous`.
pub fn next_boundary(shown: &[Record], previous: Option<&Boundary>) -> Option<Boundary> {
    let last = shown.last()?;
    let value = first_sort_i64(last)?;
    let mut seen: Vec<String> = match previous {
        Some(p) if p.value == value => p.seen.clone(),
        _ => Vec::new(),
    };
    seen.extend(shown.iter().filter(|r| first_sort_i64(r) == Some(value)).map(identity));
    // Every one is kept: past the cap the scroll that reads on skips exactly these. (A page
    // adds at most its size, so this holds at most the cap and one page.)
    Some(Boundary { value, seen })
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::RecordId;

    fn rec(sort: i64, id: &str) -> Record {
        Record { id: RecordId::Es { index: "i".into(), id: Some(id.into()), sort: format!("[{sort}]") }, ..Record::default() }
    }

    #[test]
    fn boundary_remembers_every_record_at_the_last_timestamp() {
        let page = vec![rec(30, "a"), rec(20, "b"), rec(20, "c")];
        let b = next_boundary(&page, None).unwrap();
        assert_eq!(b.value, 20);
        assert_eq!(b.seen.len(), 2);
        let next = skip_seen(vec![rec(20, "c"), rec(20, "b"), rec(20, "d"), rec(10, "e")], &b);
        let ids: Vec<_> = next.iter().map(identity).collect();
        assert_eq!(ids, vec!["i\u{0}d".to_string(), "i\u{0}e".to_string()]);
        // a further page at the same timestamp keeps the earlier ones too
        let b2 = next_boundary(&next[..1], Some(&b)).unwrap();
        assert_eq!(b2.seen.len(), 3);
    }

    #[test]
    fn cursor_round_trips() {
        let c = PageCursor {
            pit: Some(Pit { api: PitApi::Elasticsearch, id: "abc".into() }),
            search_after: vec![serde_json::json!(1), serde_json::json!(7)],
            boundary: None,
            scroll: None,
        };
        assert_eq!(PageCursor::decode(&c.encode()), Some(c.clone()));
        assert!(c.exact());
        assert_eq!(PageCursor::decode(&Cursor("garbage".into())), None);
        let s = PageCursor { scroll: Some(Scroll { id: "s1".into(), size: 10, skip: None }), ..PageCursor::default() };
        assert_eq!(PageCursor::decode(&s.encode()), Some(s));
    }

    #[test]
    fn a_scroll_skips_what_was_shown_before_it() {
        let mut skip = Some(Boundary { value: 20, seen: vec![identity(&rec(20, "a")), identity(&rec(20, "b"))] });
        let page = skip_shown(vec![rec(21, "n"), rec(20, "b"), rec(20, "c")], &mut skip);
        assert_eq!(page.iter().map(identity).collect::<Vec<_>>(), vec![identity(&rec(20, "c"))]);
        assert_eq!(skip.as_ref().map(|b| b.seen.len()), Some(1));
        let page = skip_shown(vec![rec(20, "a"), rec(19, "d")], &mut skip);
        assert_eq!(page.len(), 1);
        assert_eq!(skip, None);
    }
}
