//! The comparison view (`C`, issue #16 "What changed?"): a window of the focused pane against a
//! baseline, by the engine the CLI's `compare` and the report run
//! ([`logsleuth_sources::compare::compare`]): per field (the source's roles) the values whose
//! counts changed most, ranked by G score, and the patterns new or grown in the window.
//!
//! The window ([`choose_window`]): the run of spike / drop buckets under the histogram cursor,
//! else the histogram's span selection, else the pane's whole range. The baseline cycles
//! ([`Baseline`]): the same length just before, then the same time a day earlier. A value row
//! filters the pane for / against `field:"value"` as the sidebar does; a pattern row through
//! [`super::patterns::pattern_filter`]. The answer is kept on the pane
//! ([`crate::app::Pane::shown_comparison`]) for the postmortem report.

use logsleuth_core::model::{HistogramResult, Nanos};
use logsleuth_core::time::NS_PER_SEC;
use logsleuth_sources::compare::{CompareRequest, Comparison, baseline_before};
use logsleuth_sources::{Query, QueryLanguage, SourceResult};

use crate::action::{Effect, PaneId};
use crate::app::{App, Element, Mode, Pane};

/// Values kept per field, and patterns.
pub const COMPARE_SIZE: usize = 10;
/// One day, for the "yesterday, same time" baseline.
pub const DAY: Nanos = 24 * 3600 * NS_PER_SEC;

/// Which baseline the window is compared with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Baseline {
    /// The same length just before the window, at least an hour ([`baseline_before`]).
    #[default]
    JustBefore,
    /// The same span 24 hours earlier.
    Yesterday,
}

impl Baseline {
    /// The next one the key cycles to.
    pub fn next(self) -> Baseline {
        match self {
            Baseline::JustBefore => Baseline::Yesterday,
            Baseline::Yesterday => Baseline::JustBefore,
        }
    }

    /// Its range for `window`.
    pub fn range(self, window: (Nanos, Nanos)) -> (Nanos, Nanos) {
        match self {
            Baseline::JustBefore => baseline_before(window),
            Baseline::Yesterday => (window.0.saturating_sub(DAY), window.1.saturating_sub(DAY)),
        }
    }

    /// Its name in the view.
    pub fn label(self) -> &'static str {
        match self {
            Baseline::JustBefore => "just before",
            Baseline::Yesterday => "yesterday, same time",
        }
    }
}

/// Where the window came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSource {
    /// The run of flagged buckets under the histogram cursor.
    Spike,
    /// The histogram's span selection.
    Selection,
    /// The pane's whole range.
    Range,
}

impl WindowSource {
    /// Its name in the view.
    pub fn label(self) -> &'static str {
        match self {
            WindowSource::Spike => "the spike under the cursor",
            WindowSource::Selection => "the selected span",
            WindowSource::Range => "the pane's range",
        }
    }
}

/// The run of flagged buckets around `cursor`, as bucket indexes `[lo, hi]`; `None` when the
/// cursor's bucket is not flagged.
pub fn flagged_run(flags: &[bool], cursor: usize) -> Option<(usize, usize)> {
    if !flags.get(cursor).copied().unwrap_or(false) {
        return None;
    }
    let lo = flags[..cursor].iter().rposition(|f| !f).map_or(0, |i| i + 1);
    let hi = flags[cursor..].iter().position(|f| !f).map_or(flags.len(), |i| cursor + i) - 1;
    Some((lo, hi))
}

/// The window of a pane: see the module's documentation. `None` when there is no bounded
/// range to compare (no histogram yet over an open range).
pub fn choose_window(p: &Pane) -> Option<((Nanos, Nanos), WindowSource)> {
    let span_of = |h: &HistogramResult, lo: usize, hi: usize| (h.buckets[lo].start, h.buckets[hi].start.saturating_add(h.interval.max(1)));
    if let Some(h) = p.histogram.as_ref().filter(|h| !h.buckets.is_empty()) {
        let cursor = p.hist_cursor.min(h.buckets.len() - 1);
        if p.element == Element::Histogram {
            let flags: Vec<bool> = super::histogram::spike_flags(h).iter().map(|f| f.spike || f.drop).collect();
            if let Some((lo, hi)) = flagged_run(&flags, cursor) {
                return Some((span_of(h, lo, hi), WindowSource::Spike));
            }
        }
        if let Some(anchor) = p.hist_anchor {
            let anchor = anchor.min(h.buckets.len() - 1);
            return Some((span_of(h, anchor.min(cursor), anchor.max(cursor)), WindowSource::Selection));
        }
    }
    // The whole range; an open end is the histogram's (the data's) span.
    let hist = p.histogram.as_ref().filter(|h| !h.buckets.is_empty()).map(|h| span_of(h, 0, h.buckets.len() - 1));
    let from = p.resolved.from.or(hist.map(|s| s.0))?;
    let to = p.resolved.to.or(hist.map(|s| s.1))?;
    (to > from).then_some(((from, to), WindowSource::Range))
}

