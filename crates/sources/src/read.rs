//! Reading many records of a long range (the CLI's `query` and `thread`, exports): page after
//! page, or with the range cut into time slices read at the same time.
//!
//! Each slice is paged exactly as a single read is, and slices are half-open (`[from, to)`,
//! as every source's range is), so a record on a slice's edge belongs to one slice only: the
//! records of the slices put end to end, newest slice first, are those of one read, in the same
//! order. Reading slices at once hides the round trips of page after page (a server answers
//! several slices in the time it answers one); `logcli --parallel-duration` does the same.

use std::sync::atomic::{AtomicUsize, Ordering};

use logsleuth_core::model::{Nanos, Record, TimeRange};

use crate::{Query, SearchRequest, Source, SourceResult};

/// Slices read at once unless asked otherwise (`--parallel N`).
pub const DEFAULT_SLICES: usize = 4;

/// How a long read goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadPlan {
    /// Records asked for, at most.
    pub limit: usize,
    /// Records per page.
    pub page: usize,
    /// Time slices read at once (1: one read, page after page).
    pub slices: usize,
}

/// The slices of `range`, newest first, or `None` when it should be read whole: one slice
/// asked, an open end, or a range too short to cut.
pub fn slices(range: TimeRange, n: usize) -> Option<Vec<TimeRange>> {
    let (from, to) = (range.from?, range.to?);
    let n = n as i128;
    if n < 2 || i128::from(to) - i128::from(from) < n {
        return None;
    }
    // Edges in i128: a range of all representable times does not overflow.
    let edge = |k: i128| (i128::from(from) + (i128::from(to) - i128::from(from)) * k / n) as Nanos;
    Some((0..n).rev().map(|k| TimeRange::between(edge(k), edge(k + 1))).collect())
}

/// Up to `plan.limit` records matching `query` in `range`, newest first. With more than one
/// slice (and a range with both ends), the slices are read at the same time, each page after
/// page; a slice stops once the newer slices already hold the limit. Each page's warnings go
/// to `warn`, once each.
pub async fn read_newest(
    source: &dyn Source,
    query: &Query,
    range: TimeRange,
    plan: ReadPlan,
    warn: &mut (dyn FnMut(&str) + Send),
) -> SourceResult<Vec<Record>> {
    let ranges = match slices(range, plan.slices) {
        // A limit one page holds is one request however the range is cut.
        Some(s) if plan.limit > plan.page => s,
        _ => vec![range],
    };
    let held: Vec<AtomicUsize> = ranges.iter().map(|_| AtomicUsize::new(0)).collect();
    let reads = ranges.iter().enumerate().map(|(i, r)| read_slice(source, query, *r, plan, i, &held));
    let results = futures_util::future::try_join_all(reads).await?;
    let mut seen_warnings: Vec<String> = Vec::new();
    let mut records = Vec::new();
    for (slice, warnings) in results {
        for w in warnings {
            if !seen_warnings.contains(&w) {
                warn(&w);
                seen_warnings.push(w);
            }
        }
        records.extend(slice);
    }
    // A page may hold more than asked (every line of a crowded instant on Loki).
    records.truncate(plan.limit);
    Ok(records)
}

