//! The live tail, and a line's context by `GetLogEvents`.
//!
//! On AWS's own endpoints the tail is a Live Tail session (`StartLiveTail`), events pushed as
//! they are ingested. Live Tail samples when more than 500 events a second match; then lines
//! would be lost, so the tail says so and goes on by polling from where the session was, the
//! lines the session sent not sent again (they have no event ids there: they are known by
//! group, stream, time and text, each copy once). A custom `--endpoint` is asked for the
//! session itself (without the `streaming-` host prefix AWS's own hosts take). Where there is
//! no session (an account or emulator without it, a refusal) or when it ends, the tail polls
//! `FilterLogEvents`.
//!
//! CloudWatch stores an event under its own timestamp, which may be older than the newest one
//! already seen when it arrives (a shipper's batch, a slow stream). So each poll asks again
//! for the last [`LATE_MS`] before the newest event seen and skips the events already sent
//! (by group and event id): nothing is sent twice, and an event that arrives up to that late
//! is not missed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use logsleuth_core::model::{Record, RecordId};
use logsleuth_formats::ParseOptions;

use super::{Inner, client, order_key};
use crate::{SourceError, SourceResult, TailEvent, TailRequest};

/// How far back each poll looks again for events that arrived late.
pub const LATE_MS: i64 = 120_000;

/// Time between polls. CloudWatch allows a few `FilterLogEvents` a second per account.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// Events remembered as sent, at most (the late window's, normally far fewer).
const MAX_REMEMBERED: usize = 200_000;

/// Events one poll fetches, at most; the next poll goes on from the newest of them.
const MAX_PER_POLL: u64 = 50_000;

/// An event known by what it says rather than its id (Live Tail sends no ids).
type ContentKey = (usize, Arc<str>, i64, u64);

fn content_key(e: &client::Event) -> ContentKey {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    e.message.hash(&mut h);
    (e.group, e.stream.clone(), e.ts_ms, h.finish())
}

/// What has been sent: the newest timestamp, and the events of the late window.
#[derive(Debug, Default)]
pub struct Sent {
    /// Newest event timestamp sent (ms).
    pub newest: Option<i64>,
    seen: HashMap<(usize, String), i64>,
    /// Events a Live Tail session sent, by content, with how many copies: polling skips that
    /// many of each.
    by_content: HashMap<ContentKey, u32>,
}

impl Sent {
    /// Remembers an event a Live Tail session sent.
    pub fn sent_live(&mut self, e: &client::Event) {
        *self.by_content.entry(content_key(e)).or_default() += 1;
        self.newest = Some(self.newest.map_or(e.ts_ms, |n| n.max(e.ts_ms)));
    }

    /// The events of `events` not sent yet, oldest first; remembers them.
    pub fn fresh(&mut self, mut events: Vec<client::Event>) -> Vec<client::Event> {
        events.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
        events.dedup_by(|a, b| a.group == b.group && a.id == b.id);
        let mut fresh: Vec<client::Event> = Vec::new();
        for e in events {
            if self.seen.contains_key(&(e.group, e.id.clone())) {
                continue;
            }
            if let Some(n) = self.by_content.get_mut(&content_key(&e))
                && *n > 0
            {
                // Sent by the Live Tail session: remember its id, do not send it again.
                *n -= 1;
                self.seen.insert((e.group, e.id.clone()), e.ts_ms);
                continue;
            }
            fresh.push(e);
        }
        for e in &fresh {
            self.seen.insert((e.group, e.id.clone()), e.ts_ms);
            self.newest = Some(self.newest.map_or(e.ts_ms, |n| n.max(e.ts_ms)));
        }
        if let Some(newest) = self.newest {
            self.seen.retain(|_, ts| *ts >= newest - LATE_MS);
            self.by_content.retain(|k, n| *n > 0 && k.2 >= newest - LATE_MS);
        }
        if self.seen.len() > MAX_REMEMBERED {
            // A burst larger than the window holds: keep the newest.
            let mut all: Vec<_> = self.seen.drain().collect();
            all.sort_by_key(|(_, ts)| std::cmp::Reverse(*ts));
            all.truncate(MAX_REMEMBERED);
            self.seen = all.into_iter().collect();
        }
        fresh
    }