/// One row of the view: a field's value, or a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// `fields[field].1[value]` of the comparison.
    Value {
        /// Index of the field.
        field: usize,
        /// Index of the value in the field's changes.
        value: usize,
    },
    /// `patterns[i]` of the comparison.
    Pattern(usize),
}

/// The view's selectable rows, in the order drawn.
pub fn rows(c: &Comparison) -> Vec<Row> {
    let mut out = Vec::new();
    for (f, (_, changes)) in c.fields.iter().enumerate() {
        out.extend((0..changes.len()).map(|v| Row::Value { field: f, value: v }));
    }
    out.extend((0..c.patterns.len()).map(Row::Pattern));
    out
}

/// The comparison view's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComparisonState {
    /// The pane whose source was asked.
    pub pane: PaneId,
    /// The query both windows share.
    pub query: Query,
    /// The window.
    pub window: (Nanos, Nanos),
    /// Where the window came from.
    pub source: Option<WindowSource>,
    /// The baseline in use.
    pub baseline: Baseline,
    /// Which request the view waits for.
    pub request: u64,
    /// The answer (`Err` holds the message); `None` while comparing.
    pub result: Option<Result<Comparison, String>>,
    /// Selected row ([`rows`]).
    pub cursor: usize,
}

impl ComparisonState {
    /// Whether the view waits for its answer.
    pub fn loading(&self) -> bool {
        self.result.is_none()
    }
}

/// The comparison view's actions.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonAction {
    /// `C`: compare the focused pane's window with its baseline.
    Open,
    /// Move the selection by rows.
    Move(i32),
    /// Move by pages.
    Page(i32),
    /// The next baseline ([`Baseline::next`]), compared again.
    CycleBaseline,
    /// Filter for the selected value or pattern.
    FilterFor,
    /// Filter it out.
    FilterOut,
    /// The engine's answer.
    Done {
        /// Pane asked.
        pane: PaneId,
        /// The request it answers ([`ComparisonState::request`]).
        id: u64,
        /// The comparison, or why not.
        result: SourceResult<Comparison>,
    },
}

const PAGE_ROWS: i32 = 10;

/// The reducer of [`ComparisonAction`].
pub(crate) fn update(app: &mut App, action: ComparisonAction) -> Vec<Effect> {
    match action {
        ComparisonAction::Open => open(app),
        ComparisonAction::Move(n) => {
            move_cursor(app, n);
            vec![]
        }
        ComparisonAction::Page(n) => {
            move_cursor(app, n * PAGE_ROWS);
            vec![]
        }
        ComparisonAction::CycleBaseline => {
            if app.mode != Mode::Comparison {
                return vec![];
            }
            let baseline = app.comparison.baseline.next();
            let window = app.comparison.window;
            let (pane, query, source) = (app.comparison.pane, app.comparison.query.clone(), app.comparison.source);
            ask(app, pane, query, window, source, baseline)
        }
        ComparisonAction::FilterFor => filter(app, false),
        ComparisonAction::FilterOut => filter(app, true),
        ComparisonAction::Done { pane, id, result } => {
            if id != app.comparison.request || pane != app.comparison.pane {
                return vec![];
            }
            let result = result.map_err(|e| logsleuth_core::text::sanitize(&e.to_string()).into_owned());
            if let (Ok(c), Some(i)) = (&result, app.pane_index(pane)) {
                let p = &mut app.panes[i];
                p.shown_comparison = Some(c.clone());
                p.shown_comparison_query = Some(app.comparison.query.text.clone());
            }
            app.comparison.result = Some(result);
            app.comparison.cursor = 0;
            vec![]
        }
    }
}

fn open(app: &mut App) -> Vec<Effect> {
    let p = app.pane();
    if p.opening {
        app.message = Some("the source is still opening".into());
        return vec![];
    }
    let Some((window, source)) = choose_window(p) else {
        app.message = Some("nothing to compare yet: the histogram has not answered".into());
        return vec![];
    };
    let (pane, query) = (p.id, p.applied.clone());
    ask(app, pane, query, window, Some(source), Baseline::default())
}

fn ask(app: &mut App, pane: PaneId, query: Query, window: (Nanos, Nanos), source: Option<WindowSource>, baseline: Baseline) -> Vec<Effect> {
    let id = app.comparison.request + 1;
    let request = CompareRequest {
        query: query.clone(),
        window,
        baseline: baseline.range(window),
        extra_fields: Vec::new(),
        size: COMPARE_SIZE,
        patterns: true,
    };
    app.comparison = ComparisonState { pane, query, window, source, baseline, request: id, result: None, cursor: 0 };
    app.mode = Mode::Comparison;
    vec![Effect::Compare { pane, id, request: Box::new(request) }]
}

