//! Paging through a backward `query_range` without duplicates or gaps.
//!
//! Loki has no cursor: the next page is asked for by moving `end` (exclusive) to the oldest
//! timestamp seen. Lines sharing that timestamp may straddle the page edge, so the next
//! request uses `end = oldest + 1ns` and skips the entries already returned at `oldest`,
//! identified by (stream, timestamp, line).

use std::collections::HashMap;

use super::decode::Entry;
use logsleuth_core::model::Nanos;
use crate::Cursor;

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    /// `end` for the next request (exclusive).
    pub end: Nanos,
    /// The timestamp of the page edge (`end - 1` unless the edge had to be skipped).
    pub boundary: Nanos,
    /// Hashes of the entries already returned at `boundary` (a multiset: repeats allowed).
    pub seen: Vec<u64>,
}

impl PageCursor {
    /// Encodes as an opaque [`Cursor`].
    pub fn encode(&self) -> Cursor {
        let seen: Vec<String> = self.seen.iter().map(|h| format!("{h:016x}")).collect();
        Cursor(format!("loki:{}:{}:{}", self.end, self.boundary, seen.join(",")))
    }

    /// Decodes a cursor made by [`PageCursor::encode`]; `None` for anything else.
    pub fn decode(cursor: &Cursor) -> Option<PageCursor> {
        let mut parts = cursor.0.strip_prefix("loki:")?.splitn(3, ':');
        let end = parts.next()?.parse().ok()?;
        let boundary = parts.next()?.parse().ok()?;
        let seen_text = parts.next()?;
        let seen = if seen_text.is_empty() {
            Vec::new()
        } else {
            seen_text.split(',').map(|h| u64::from_str_radix(h, 16).ok()).collect::<Option<Vec<_>>>()?
        };
        Some(PageCursor { end, boundary, seen })
    }
}

/// FNV-1a over (stream, timestamp, line): stable across runs, so cursors can be stored.
pub fn entry_hash(entry: &Entry) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    feed(entry.stream.as_bytes());
    feed(&[0xff]);
    feed(&entry.record.timestamp.unwrap_or_default().to_le_bytes());
    feed(&[0xff]);
    feed(entry.record.message.as_bytes());
    h
}

/// The outcome of one page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// New entries, newest first.
    pub entries: Vec<Entry>,
    /// Where the next page starts; `None` after the last page.
    pub next: Option<PageCursor>,
    /// Set when more than a page of lines shares one timestamp and some had to be skipped.
    pub warning: Option<String>,
}

