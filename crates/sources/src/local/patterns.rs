//! Log patterns of local files: Drain over every matching line of the range (exact counts).
//! Files are cut into fixed chunks mined in parallel, one miner a chunk, merged in file and
//! chunk order, so the answer does not depend on how rayon schedules the work.

use rayon::prelude::*;

use super::query::{Filter, Seen, in_range, snap_line};
use super::store::{FileSnap, NO_TS};
use logsleuth_core::model::{Nanos, TimeRange};
use logsleuth_core::patterns::{Grid, Miner, Pattern};
use logsleuth_formats::LogFormat;

/// Lines a chunk miner takes (large enough that merging is a small part of the work).
const CHUNK: usize = 64 * 1024;

/// The text a line's template is mined from: the message of structured formats (their raw line
/// is mostly keys), the whole line otherwise.
fn structured(format: LogFormat) -> bool {
    matches!(format, LogFormat::Json | LogFormat::Logfmt)
}

/// A line's text: validated with SIMD (std's lossy decoding walked every line byte by byte, a
/// visible share of mining), replacing invalid bytes only in the rare line that has them.
fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

fn mine_chunk(snap: &FileSnap, filter: &Filter, range: &TimeRange, lines: std::ops::Range<usize>, grid: Grid) -> Miner {
    let mut miner = Miner::new(grid);
    let structured = structured(snap.store.format());
    for line in lines {
        let index_ts = snap.ts(line);
        if !in_range(index_ts, range) {
            continue;
        }
        let inherited = || index_ts;
        let index_time = (index_ts != NO_TS).then_some(index_ts);
        let l = snap_line(snap, line, &inherited);
        if filter.is_all() && !structured {
            // The fast path: no scan, no parse; the index has the time.
            miner.add(&text_of(l.bytes), index_time);
            continue;
        }
        let seen = l.see();
        if !filter.matches_seen(&seen) {
            continue;
        }
        let time = seen.timestamp().or(index_time);
        match (&seen, structured) {
            (Seen::Record(r, _), _) => miner.add(&r.message, time),
            (_, true) => miner.add(&l.record().message, time),
            (_, false) => miner.add(&text_of(l.bytes), time),
        }
    }
    miner
}

/// The patterns of every matching line in `range` over `snaps`, and how many lines they cover.
pub(super) fn mine(snaps: &[FileSnap], filter: &Filter, range: &TimeRange, grid: Grid) -> (u64, Vec<Pattern>) {
    let mut chunks: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    for (i, snap) in snaps.iter().enumerate() {
        let mut a = 0;
        while a < snap.len {
            let b = (a + CHUNK).min(snap.len);
            chunks.push((i, a..b));
            a = b;
        }
    }
    let miners: Vec<Miner> =
        chunks.into_par_iter().map(|(i, lines)| mine_chunk(&snaps[i], filter, range, lines, grid)).collect();
    let mut all = Miner::new(grid);
    for m in miners {
        all.merge(m);
    }
    (all.lines(), all.finish())
}

/// The time grid over a range that may be open (then the files' span).
pub(super) fn grid(range: &TimeRange, span: Option<TimeRange>, target: usize) -> Option<(Nanos, Nanos, Grid)> {
    let from = range.from.or(span.and_then(|s| s.from))?;
    let to = range.to.or(span.and_then(|s| s.to))?;
    let to = to.max(from.saturating_add(1));
    Some((from, to, crate::patterns::grid_of(from, to, target)))
}
