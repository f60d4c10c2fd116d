//! One-shot scans for the command line's `query` and `top` over regular files.
//!
//! The interactive explorer indexes a file once (offset, length and time of every line) and
//! then answers many queries from the index. A command-line run answers one question and
//! exits: indexing first would read and validate every line twice (once for the index, once
//! for the answer) and make the answer wait for the whole index. Here the text is read in
//! place (memory-mapped when large, as the indexer does) and scanned once, in pieces of a few
//! MiB on every core, each line read straight from its text ([`Line::see`]: no record, no
//! allocation); records are built only for the lines that are printed.
//!
//! The answers are those of [`LocalSource`](super::LocalSource) on the same files, line for
//! line: the same time order (time, then file, then line; lines without a time take the
//! previous line's), the same range filter, the same records and warnings. Only formats whose
//! lines can be scanned in place qualify (access logs); other inputs (stdin, gzip, other
//! formats) take the indexed path.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::PathBuf;

use rayon::prelude::*;

use super::index::{SAMPLE_LINES, load, open_regular};
use super::query::{FastCounts, Filter, Line, Seen, add_counts, count_seen, in_range, merge_fast, top_result};
use super::store::{Bytes, NO_TS, sample_lines, unparsed_message};
use super::{LocalOptions, display_name};
use logsleuth_formats::{self as formats, LogFormat, ParseOptions};
use logsleuth_core::model::{Nanos, Record, TimeRange, TopResult};
use crate::{FieldRoles, HitCount, Query, SearchPage, SourceError, SourceInfo, SourceResult};

/// Bytes of text one task scans at a time (cut at a newline).
const PIECE_BYTES: usize = 4 << 20;

/// Local files opened for one-shot scans (see the module documentation).
pub struct OneShot {
    files: Vec<ScanFile>,
    piece_bytes: usize,
}

struct ScanFile {
    index: u32,
    name: String,
    labels: std::sync::Arc<logsleuth_core::model::Fields>,
    format: LogFormat,
    bytes: Bytes,
    opts: ParseOptions,
}

/// A matching line to sort: (time, file index, line number) — the sort key of the index's
/// time order —, the file's position in the scan, and the line's byte span.
type KeyedHit = ((Nanos, u32, u64), usize, (usize, usize));

/// A run of whole lines of one file: `data[start..end]`, its lines numbered from `first`.
#[derive(Clone, Copy)]
struct Piece {
    file: usize,
    start: usize,
    end: usize,
    /// Index time inherited by the piece's first lines that have none of their own.
    entry_ts: Nanos,
}

/// A matching line found by a scan: its index time, number within its piece, and text span.
type Hit = (Nanos, u64, usize, usize);

/// What a piece gives a search: its line count, unparsed lines, matching lines (the newest
/// `limit` kept), and how many matched in all.
struct PieceHits {
    lines: u64,
    unparsed: u64,
    hits: Vec<Hit>,
    matched: u64,
}