/// One slice, page after page, until the limit, its end, or the newer slices (`held[..index]`)
/// holding the limit between them.
async fn read_slice(
    source: &dyn Source,
    query: &Query,
    range: TimeRange,
    plan: ReadPlan,
    index: usize,
    held: &[AtomicUsize],
) -> SourceResult<(Vec<Record>, Vec<String>)> {
    let newer = || held[..index].iter().map(|h| h.load(Ordering::Acquire)).sum::<usize>();
    let mut records: Vec<Record> = Vec::new();
    let mut warnings = Vec::new();
    let mut cursor = None;
    while records.len() < plan.limit && newer() < plan.limit {
        let page_limit = (plan.limit - records.len()).min(plan.page);
        let page = source.read_page(SearchRequest { query: query.clone(), range, limit: page_limit, cursor }).await?;
        warnings.extend(page.warnings);
        records.extend(page.records);
        held[index].store(records.len(), Ordering::Release);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok((records, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cursor, FieldInfo, HistogramRequest, SearchPage, SourceInfo, TailEvent, TailRequest, TopRequest};
    use async_trait::async_trait;
    use logsleuth_core::model::{HistogramResult, TopResult};
    use std::sync::Mutex;

    #[test]
    fn slices_cover_the_range_newest_first_without_overlap() {
        let s = slices(TimeRange::between(0, 10), 4).unwrap();
        assert_eq!(s, vec![TimeRange::between(7, 10), TimeRange::between(5, 7), TimeRange::between(2, 5), TimeRange::between(0, 2)]);
        assert_eq!(slices(TimeRange::between(0, 3), 4), None, "shorter than the slices");
        assert_eq!(slices(TimeRange { from: Some(0), to: None }, 4), None);
        assert_eq!(slices(TimeRange::between(0, 10), 1), None);
        let wide = slices(TimeRange::between(Nanos::MIN, Nanos::MAX), 3).unwrap();
        assert_eq!((wide[2].from, wide[0].to), (Some(Nanos::MIN), Some(Nanos::MAX)));
        assert!(wide.windows(2).all(|w| w[0].from == w[1].to));
    }

    /// Records at the given times, newest first, paged by position; counts the searches.
    struct Times(Vec<Nanos>, Mutex<usize>);

    #[async_trait]
    impl Source for Times {
        fn info(&self) -> SourceInfo {
            SourceInfo {
                kind: "local",
                description: "times".into(),
                roles: Default::default(),
                default_columns: Vec::new(),
                is_remote: false,
                warning: None,
            }
        }
        async fn search(&self, r: SearchRequest) -> SourceResult<SearchPage> {
            *self.1.lock().unwrap() += 1;
            let mut inside: Vec<Nanos> = self.0.iter().copied().filter(|t| r.range.from.is_none_or(|f| *t >= f) && r.range.to.is_none_or(|to| *t < to)).collect();
            inside.sort_by(|a, b| b.cmp(a));
            let skip: usize = r.cursor.as_ref().map_or(0, |c| c.0.parse().unwrap());
            let page: Vec<Record> = inside
                .iter()
                .skip(skip)
                .take(r.limit)
                .map(|t| {
                    let mut rec = Record::plain(t.to_string());
                    rec.timestamp = Some(*t);
                    rec
                })
                .collect();
            let next = (skip + page.len() < inside.len()).then(|| Cursor((skip + page.len()).to_string()));
            Ok(SearchPage { records: page, total: None, next, warnings: vec!["same warning".into()] })
        }
        async fn top(&self, _: TopRequest) -> SourceResult<TopResult> {
            unreachable!()
        }
        async fn histogram(&self, _: HistogramRequest) -> SourceResult<HistogramResult> {
            unreachable!()
        }
        async fn fields(&self, _: TimeRange) -> SourceResult<Vec<FieldInfo>> {
            Ok(Vec::new())
        }
        async fn field_values(&self, _: String, _: TimeRange, _: usize) -> SourceResult<Vec<String>> {
            Ok(Vec::new())
        }
        fn tail(&self, _: TailRequest) -> SourceResult<tokio::sync::mpsc::Receiver<TailEvent>> {
            unreachable!()
        }
    }

    fn read(times: &[Nanos], range: TimeRange, limit: usize, slices: usize) -> (Vec<Nanos>, usize, Vec<String>) {
        let source = Times(times.to_vec(), Mutex::new(0));
        let mut warnings = Vec::new();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let records = rt
            .block_on(read_newest(&source, &Query::kql(""), range, ReadPlan { limit, page: 3, slices }, &mut |w: &str| {
                warnings.push(w.to_string())
            }))
            .unwrap();
        let searches = *source.1.lock().unwrap();
        (records.iter().map(|r| r.timestamp.unwrap()).collect(), searches, warnings)
    }

    #[test]
    fn slices_give_the_records_of_one_read_with_ties_on_their_edges() {
        // Many records on the edges of four slices of [0, 100): 25, 50 and 75.
        let mut times: Vec<Nanos> = (0..100).collect();
        times.extend([25, 25, 25, 50, 50, 75, 99, 0, 0]);
        let range = TimeRange::between(0, 100);
        for limit in [1, 4, 7, 30, 60, 108, 500] {
            let (one, _, _) = read(&times, range, limit, 1);
            let (four, _, warnings) = read(&times, range, limit, 4);
            assert_eq!(four, one, "limit {limit}");
            assert_eq!(warnings, vec!["same warning".to_string()], "each warning once");
        }
        assert_eq!(read(&times, range, 500, 4).0.len(), 109);
    }

    #[test]
    fn older_slices_stop_once_the_newer_ones_hold_the_limit() {
        let times: Vec<Nanos> = (0..100).collect();
        // Ten records: the newest slice [75, 100) holds them; the others read at most their
        // first page (all start at once) and stop.
        let (got, searches, _) = read(&times, TimeRange::between(0, 100), 10, 4);
        assert_eq!(got, (90..100).rev().collect::<Vec<_>>());
        assert!(searches <= 4 + 3, "{searches} searches");
    }
}