    /// The first millisecond the next poll asks for.
    pub fn poll_from(&self, since: i64) -> i64 {
        self.newest.map_or(since, |n| (n - LATE_MS).max(since))
    }
}

/// Starts the polling tail; it ends when the receiver is dropped.
pub fn start(inner: Arc<Inner>, request: TailRequest) -> mpsc::Receiver<TailEvent> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let now_ms = || logsleuth_core::time::now_nanos().div_euclid(1_000_000);
        // The first whole millisecond at or after `since` (the TUI asks from just after its newest line).
        let since = request.since.map_or_else(now_ms, |t| (t + 999_999).div_euclid(1_000_000));
        let range = logsleuth_core::model::TimeRange::between((since - 3_600_000) * 1_000_000, (now_ms() + 1) * 1_000_000);
        let plan = match inner.plan(&request.query, &range).await {
            Ok(p) => p,
            Err(e) => {
                let _ = tx.send(TailEvent::Failed(e)).await;
                return;
            }
        };
        let format = match inner.detect(&range).await {
            Ok(d) => d.format,
            Err(e) => {
                let _ = tx.send(TailEvent::Failed(e)).await;
                return;
            }
        };
        let mut sent = Sent::default();
        let why_polling = match live::run(&inner, &plan, format, since, &tx, &mut sent).await {
            live::End::Closed => return,
            live::End::Failed(e) => {
                let _ = tx.send(TailEvent::Failed(e)).await;
                return;
            }
            live::End::Poll(why) => why,
        };
        let _ = tx.send(TailEvent::Status(format!("polling CloudWatch every {} s ({why_polling})", POLL_EVERY.as_secs()))).await;
        let mut failing = false;
        let opts = ParseOptions::default();
        loop {
            if tx.is_closed() {
                return;
            }
            let from = sent.poll_from(since);
            let mut events = Vec::new();
            let before = inner.throttled.count();
            let answer = inner.scan(from, now_ms(), &plan.pattern, MAX_PER_POLL, &mut |page| events.extend(page)).await;
            if let Some(note) = inner.throttle_note(before) {
                let _ = tx.send(TailEvent::Status(note)).await;
            }
            match answer {
                Ok(_) => {
                    if failing {
                        failing = false;
                        let _ = tx.send(TailEvent::Status("polling again".into())).await;
                    }
                    let records: Vec<Record> = sent
                        .fresh(events)
                        .into_iter()
                        .filter(|e| e.ts_ms >= since)
                        .map(|e| inner.record(format, e, &opts))
                        .filter(|r| plan.memory.matches(r))
                        .collect();
                    if !records.is_empty() && tx.send(TailEvent::Records(records)).await.is_err() {
                        return;
                    }
                }
                Err(e) if is_fatal(&e) => {
                    let _ = tx.send(TailEvent::Failed(e)).await;
                    return;
                }
                Err(e) => {
                    failing = true;
                    let _ = tx.send(TailEvent::Status(format!("retrying in {} s ({e})", POLL_EVERY.as_secs()))).await;
                }
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    });
    rx
}

mod live {
    //! A Live Tail session (`StartLiveTail`), for as long as it lasts without sampling.

    use super::*;
    use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;

    /// How a session ended.
    pub enum End {
        /// The receiver is gone.
        Closed,
        /// A fatal error (credentials).
        Failed(SourceError),
        /// Go on by polling, for this reason.
        Poll(String),
    }

    /// The log groups' ARNs, which `StartLiveTail` takes instead of names.
    async fn arns(inner: &Inner) -> SourceResult<Vec<String>> {
        let client = inner.client().await?;
        let mut out = Vec::new();
        for (_, group) in inner.groups() {
            let found = client::list_groups_raw(client, group).await?;
            let arn = found.ok_or_else(|| SourceError::Server { status: 404, message: format!("no log group {group}") })?;
            out.push(arn);
        }
        Ok(out)
    }