impl OneShot {
    /// Opens `paths` for one-shot scans. `Ok(None)` when an input needs the indexed path:
    /// stdin, a gzip file, or a format whose lines cannot be scanned in place. Missing or
    /// unreadable files are the errors [`LocalSource::open`](super::LocalSource::open) gives.
    pub fn open(paths: &[PathBuf], options: &LocalOptions) -> Result<Option<OneShot>, SourceError> {
        if paths.is_empty() || paths.iter().any(|p| p.as_os_str() == "-") {
            return Ok(None);
        }
        let opts = ParseOptions { now: options.now.unwrap_or_else(logsleuth_core::time::now_nanos) };
        let mut files = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let (file, size, gzip) = open_regular(path)?;
            if gzip {
                return Ok(None);
            }
            let bytes = load(&file, size, path)?;
            let format = options.format.unwrap_or_else(|| {
                let sample = sample_lines(bytes.data(), SAMPLE_LINES);
                formats::detect(&sample)
            });
            if !format.scans_in_place() {
                return Ok(None);
            }
            files.push(ScanFile { index: i as u32, labels: super::store::file_labels(&display_name(path)), name: display_name(path), format, bytes, opts });
        }
        Ok(Some(OneShot { files, piece_bytes: PIECE_BYTES }))
    }

    /// Scans in pieces of about `bytes` (at least 1) instead of a few MiB: more pieces, and
    /// more boundaries between them, for tests.
    pub fn with_piece_bytes(mut self, bytes: usize) -> OneShot {
        self.piece_bytes = bytes.max(1);
        self
    }

    /// What [`Source::info`](crate::Source::info) says of the same files.
    pub fn info(&self) -> SourceInfo {
        // Each role from the first file that has it, as the indexed source does.
        let roles = self.files.iter().fold(FieldRoles::default(), |found, f| f.format.roles().overridden_by(found));
        let mut default_columns = self.files.first().map(|f| f.format.default_columns()).unwrap_or_default();
        if self.files.len() > 1 {
            default_columns.insert(0, "file".into());
        }
        SourceInfo {
            kind: "local",
            description: self.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", "),
            roles,
            default_columns,
            is_remote: false,
            warning: None,
        }
    }

    /// The newest `limit` matching lines in the range, newest first, with the exact number of
    /// matches and the files' unparsed-line warnings: what paging through
    /// [`Source::search`](crate::Source::search) gives.
    pub fn search(&self, query: &Query, range: &TimeRange, limit: usize) -> SourceResult<SearchPage> {
        let filter = Filter::compile(query)?;
        let pieces = self.pieces();
        let track = *range != TimeRange::ALL;
        let results: Vec<PieceHits> = pieces.par_iter().map(|p| self.search_piece(p, &filter, range, track, limit)).collect();
        // Line numbers: each piece's count from the file's start.
        let mut first_line = vec![0u64; pieces.len()];
        let mut unparsed = vec![0u64; self.files.len()];
        let mut next = vec![0u64; self.files.len()];
        for (k, (p, r)) in pieces.iter().zip(&results).enumerate() {
            first_line[k] = next[p.file];
            next[p.file] += r.lines;
            unparsed[p.file] += r.unparsed;
        }
        let total: u64 = results.iter().map(|r| r.matched).sum();
        let mut keyed: Vec<KeyedHit> = Vec::new();
        for (k, r) in results.into_iter().enumerate() {
            let f = pieces[k].file;
            let index = self.files[f].index;
            keyed.extend(r.hits.into_iter().map(|(ts, n, start, end)| ((ts, index, first_line[k] + n), f, (start, end))));
        }
        keyed.sort_unstable_by_key(|hit| std::cmp::Reverse(hit.0));
        keyed.truncate(limit);
        let records: Vec<Record> = keyed
            .into_par_iter()
            .map(|((ts, _, number), f, span)| {
                let file = &self.files[f];
                let at = || ts;
                file.line(span.0, span.1, number, &at).record()
            })
            .collect();
        let warnings = self.files.iter().zip(&unparsed).filter_map(|(f, &n)| unparsed_message(&f.name, n, f.format)).collect();
        Ok(SearchPage { records, total: Some(HitCount::Exact(total)), next: None, warnings })
    }

    /// Exact top values of `field` among matching lines in the range: what
    /// [`Source::top`](crate::Source::top) gives.
    pub fn top(&self, query: &Query, range: &TimeRange, field: &str, size: usize) -> SourceResult<TopResult> {
        let filter = Filter::compile(query)?;
        let pieces = self.pieces();
        let track = *range != TimeRange::ALL;
        let counts: FastCounts<'_> = pieces
            .par_iter()
            .fold(
                FastCounts::default,
                |mut acc, p| {
                    if !track && filter.is_all() && formats::has_int_field(self.files[p.file].format, field) {
                        self.count_int_piece(p, field, &filter, &mut acc);
                        return acc;
                    }
                    self.scan_piece(p, track, |seen, ts, _, _, _| {
                        if !track || in_range(ts(), range) {
                            count_seen(&mut acc, &filter, seen, field);
                        }
                    });
                    acc
                },
            )
            .reduce(FastCounts::default, merge_fast);
        let (total, counts) = add_counts(HashMap::new(), counts);
        Ok(top_result(field, total, counts, size))
    }

    /// Cuts every file into pieces at newlines and works out the time each piece's first lines
    /// inherit: the last own time of an earlier piece of the same file.
    fn pieces(&self) -> Vec<Piece> {
        let mut pieces = Vec::new();
        for (f, file) in self.files.iter().enumerate() {
            let data = file.bytes.data();
            let mut start = 0;
            while start < data.len() {
                let guess = start.saturating_add(self.piece_bytes).min(data.len());
                let end = memchr::memchr(b'\n', &data[guess..]).map_or(data.len(), |i| guess + i + 1);
                pieces.push(Piece { file: f, start, end, entry_ts: NO_TS });
                start = end;
            }
        }
        let last_own: Vec<Option<Nanos>> = pieces.par_iter().map(|p| self.files[p.file].last_own_ts(p.start, p.end)).collect();
        for k in 1..pieces.len() {
            if pieces[k].file == pieces[k - 1].file {
                pieces[k].entry_ts = last_own[k - 1].unwrap_or(pieces[k - 1].entry_ts);
            }
        }
        pieces
    }

    fn search_piece(&self, piece: &Piece, filter: &Filter, range: &TimeRange, track: bool, limit: usize) -> PieceHits {
        let mut out = PieceHits { lines: 0, unparsed: 0, hits: Vec::new(), matched: 0 };
        // Keeps the newest `limit` hits (and memory bounded when most lines match).
        let keep = limit.saturating_mul(2).max(4096);
        self.scan_piece(piece, track, |seen, ts, number, start, end| {
            out.lines += 1;
            if !seen.fits() {
                out.unparsed += 1;
            }
            if track && !in_range(ts(), range) {
                return;
            }
            if filter.matches_seen(seen) {
                out.matched += 1;
                let ts = if track { ts() } else { seen.timestamp().unwrap_or_else(ts) };
                out.hits.push((ts, number, start, end));
                if out.hits.len() >= keep && limit < out.hits.len() {
                    out.hits.select_nth_unstable_by(limit, |a, b| (b.0, b.1).cmp(&(a.0, a.1)));
                    out.hits.truncate(limit);
                }
            }
        });
        out
    }

    /// Counts an integer field (`status`) over every line of a piece, all lines matching:
    /// read from the raw bytes ([`formats::int_field_of_bytes`]), with no UTF-8 validation
    /// or line view; a line that does not fit the format is seen the general way, so the
    /// counts are those of [`Self::scan_piece`] and `count_seen`.
    fn count_int_piece<'a>(&'a self, piece: &Piece, field: &str, filter: &Filter, acc: &mut FastCounts<'a>) {
        let file = &self.files[piece.file];
        let data = file.bytes.data();
        let mut pos = piece.start;
        let mut number = 0u64;
        while pos < piece.end {
            let (mut end, next) = match memchr::memchr(b'\n', &data[pos..piece.end]) {
                Some(i) => (pos + i, pos + i + 1),
                None => (piece.end, piece.end),
            };
            if end > pos && data[end - 1] == b'\r' {
                end -= 1;
            }
            match formats::int_field_of_bytes(file.format, &data[pos..end], field) {
                Some(value) => acc.add_int(value),
                None => {
                    // No time is asked of a line when every line counts.
                    let no_time = || NO_TS;
                    count_seen(acc, filter, &file.line(pos, end, number, &no_time).see(), field);
                }
            }
            number += 1;
            pos = next;
        }
    }

    /// Calls `visit(seen, index_ts, number, start, end)` on every line of a piece, in order:
    /// the line as a query sees it, its index time (own or inherited), its number within the
    /// piece and its span in the file (without the line ending). With `track`, every line's
    /// time is worked out as it passes; without, only for the lines that ask.
    fn scan_piece<'a>(&'a self, piece: &Piece, track: bool, mut visit: impl FnMut(&Seen<'a, '_>, &dyn Fn() -> Nanos, u64, usize, usize)) {
        let file = &self.files[piece.file];
        let data = file.bytes.data();
        // One validation for the whole piece instead of one a line; a piece that is not UTF-8
        // is validated line by line (and lines that are not are read as their records).
        let text = simdutf8::basic::from_utf8(&data[piece.start..piece.end]).ok();
        let last = Cell::new(piece.entry_ts);
        let behind = RefCell::new(Behind { known_pos: piece.start, known_ts: piece.entry_ts });
        let mut pos = piece.start;
        let mut number = 0u64;
        while pos < piece.end {
            let (mut end, next) = match memchr::memchr(b'\n', &data[pos..piece.end]) {
                Some(i) => (pos + i, pos + i + 1),
                None => (piece.end, piece.end),
            };
            if end > pos && data[end - 1] == b'\r' {
                end -= 1;
            }
            let inherited = || if track { last.get() } else { behind.borrow_mut().before(file, pos) };
            let line = file.line(pos, end, number, &inherited);
            let line = Line { text: text.map(|t| &t[pos - piece.start..end - piece.start]), ..line };
            let seen = line.see();
            if track {
                // A line with no time of its own takes the last one (`record` already did).
                let ts = seen.timestamp().unwrap_or(last.get());
                last.set(ts);
                visit(&seen, &|| ts, number, pos, end);
            } else {
                let ts = || seen.timestamp().unwrap_or_else(&inherited);
                visit(&seen, &ts, number, pos, end);
            }
            number += 1;
            pos = next;
        }
    }
}

