//! Live tail: starting and stopping it, pausing, and putting tailed records on top of the table.

use crate::action::Effect;
use crate::app::*;
use logsleuth_core::model::{Nanos, RecordId};
use logsleuth_sources::{HitCount, TailEvent, TailRequest};

pub(crate) fn start_tail(app: &mut App, i: usize) -> Vec<Effect> {
    let p = &mut app.panes[i];
    p.tail_generation += 1;
    let since = p.records.first().and_then(|r| r.timestamp).map(|t| t + 1);
    let after = match p.records.first().map(|r| &r.id) {
        Some(RecordId::Line { file, line }) => Some((*file, *line)),
        _ => None,
    };
    if let Some(tail) = p.tail.as_mut() {
        tail.after = after;
    }
    vec![Effect::StartTail {
        pane: p.id,
        generation: p.tail_generation,
        request: TailRequest { query: p.applied.clone(), since },
    }]
}

pub(crate) fn toggle_tail(app: &mut App, i: usize) -> Vec<Effect> {
    let p = &mut app.panes[i];
    if p.tail.take().is_some() {
        p.tail_generation += 1;
        app.message = Some("live tail stopped".into());
        return vec![Effect::StopTail { pane: app.panes[i].id }];
    }
    p.tail = Some(TailState::default());
    p.selected = 0;
    p.offset = 0;
    app.message = None;
    start_tail(app, i)
}

pub(crate) fn toggle_pause(app: &mut App) -> Vec<Effect> {
    let p = app.pane_mut();
    let Some(tail) = p.tail.as_mut() else { return vec![] };
    tail.paused = !tail.paused;
    if !tail.paused {
        let pending: Vec<_> = tail.pending.drain(..).collect();
        insert_tailed(p, pending);
    }
    vec![]
}

/// Puts tailed records (oldest first) on top of the table, keeping the selected record
/// selected unless the view follows the newest line.
pub(crate) fn insert_tailed(p: &mut Pane, records: Vec<logsleuth_core::model::Record>) {
    let n = records.len();
    if n == 0 {
        return;
    }
    // In place: building a new vector per batch meant a fresh allocation of up to the cap's
    // records and its page faults, the main cost of a fast tail (benches/tail.rs).
    // Over the cap the oldest lines go, and the status line says how many.
    let cap = p.limits.records;
    let evicted = (p.records.len() + n).saturating_sub(cap);
    p.records.truncate(cap.saturating_sub(n));
    p.records.splice(0..0, records.into_iter().rev().take(cap));
    if let Some(tail) = p.tail.as_mut() {
        tail.dropped += evicted as u64;
    }
    if p.selected > 0 {
        p.selected = (p.selected + n).min(p.records.len().saturating_sub(1));
        p.offset += n;
    }
    if p.records.len() <= FIELD_SAMPLE + n {
        // The sidebar samples the newest records; they just changed.
        p.refresh_field_stats();
    }
    p.total = match p.total {
        Some(HitCount::Exact(t)) => Some(HitCount::Exact(t + n as u64)),
        Some(HitCount::AtLeast(t)) => Some(HitCount::AtLeast(t + n as u64)),
        None => None,
    };
}

pub(crate) fn tail_event(app: &mut App, i: usize, generation: u64, event: TailEvent) -> Vec<Effect> {
    let now = app.now;
    let Some(p) = app.panes.get_mut(i) else { return vec![] };
    if generation != p.tail_generation {
        return vec![];
    }
    let Some(tail) = p.tail.as_mut() else { return vec![] };
    match event {
        TailEvent::Records(mut records) => {
            if let Some((file, last)) = tail.after {
                // Lines the table already has (a stream's tail starts from its first line).
                records.retain(|r| !matches!(r.id, RecordId::Line { file: f, line } if f == file && line <= last));
            }
            let n = records.len() as u64;
            tail.received += n;
            tail.arrivals.push_back((now, n));
            update_rate(tail, now);
            if tail.paused {
                let cap = p.limits.pending;
                for r in records {
                    if tail.pending.len() >= cap {
                        tail.pending.pop_front();
                        tail.dropped += 1;
                    }
                    tail.pending.push_back(r);
                }
            } else {
                insert_tailed(p, records);
                // The histogram of local data grows with the tail (asked again every 2 s; a
                // server is not asked that often).
                let due = now.saturating_sub(p.hist_refreshed) >= 2 * logsleuth_core::time::NS_PER_SEC;
                if n > 0 && due && !p.info.is_remote && !p.loading.histogram {
                    p.hist_refreshed = now;
                    // A live tail moves the range with it: an open end pinned when the query
                    // ran (stdin had not brought its first lines yet) is let go again.
                    let live = p.range.resolve(now);
                    if live.to.is_none() {
                        p.resolved = live;
                    }
                    let effects: Vec<Effect> = crate::features::histogram::histogram_effect(app, i).into_iter().collect();
                    // A refresh in the background: the status line does not say "charting".
                    app.panes[i].loading.histogram = false;
                    return effects;
                }
            }
        }
        TailEvent::Dropped(n) => tail.dropped += n,
        TailEvent::Status(s) => tail.status = Some(s),
        TailEvent::Failed(e) => {
            p.tail = None;
            p.error = Some(format!("live tail ended: {e}"));
        }
    }
    vec![]
}

/// Recomputes the tail rate; true when the shown value changed.
pub(crate) fn update_rate(tail: &mut TailState, now: Nanos) -> bool {
    while tail.arrivals.front().is_some_and(|(t, _)| *t <= now - RATE_WINDOW) {
        tail.arrivals.pop_front();
    }
    let sum: u64 = tail.arrivals.iter().map(|(_, n)| n).sum();
    let rate = sum as f64 / (RATE_WINDOW as f64 / 1e9);
    let changed = (rate * 10.0).round() != (tail.rate * 10.0).round();
    tail.rate = rate;
    changed
}