    /// Runs a session; the events it sends are remembered in `sent`.
    pub async fn run(
        inner: &Inner,
        plan: &super::super::Plan,
        format: logsleuth_formats::LogFormat,
        since: i64,
        tx: &mpsc::Sender<TailEvent>,
        sent: &mut Sent,
    ) -> End {
        let client = match inner.client().await {
            Ok(c) => c,
            Err(e) => return End::Failed(e),
        };
        let arns = match arns(inner).await {
            Ok(a) => a,
            Err(e) if is_fatal(&e) && !matches!(e, SourceError::Server { .. }) => {
                return End::Failed(e);
            }
            Err(e) => return End::Poll(format!("no Live Tail: {e}")),
        };
        let mut request = client.start_live_tail().set_log_group_identifiers(Some(arns));
        if !plan.pattern.is_empty() {
            request = request.log_event_filter_pattern(&plan.pattern);
        }
        if let Some(prefix) = &inner.config.stream_prefix {
            request = request.log_stream_name_prefixes(prefix);
        }
        let mut output = match request.send().await {
            Ok(o) => o,
            Err(e) => {
                return End::Poll(format!("no Live Tail: {}", client::error("StartLiveTail", e)));
            }
        };
        let _ = tx.send(TailEvent::Status("CloudWatch Live Tail session".into())).await;
        let opts = ParseOptions::default();
        let group_of = |identifier: &str| {
            inner
                .groups()
                .find(|(_, g)| {
                    identifier == *g
                        || identifier.ends_with(&format!(":log-group:{g}"))
                        || identifier.ends_with(&format!(":log-group:{g}:*"))
                })
                .map_or(0, |(i, _)| i)
        };
        let mut names = client::StreamNames::default();
        loop {
            let next = tokio::select! {
                next = output.response_stream.recv() => next,
                _ = tx.closed() => return End::Closed,
            };
            match next {
                Ok(Some(StartLiveTailResponseStream::SessionUpdate(update))) => {
                    let events: Vec<client::Event> = update
                        .session_results()
                        .iter()
                        .filter_map(|e| {
                            Some(client::Event {
                                ts_ms: e.timestamp()?,
                                group: group_of(e.log_group_identifier().unwrap_or("")),
                                stream: names.get(e.log_stream_name().unwrap_or("")),
                                id: String::new(),
                                message: e.message().unwrap_or("").to_string(),
                            })
                        })
                        .filter(|e| e.ts_ms >= since)
                        .collect();
                    let records: Vec<Record> = events
                        .into_iter()
                        .map(|e| {
                            sent.sent_live(&e);
                            inner.record(format, e, &opts)
                        })
                        .filter(|r| plan.memory.matches(r))
                        .collect();
                    if !records.is_empty() && tx.send(TailEvent::Records(records)).await.is_err() {
                        return End::Closed;
                    }
                    if update.session_metadata().is_some_and(|m| m.sampled()) {
                        // Lines would be lost from here on.
                        return End::Poll(
                            "Live Tail began sampling (over 500 events a second): every line is read by polling instead".into(),
                        );
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => return End::Poll("the Live Tail session ended".into()),
                Err(e) => {
                    return End::Poll(format!("the Live Tail session failed: {}", client::error("StartLiveTail", e)));
                }
            }
        }
    }
}

fn is_fatal(e: &SourceError) -> bool {
    matches!(e, SourceError::Auth { .. } | SourceError::Query(_) | SourceError::Unsupported(_))
        || matches!(e, SourceError::Server { status: 404, .. })
}

/// The events around `record` in its own stream, oldest first, `record` included.
pub async fn context(inner: &Inner, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
    let RecordId::CloudWatch { group, stream, .. } = &record.id else {
        return Err(SourceError::Unsupported("this line did not come from CloudWatch".into()));
    };
    let Some(ts) = record.timestamp.map(|t| t.div_euclid(1_000_000)) else {
        return Err(SourceError::Unsupported("this line has no time".into()));
    };
    let group_index = inner.groups().find(|(_, g)| *g == &**group).map(|(i, _)| i).unwrap_or(0);
    let client = inner.client().await?;
    let fetch = |start: i64, end: i64, from_head: bool, limit: usize| {
        let (group, stream) = (group.to_string(), stream.to_string());
        async move {
            let out = client
                .get_log_events()
                .log_group_name(&group)
                .log_stream_name(&stream)
                .start_time(start)
                .end_time(end)
                .start_from_head(from_head)
                .limit(limit.clamp(1, 10_000) as i32)
                .send()
                .await
                .map_err(|e| client::error(&group, e))?;
            Ok::<_, SourceError>(
                out.events().iter().filter_map(|e| Some((e.timestamp()?, e.message().unwrap_or("").to_string()))).collect::<Vec<_>>(),
            )
        }
    };
    // Older: the newest events before the anchor's millisecond; newer: from it on (which
    // holds the anchor and its neighbours of the same millisecond).
    let day = 86_400_000;
    let older = fetch(ts - day, ts, false, before).await?;
    let newer = fetch(ts, ts + day, true, after + 200).await?;
    let format = inner.detect(&logsleuth_core::model::TimeRange::between((ts - 3_600_000) * 1_000_000, (ts + 1) * 1_000_000)).await?.format;
    let opts = ParseOptions::default();
    let anchor_at = newer.iter().position(|(t, m)| *t == ts && logsleuth_formats::trim_eol(m) == record.message).unwrap_or(0);
    let to_record = |(t, m): (i64, String)| {
        let e = client::Event { ts_ms: t, group: group_index, stream: stream.clone(), id: String::new(), message: m };
        let mut r = inner.record(format, e, &opts);
        // GetLogEvents gives no event ids: these lines are known by place, not id.
        r.id = RecordId::CloudWatch { group: group.clone(), stream: stream.clone(), event_id: String::new() };
        r
    };
    let mut out: Vec<Record> = Vec::new();
    // Neighbours in the anchor's millisecond that come before it.
    let same_ms_before: Vec<(i64, String)> = newer[..anchor_at].to_vec();
    let older_all: Vec<(i64, String)> = older.into_iter().chain(same_ms_before).collect();
    let skip = older_all.len().saturating_sub(before);
    out.extend(older_all.into_iter().skip(skip).map(to_record));
    out.push(record.clone());
    out.extend(newer.into_iter().skip(anchor_at + 1).take(after).map(to_record));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ts: i64, id: &str) -> client::Event {
        client::Event { ts_ms: ts, group: 0, stream: Arc::from("s"), id: id.into(), message: id.into() }
    }

    #[test]
    fn polling_after_a_live_session_skips_what_it_sent_each_copy_once() {
        let mut sent = Sent::default();
        // The session sent two identical lines of one millisecond and one other.
        let live = |ts, m: &str| client::Event { ts_ms: ts, group: 0, stream: Arc::from("s"), id: String::new(), message: m.into() };
        sent.sent_live(&live(100_000, "same"));
        sent.sent_live(&live(100_000, "same"));
        sent.sent_live(&live(100_500, "other"));
        assert_eq!(sent.poll_from(-1_000_000), 100_500 - LATE_MS);
        // Polling finds three copies (one the session sampled away), the other line, and a new one.
        let polled = vec![
            client::Event { id: "1".into(), ..live(100_000, "same") },
            client::Event { id: "2".into(), ..live(100_000, "same") },
            client::Event { id: "3".into(), ..live(100_000, "same") },
            client::Event { id: "4".into(), ..live(100_500, "other") },
            client::Event { id: "5".into(), ..live(101_000, "new") },
        ];
        let fresh = sent.fresh(polled.clone());
        assert_eq!(fresh.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec!["3", "5"]);
        // And the next poll, seeing them all again, sends nothing.
        assert!(sent.fresh(polled).is_empty());
    }

    #[test]
    fn polls_send_each_event_once_and_look_back_for_late_ones() {
        let mut sent = Sent::default();
        assert_eq!(sent.poll_from(1000), 1000);
        let first = sent.fresh(vec![event(200_000, "2"), event(100_000, "1")]);
        assert_eq!(first.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec!["1", "2"]);
        assert_eq!(sent.poll_from(1000), 200_000 - LATE_MS);
        // The next poll sees them again, plus one that arrived late with an older time.
        let second = sent.fresh(vec![event(100_000, "1"), event(150_000, "late"), event(200_000, "2"), event(200_000, "3")]);
        assert_eq!(second.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec!["late", "3"]);
        // Events older than the window are forgotten, and are not asked for again.
        sent.fresh(vec![event(400_000, "4")]);
        assert!(!sent.seen.contains_key(&(0, "1".to_string())));
        assert_eq!(sent.poll_from(0), 400_000 - LATE_MS);
    }
}
