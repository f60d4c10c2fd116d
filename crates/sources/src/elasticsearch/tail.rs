//! The live tail by polling: every interval, the documents at or after the last timestamp
//! seen, oldest first, skipping the ones already sent at that timestamp, so nothing is sent
//! twice and nothing is missed when documents share a timestamp.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::response::identity;
use super::{Inner, body};
use logsleuth_core::model::{Nanos, Record, TimeRange};
use crate::{SourceError, TailEvent, TailRequest};

/// Identities remembered at the newest timestamp (bounded: a burst of more documents with one
/// millisecond than this may repeat a few).
const MAX_SEEN: usize = 10_000;

/// Window over which the rate is shown.
const RATE_WINDOW: Duration = Duration::from_secs(30);

/// The newest millisecond sent and the documents sent within it.
#[derive(Debug, Default)]
pub(super) struct TailState {
    /// Millisecond boundary (ns, floored to ms): the next poll asks for `>= this`.
    pub boundary: Nanos,
    /// Identities already sent with a timestamp in the boundary millisecond.
    pub seen: Vec<String>,
}

impl TailState {
    /// Keeps the records not sent yet and moves the boundary past them.
    pub fn accept(&mut self, records: Vec<Record>) -> Vec<Record> {
        let mut fresh = Vec::new();
        for r in records {
            let ms = r.timestamp.map(|t| t.div_euclid(1_000_000) * 1_000_000);
            let id = identity(&r);
            if ms == Some(self.boundary) && self.seen.contains(&id) {
                continue;
            }
            if let Some(ms) = ms {
                if ms > self.boundary {
                    self.boundary = ms;
                    self.seen.clear();
                }
                if ms == self.boundary && self.seen.len() < MAX_SEEN {
                    self.seen.push(id);
                }
            }
            fresh.push(r);
        }
        fresh
    }
}

fn is_fatal(e: &SourceError) -> bool {
    match e {
        SourceError::Auth { .. } | SourceError::Query(_) | SourceError::Unsupported(_) => true,
        SourceError::Server { status, .. } => *status == 404 || *status == 400,
        _ => false,
    }
}

/// How far back "from now" looks for the newest document, and how far ahead of this machine's
/// clock a server's timestamps may be.
const START_LOOKBACK: Nanos = 3600 * logsleuth_core::time::NS_PER_SEC;
const CLOCK_SKEW: Nanos = 300 * logsleuth_core::time::NS_PER_SEC;

/// Where a tail "from now" starts: at the newest matching document (so a server whose clock or
/// ingestion lags this machine loses nothing), those already there counted as sent.
async fn latest(inner: &Inner, schema: &super::fields::Schema, q: Option<&serde_json::Value>) -> Result<TailState, SourceError> {
    let now = logsleuth_core::time::now_nanos();
    let range = TimeRange { from: Some(now - START_LOOKBACK), to: Some(now + CLOCK_SKEW) };
    let search = body::SearchBody {
        query: body::filtered_query(q, &schema.time_field, range),
        time_field: schema.time_field.clone(),
        size: 100,
        order: body::Order::Desc,
        shard_doc_tiebreaker: false,
        search_after: None,
        pit: None,
        track_total_hits: false,
    };
    let mut records = inner.search_records(false, &search.to_json(), &schema.time_field).await?.0.records;
    let mut state = TailState { boundary: now.div_euclid(1_000_000) * 1_000_000, seen: Vec::new() };
    let Some(newest) = records.iter().filter_map(|r| r.timestamp).max() else { return Ok(state) };
    state.boundary = newest.div_euclid(1_000_000) * 1_000_000;
    records.reverse();
    state.accept(records);
    Ok(state)
}

pub(super) async fn run(inner: Arc<Inner>, request: TailRequest, tx: mpsc::Sender<TailEvent>) {
    let fail = |e: SourceError| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(TailEvent::Failed(e)).await;
        }
    };
    let schema = match inner.schema().await {
        Ok(s) => s.clone(),
        Err(e) => return fail(e).await,
    };
    let q = match super::query::to_dsl(&request.query, &schema, inner.time_zone()) {
        Ok(q) => q,
        Err(e) => return fail(e).await,
    };
    let interval = inner.config.tail_interval;
    let batch = inner.config.tail_batch.max(1);
    let mut state = match request.since {
        Some(since) => TailState { boundary: since.div_euclid(1_000_000) * 1_000_000, seen: Vec::new() },
        None => match latest(&inner, &schema, q.as_ref()).await {
            Ok(state) => state,
            Err(e) if is_fatal(&e) => return fail(e).await,
            Err(_) => TailState { boundary: logsleuth_core::time::now_nanos().div_euclid(1_000_000) * 1_000_000, seen: Vec::new() },
        },
    };
    let mut window: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut last_status = String::new();
    let status = format!("polling {} every {}", inner.config.index, logsleuth_core::time::format_duration(interval.as_nanos() as Nanos));
    if tx.send(TailEvent::Status(status)).await.is_err() {
        return;
    }
    loop {
        let query = body::filtered_query(q.as_ref(), &schema.time_field, TimeRange { from: Some(state.boundary), to: None });
        let size = batch + state.seen.len();
        let search = body::SearchBody {
            query,
            time_field: schema.time_field.clone(),
            size,
            order: body::Order::Asc,
            shard_doc_tiebreaker: false,
            search_after: None,
            pit: None,
            track_total_hits: false,
        };
        let mut backlog = false;
        match inner.search_records(false, &search.to_json(), &schema.time_field).await {
            Ok((answer, _)) => {
                let records = answer.records;
                backlog = records.len() >= size;
                let fresh = state.accept(records);
                let now = Instant::now();
                window.push_back((now, fresh.len()));
                while window.front().is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW) {
                    window.pop_front();
                }
                if !fresh.is_empty() && tx.send(TailEvent::Records(fresh)).await.is_err() {
                    return;
                }
                let span = window.front().map_or(Duration::ZERO, |(t, _)| now.duration_since(*t)).max(interval);
                let count: usize = window.iter().map(|(_, n)| n).sum();
                let text = format!("live: {:.1} docs/s", count as f64 / span.as_secs_f64());
                if text != last_status {
                    last_status = text.clone();
                    if tx.send(TailEvent::Status(text)).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) if is_fatal(&e.error) => return fail(e.error).await,
            Err(e) => {
                let text = format!("poll failed ({}); retrying in {}s", e.error, interval.as_secs_f64());
                if tx.send(TailEvent::Status(text)).await.is_err() {
                    return;
                }
            }
        }
        if backlog {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = tx.closed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::RecordId;

    fn rec(ms: i64, id: &str) -> Record {
        Record {
            timestamp: Some(ms * 1_000_000),
            id: RecordId::Es { index: "i".into(), id: Some(id.into()), sort: format!("[{ms}]") },
            ..Record::default()
        }
    }

    #[test]
    fn equal_timestamps_are_neither_repeated_nor_missed() {
        let mut s = TailState { boundary: 0, seen: Vec::new() };
        assert_eq!(s.accept(vec![rec(5, "a"), rec(7, "b")]).len(), 2);
        assert_eq!(s.boundary, 7_000_000);
        // the next poll (>= 7ms) sees b again plus c, written later with the same ms
        let fresh = s.accept(vec![rec(7, "b"), rec(7, "c"), rec(9, "d")]);
        assert_eq!(fresh.iter().map(identity).collect::<Vec<_>>(), vec!["i\u{0}c", "i\u{0}d"]);
        assert_eq!(s.accept(vec![rec(9, "d")]).len(), 0);
    }
}