impl ScanFile {
    fn line<'a, 't>(&'a self, start: usize, end: usize, number: u64, index_ts: &'t dyn Fn() -> Nanos) -> Line<'a, 't> {
        Line {
            bytes: &self.bytes.data()[start..end],
            text: None,
            format: self.format,
            opts: &self.opts,
            file: &self.name,
            labels: &self.labels,
            file_index: self.index,
            number,
            index_ts,
        }
    }

    /// The own time of a line (`data[start..end]`, no line ending), as the indexer reads it.
    fn own_ts(&self, start: usize, end: usize) -> Option<Nanos> {
        let text = String::from_utf8_lossy(&self.bytes.data()[start..end]);
        formats::summarize(self.format, &text, &self.opts).timestamp
    }

    /// The own time of the last line of `data[from..to]` that has one.
    fn last_own_ts(&self, from: usize, to: usize) -> Option<Nanos> {
        let data = self.bytes.data();
        let mut pos = to;
        while pos > from {
            // `pos` is just after a newline, or the end of a final line without one.
            let end = if data[pos - 1] == b'\n' { pos - 1 } else { pos };
            let start = memchr::memrchr(b'\n', &data[from..end]).map_or(from, |i| from + i + 1);
            let trimmed = if end > start && data[end - 1] == b'\r' { end - 1 } else { end };
            if let Some(ts) = self.own_ts(start, trimmed) {
                return Some(ts);
            }
            pos = start;
        }
        None
    }
}

/// The time inherited by lines that have none, found by looking back only when asked (most
/// lines of a log have their own; scans without a time range never ask for the others).
struct Behind {
    /// Lines before this offset are accounted for: the last own time among them is `known_ts`.
    known_pos: usize,
    known_ts: Nanos,
}

impl Behind {
    /// The index time inherited by the line starting at `pos`: the own time of the nearest
    /// line before it that has one.
    fn before(&mut self, file: &ScanFile, pos: usize) -> Nanos {
        if pos > self.known_pos {
            self.known_ts = file.last_own_ts(self.known_pos, pos).unwrap_or(self.known_ts);
            self.known_pos = pos;
        }
        self.known_ts
    }
}