fn move_cursor(app: &mut App, n: i32) {
    let len = match &app.comparison.result {
        Some(Ok(c)) => rows(c).len(),
        _ => 0,
    };
    app.comparison.cursor = super::table::clamp_add(app.comparison.cursor, n, len);
}

/// The filter clause of a value row, `field:"value"` / `not field:"value"`, quoted as the
/// field sidebar quotes it.
pub fn value_clause(field: &str, value: &str, out: bool) -> String {
    let clause = format!("{}:{}", crate::complete::quote_field(field), crate::complete::quote_value(value));
    if out { format!("not {clause}") } else { clause }
}

fn filter(app: &mut App, out: bool) -> Vec<Effect> {
    let Some(Ok(c)) = &app.comparison.result else { return vec![] };
    let Some(row) = rows(c).get(app.comparison.cursor).copied() else { return vec![] };
    match row {
        Row::Value { field, value } => {
            let (name, changes) = &c.fields[field];
            let clause = value_clause(name, &changes[value].value, out);
            if app.pane().applied.language == QueryLanguage::Native {
                app.message = Some("filters are added to KQL queries: switch the query bar to KQL (Ctrl-t) first".into());
                return vec![];
            }
            super::query::add_clause(app, &clause)
        }
        Row::Pattern(i) => {
            let template = c.patterns[i].value.clone();
            super::patterns::add_pattern_filter(app, &template, out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::{HistogramBucket, TimeRange};

    #[test]
    fn the_flagged_run_around_the_cursor() {
        let f = [false, true, true, false, true, true, true];
        assert_eq!(flagged_run(&f, 0), None);
        assert_eq!(flagged_run(&f, 1), Some((1, 2)));
        assert_eq!(flagged_run(&f, 2), Some((1, 2)));
        assert_eq!(flagged_run(&f, 5), Some((4, 6)));
        assert_eq!(flagged_run(&[true], 0), Some((0, 0)));
        assert_eq!(flagged_run(&f, 99), None);
    }

    #[test]
    fn the_baseline_cycles_just_before_then_yesterday() {
        let w = (10 * DAY, 10 * DAY + 600 * NS_PER_SEC);
        let b = Baseline::default();
        assert_eq!(b, Baseline::JustBefore);
        assert_eq!(b.range(w), (10 * DAY - 3600 * NS_PER_SEC, 10 * DAY), "the same length before, at least an hour");
        assert_eq!(b.next(), Baseline::Yesterday);
        assert_eq!(b.next().range(w), (9 * DAY, 9 * DAY + 600 * NS_PER_SEC));
        assert_eq!(b.next().next(), Baseline::JustBefore);
    }

    fn pane_with(counts: &[u64]) -> Pane {
        let info = logsleuth_sources::SourceInfo {
            kind: "local",
            description: "test".into(),
            roles: Default::default(),
            default_columns: Vec::new(),
            is_remote: false,
            warning: None,
        };
        let mut p = Pane::new(info, crate::app::RangeSpec::All, "");
        let minute = 60 * NS_PER_SEC;
        p.histogram = Some(HistogramResult {
            interval: minute,
            split_by: None,
            buckets: counts.iter().enumerate().map(|(i, &c)| HistogramBucket { start: i as Nanos * minute, count: c, split: Default::default() }).collect(),
            partial: false,
            note: None,
            split_error_bound: None,
        });
        p.resolved = TimeRange { from: None, to: Some(counts.len() as Nanos * minute) };
        p
    }

    #[test]
    fn the_window_is_the_spike_else_the_selection_else_the_range() {
        let minute = 60 * NS_PER_SEC;
        let mut p = pane_with(&[10, 11, 9, 10, 200, 210, 10, 11, 9, 10]);
        // The whole range: the open start is the histogram's.
        p.element = Element::Table;
        p.hist_cursor = 4;
        assert_eq!(choose_window(&p), Some(((0, 10 * minute), WindowSource::Range)), "the cursor counts only on the histogram");
        p.element = Element::Histogram;
        assert_eq!(choose_window(&p), Some(((4 * minute, 6 * minute), WindowSource::Spike)));
        p.hist_cursor = 8;
        p.hist_anchor = Some(6);
        assert_eq!(choose_window(&p), Some(((6 * minute, 9 * minute), WindowSource::Selection)));
        p.hist_anchor = None;
        assert_eq!(choose_window(&p).map(|w| w.1), Some(WindowSource::Range));
        p.histogram = None;
        assert_eq!(choose_window(&p), None, "an open start and no histogram: nothing to compare");
    }

    #[test]
    fn a_value_clause_is_quoted_as_the_sidebar_quotes_it() {
        assert_eq!(value_clause("status", "502", false), "status:502");
        assert_eq!(value_clause("remote_addr", "203.0.113.77", true), r#"not remote_addr:"203.0.113.77""#);
        assert_eq!(value_clause("http_user_agent", r#"a "b""#, false), r#"http_user_agent:"a \"b\"""#);
    }
}
