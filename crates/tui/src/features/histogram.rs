//! The events-over-time histogram: its request, and zooming into and out of spans.

use crate::action::Effect;
use crate::app::*;
use crate::update::*;
use logsleuth_core::model::TimeRange;
use logsleuth_sources::HistogramRequest;

pub(crate) fn histogram_effect(app: &mut App, i: usize) -> Option<Effect> {
    // The pane's own plot width (panes of other tabs get theirs when shown).
    let id = app.panes[i].id;
    let width = crate::panes::plot_widths(app).into_iter().find(|(p, _)| *p == id).and_then(|(_, w)| w)?;
    let (query, range) = current_query(app, i);
    let p = &mut app.panes[i];
    p.loading.histogram = true;
    Some(Effect::Histogram {
        pane: p.id,
        generation: p.generation,
        request: HistogramRequest {
            query,
            range,
            interval: None,
            target_buckets: (width as usize).max(10),
            split: p.split.clone(),
        },
    })
}

pub(crate) fn zoom_in(app: &mut App, i: usize) -> Vec<Effect> {
    let p = &mut app.panes[i];
    let Some(h) = p.histogram.as_ref() else { return vec![] };
    if h.buckets.is_empty() {
        return vec![];
    }
    let a = p.hist_anchor.unwrap_or(p.hist_cursor).min(h.buckets.len() - 1);
    let b = p.hist_cursor.min(h.buckets.len() - 1);
    let (lo, hi) = (a.min(b), a.max(b));
    let from = h.buckets[lo].start;
    let to = h.buckets[hi].start.saturating_add(h.interval.max(1));
    zoom_to(app, i, TimeRange::between(from, to))
}

/// Narrows the pane's range to `range`, remembering the current one for [`Action::ZoomOut`].
pub(crate) fn zoom_to(app: &mut App, i: usize, range: TimeRange) -> Vec<Effect> {
    let p = &mut app.panes[i];
    let old = p.range;
    p.zoom_stack.push(old);
    p.range = RangeSpec::Absolute(range);
    p.hist_cursor = 0;
    app.message = Some(format!("zoomed to {} (u: back out)", format_range(&range)));
    let mut effects = run_query(app, i, false);
    effects.extend(crate::panes::propagate_range(app, i));
    effects
}

pub(crate) fn zoom_out(app: &mut App, i: usize) -> Vec<Effect> {
    let p = &mut app.panes[i];
    let Some(previous) = p.zoom_stack.pop() else {
        app.message = Some("not zoomed in".into());
        return vec![];
    };
    p.range = previous;
    app.message = None;
    let mut effects = run_query(app, i, false);
    effects.extend(crate::panes::propagate_range(app, i));
    effects
}

/// The spike / drop flags of the pane's histogram, by the one rule over its totals and its
/// split series ([`logsleuth_core::changes::flag_histogram`]; the last bucket may be partial).
pub fn spike_flags(h: &logsleuth_core::model::HistogramResult) -> Vec<logsleuth_core::changes::BucketFlag> {
    logsleuth_core::changes::flag_histogram(h, true)
}

/// `]` / `[`: the histogram cursor to the next / previous spike or drop bucket; the histogram
/// takes the focus so the cursor shows (and `v`, `z`, `m` work on it).
pub(crate) fn jump_spike(app: &mut App, forward: bool) -> Vec<Effect> {
    let p = app.pane_mut();
    let Some(h) = p.histogram.as_ref() else {
        app.message = Some("no histogram yet".into());
        return vec![];
    };
    let flags: Vec<bool> = spike_flags(h).iter().map(|f| f.spike || f.drop).collect();
    let from = (p.element == Element::Histogram).then_some(p.hist_cursor);
    match logsleuth_core::changes::next_flagged(&flags, from, forward) {
        Some(i) => {
            let b = &h.buckets[i];
            let kind = if spike_flags(h)[i].spike { "spike" } else { "drop" };
            let text = format!("{kind} at {}: {} events", format_time(b.start), b.count);
            p.hist_cursor = i;
            p.element = Element::Histogram;
            app.message = Some(text);
        }
        None => {
            let any = flags.iter().any(|f| *f);
            app.message = Some(if any { "no more spikes this way" } else { "no spikes or drops in this range" }.into());
        }
    }
    vec![]
}
