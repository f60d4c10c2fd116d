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

/// Entries of `entries` that `previous` did not already return at its boundary (a multiset:
/// each remembered hash skips one entry).
pub fn unseen(entries: Vec<Entry>, previous: Option<&PageCursor>) -> Vec<Entry> {
    let Some(prev) = previous else { return entries };
    let mut already: HashMap<u64, usize> = HashMap::new();
    for h in &prev.seen {
        *already.entry(*h).or_default() += 1;
    }
    entries
        .into_iter()
        .filter(|e| {
            e.record.timestamp.unwrap_or_default() != prev.boundary
                || !already.get_mut(&entry_hash(e)).is_some_and(|n| {
                    let seen = *n > 0;
                    *n = n.saturating_sub(1);
                    seen
                })
        })
        .collect()
}

/// One part of the lines at one instant, for reading an instant that holds more lines than a
/// page: the lines starting with `prefix` whose next character is not in `excluded`, and,
/// when `with_end`, the line that is exactly `prefix`. The whole instant is
/// [`Part::all`]; [`Part::split`] cuts a part that overflowed a page into smaller ones that
/// together hold exactly its lines, guided by the page it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Characters every line of the part starts with.
    pub prefix: Vec<char>,
    /// Characters the next one is not.
    pub excluded: Vec<char>,
    /// Whether the line equal to the prefix belongs to the part.
    pub with_end: bool,
}

impl Part {
    /// Every line.
    pub fn all() -> Part {
        Part { prefix: Vec::new(), excluded: Vec::new(), with_end: true }
    }

    /// The LogQL line filter selecting the part (`|~` with an RE2 regex in a raw string, every
    /// character written as `\x{…}` so no text needs quoting); `None` for every line.
    pub fn filter(&self) -> Option<String> {
        let esc = |c: &char| format!("\\x{{{:x}}}", *c as u32);
        let prefix: String = self.prefix.iter().map(esc).collect();
        let next = match (self.excluded.is_empty(), self.with_end) {
            (true, true) if self.prefix.is_empty() => return None,
            (true, true) => String::new(),
            (true, false) => "[\\x{0}-\\x{10ffff}]".to_string(),
            (false, with_end) => {
                let class = format!("[^{}]", self.excluded.iter().map(esc).collect::<String>());
                if with_end { format!("(?:{class}|$)") } else { class }
            }
        };
        Some(format!("|~ `^{prefix}{next}`"))
    }

    /// Whether a line belongs to the part.
    pub fn contains(&self, line: &str) -> bool {
        let mut chars = line.chars();
        for p in &self.prefix {
            if chars.next() != Some(*p) {
                return false;
            }
        }
        match chars.next() {
            None => self.with_end,
            Some(c) => !self.excluded.contains(&c),
        }
    }

    /// Cuts the part, given a page of its lines: one part per next character seen (the prefix
    /// grows by it) and the rest (those characters excluded). `None` when the page tells
    /// nothing to cut by (every line is the prefix itself: the same line in many streams).
    pub fn split(&self, page: &[Entry]) -> Option<Vec<Part>> {
        let mut seen: Vec<char> = Vec::new();
        for e in page {
            if let Some(c) = e.record.message.chars().nth(self.prefix.len())
                && self.contains(&e.record.message)
                && !seen.contains(&c)
            {
                seen.push(c);
            }
        }
        if seen.is_empty() {
            return None;
        }
        seen.sort_unstable();
        let mut parts: Vec<Part> = seen
            .iter()
            .map(|c| {
                let mut prefix = self.prefix.clone();
                prefix.push(*c);
                Part { prefix, excluded: Vec::new(), with_end: true }
            })
            .collect();
        let mut excluded = self.excluded.clone();
        excluded.extend(seen);
        parts.push(Part { prefix: self.prefix.clone(), excluded, with_end: self.with_end });
        Some(parts)
    }
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
    fn parts_of_an_instant_cover_every_line_once() {
        let lines = ["66.1 a", "66.2 b", "6", "7x", "", "é", "66.1 a2"];
        let page: Vec<Entry> = lines.iter().map(|l| entry("s", 1, l)).collect();
        let all = Part::all();
        assert_eq!(all.filter(), None);
        let parts = all.split(&page).unwrap();
        // '6', '7', 'é' and the rest (which holds the empty line)
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0].filter().unwrap(), "|~ `^\\x{36}`");
        assert_eq!(parts[3].filter().unwrap(), "|~ `^(?:[^\\x{36}\\x{37}\\x{e9}]|$)`");
        let six = parts[0].split(&page).unwrap();
        assert_eq!(six.last().unwrap().filter().unwrap(), "|~ `^\\x{36}(?:[^\\x{36}]|$)`");
        for line in lines {
            assert_eq!(parts.iter().filter(|p| p.contains(line)).count(), 1, "{line:?}");
            let in_six = six.iter().filter(|p| p.contains(line)).count();
            assert_eq!(in_six, usize::from(line.starts_with('6')), "{line:?}");
        }
        let no_end = Part { prefix: vec!['6'], excluded: Vec::new(), with_end: false };
        assert_eq!(no_end.filter().unwrap(), "|~ `^\\x{36}[\\x{0}-\\x{10ffff}]`");
        assert!(!no_end.contains("6") && no_end.contains("66"));
        assert_eq!(Part::all().split(&[entry("a", 1, ""), entry("b", 1, "")]), None);
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