/// Turns what Loki returned for a request of `limit` entries (sorted newest first) into a page:
/// drops what `previous` already returned and computes the next cursor.
pub fn paginate(raw: Vec<Entry>, previous: Option<&PageCursor>, limit: usize) -> Page {
    let full = raw.len() >= limit;
    let oldest = raw.iter().filter_map(|e| e.record.timestamp).min();
    let mut already: HashMap<u64, usize> = HashMap::new();
    if let Some(prev) = previous {
        for h in &prev.seen {
            *already.entry(*h).or_default() += 1;
        }
    }
    let mut edge_hashes = Vec::new();
    let mut entries = Vec::with_capacity(raw.len());
    for entry in raw {
        let ts = entry.record.timestamp.unwrap_or_default();
        let hash = entry_hash(&entry);
        if Some(ts) == oldest {
            edge_hashes.push(hash);
        }
        let skip = previous.is_some_and(|p| p.boundary == ts)
            && already.get_mut(&hash).is_some_and(|n| {
                let seen = *n > 0;
                *n = n.saturating_sub(1);
                seen
            });
        if !skip {
            entries.push(entry);
        }
    }
    let Some(oldest) = oldest.filter(|_| full) else {
        return Page { entries, next: None, warning: None };
    };
    let stuck = previous.is_some_and(|p| p.boundary == oldest) && entries.is_empty();
    if stuck {
        // A whole page shares one timestamp and Loki keeps returning the same ones: step past
        // it rather than loop forever.
        let next = PageCursor { end: oldest, boundary: oldest - 1, seen: Vec::new() };
        let warning = format!(
            "more than {limit} lines share the timestamp {}; some of them were skipped",
            logsleuth_core::time::format_rfc3339(oldest)
        );
        return Page { entries, next: Some(next), warning: Some(warning) };
    }
    // Lines returned at the edge by earlier pages stay "seen" even if Loki ordered the
    // equal-timestamp lines differently this time (multiset union).
    if let Some(prev) = previous.filter(|p| p.boundary == oldest) {
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for h in &edge_hashes {
            *counts.entry(*h).or_default() += 1;
        }
        for h in &prev.seen {
            match counts.get_mut(h) {
                Some(n) if *n > 0 => *n -= 1,
                _ => edge_hashes.push(*h),
            }
        }
    }
    Page { entries, next: Some(PageCursor { end: oldest.saturating_add(1), boundary: oldest, seen: edge_hashes }), warning: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::Record;

    fn entry(stream: &str, ts: Nanos, line: &str) -> Entry {
        Entry { stream: stream.into(), record: Record { timestamp: Some(ts), ..Record::plain(line) } }
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = PageCursor { end: 11, boundary: 10, seen: vec![1, u64::MAX] };
        assert_eq!(PageCursor::decode(&c.encode()), Some(c));
        assert_eq!(PageCursor::decode(&Cursor("loki:1:0:".into())).map(|c| c.seen.len()), Some(0));
        for bad in ["", "loki:", "loki:x:1:", "es:1:2:3", "loki:1:2:zz"] {
            assert_eq!(PageCursor::decode(&Cursor(bad.into())), None, "{bad}");
        }
    }

    #[test]
    fn equal_timestamps_straddling_the_edge_are_neither_lost_nor_repeated() {
        // Page 1: limit 3 → 30, 20(a), 20(b); the edge at 20 also has c, d on the server.
        let p1 = paginate(vec![entry("s", 30, "x"), entry("s", 20, "a"), entry("s", 20, "b")], None, 3);
        assert_eq!(p1.entries.len(), 3);
        let c1 = p1.next.unwrap();
        assert_eq!((c1.end, c1.boundary, c1.seen.len()), (21, 20, 2));
        // Page 2 (end=21): a, b again, then c.
        let p2 = paginate(vec![entry("s", 20, "a"), entry("s", 20, "b"), entry("s", 20, "c")], Some(&c1), 3);
        assert_eq!(p2.entries.iter().map(|e| e.record.message.as_str()).collect::<Vec<_>>(), ["c"]);
        let c2 = p2.next.unwrap();
        assert_eq!((c2.end, c2.seen.len()), (21, 3));
        // Page 3: a, b, c again: more than a page at one timestamp; step past it and say so.
        let p3 = paginate(vec![entry("s", 20, "a"), entry("s", 20, "b"), entry("s", 20, "c")], Some(&c2), 3);
        assert!(p3.entries.is_empty());
        assert!(p3.warning.is_some(), "stuck at one timestamp must skip and say so");
        assert_eq!(p3.next.as_ref().map(|c| c.end), Some(20));
        let p4 = paginate(vec![entry("s", 10, "z")], p3.next.as_ref(), 3);
        assert_eq!(p4.entries.len(), 1);
        assert!(p4.next.is_none());
    }

    #[test]
    fn same_line_in_another_stream_is_not_a_duplicate() {
        let p1 = paginate(vec![entry("a", 5, "x"), entry("a", 4, "x")], None, 2);
        let c = p1.next.unwrap();
        let p2 = paginate(vec![entry("a", 4, "x"), entry("b", 4, "x")], Some(&c), 2);
        assert_eq!(p2.entries.len(), 1);
        assert_eq!(&*p2.entries[0].stream, "b");
    }
}
