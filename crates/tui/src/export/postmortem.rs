//! The postmortem draft: the half page that opens the report (summary, impact, timeline,
//! detection, root cause, resolution, action items), drafted from what the investigation
//! holds and from figures asked of the sources.
//!
//! Three steps, so that the TUI, `logsleuth report` and the tests share them:
//! - [`choose_window`] (pure) finds the incident's window in a [`Report`]: the first marked
//!   span, else the largest spike run of a pane's histogram
//!   ([`logsleuth_core::changes::flag_histogram`]: its totals or a split series), else a comparison's window, else the first
//!   watch that fired (its mark); the baseline is the comparisons' default
//!   ([`logsleuth_sources::compare::baseline_before`]: the same length just before, at least an
//!   hour).
//! - [`gather`] (async) asks each pane's source for the figures of both windows: requests,
//!   failed requests (the one failure rule, [`logsleuth_sources::thread::failure_condition`]),
//!   and among the failures the top path, client address and user agent, with whether that
//!   address or agent is new. Each figure keeps the `logsleuth top` command that gives it.
//! - [`render`] (pure) writes the sections. Every sentence that states a number cites its
//!   figures (`[F1]`), listed with their commands under the evidence; what only the authors
//!   know is an explicit placeholder, never invented.

use std::fmt::Write as _;
use std::sync::Arc;

use logsleuth_core::changes::flag_histogram;
use logsleuth_core::model::{FieldRoles, HistogramResult, Nanos, TimeRange};
use logsleuth_core::time::{format_duration, format_rfc3339, format_span};
use logsleuth_sources::compare::FETCH_VALUES;
use logsleuth_sources::thread::{add_condition, failure_condition};
use logsleuth_sources::watch::shell_quote;
use logsleuth_sources::{Query, Source, TopRequest};

use super::markdown;
use crate::view::thousands;
use super::report::{MarkReport, PaneReport, Report};

/// Mark notes that land under a heading of their own: `cause:`, `fix:`, `todo:`.
pub const CAUSE_TAG: &str = "cause:";
/// A mark note for the resolution.
pub const FIX_TAG: &str = "fix:";
/// A mark note for an action item.
pub const TODO_TAG: &str = "todo:";

/// What the figures' commands say for a source no command line can name (stdin, the demo).
pub const UNNAMED_SOURCE: &str = "SOURCE";

/// Values asked per top-N of the failures in the window.
const TOP_FAILURES: usize = 5;

/// Why the window is the incident's.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowBasis {
    /// A span marked by hand.
    MarkedSpan {
        /// The pane's label.
        pane: String,
        /// The mark's note.
        note: String,
    },
    /// A run of spike buckets on a pane's histogram.
    Spike {
        /// The pane's label.
        pane: String,
        /// The largest bucket of the run.
        peak: u64,
        /// The median bucket of the range.
        median: u64,
        /// The histogram's interval.
        interval: Nanos,
    },
    /// The window of a comparison shown in the investigation.
    Comparison {
        /// The pane's label.
        pane: String,
    },
    /// A watch that fired.
    Watch {
        /// The pane's label.
        pane: String,
        /// The watch's name.
        name: String,
    },
}

/// The incident's window and its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentWindow {
    /// Start.
    pub from: Nanos,
    /// End (exclusive).
    pub to: Nanos,
    /// The baseline: the same length just before.
    pub baseline: (Nanos, Nanos),
    /// Why this window.
    pub basis: WindowBasis,
}

/// A number of the draft, with the command that gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What it counts, in the draft's own words (`requests in the window`; not log text).
    pub what: String,
    /// The value it counts, from the logs (`/api/checkout`), shown as code after `what`.
    pub of: Option<String>,
    /// The number.
    pub value: u64,
    /// The `logsleuth` command whose answer holds it (its total, or the value's count).
    pub command: String,
}

/// A value that stands out among the failures of the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Standout {
    /// The value.
    pub value: String,
    /// Failures with it in the window.
    pub count: u64,
    /// Not seen at all in the baseline (among every request, not only failures).
    pub new: bool,
    /// Its figure (index into [`PaneFindings::figures`]).
    pub figure: usize,
}

/// What one pane's source says about the two windows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaneFindings {
    /// The failure condition used (`status >= 500`), when the source has a status or level.
    pub failure: Option<String>,
    /// Whether failures are requests (a status field) rather than error lines.
    pub by_status: bool,
    /// Events in the window and in the baseline (figure indices).
    pub total: Option<(usize, usize)>,
    /// Failures in the window and in the baseline (figure indices).
    pub failed: Option<(usize, usize)>,
    /// The top path, client address and user agent among the window's failures.
    pub path: Option<Standout>,
    /// See `path`.
    pub client: Option<Standout>,
    /// See `path`.
    pub agent: Option<Standout>,
    /// The figures, in the order the sentences cite them.
    pub figures: Vec<Figure>,
    /// Why figures are missing (a source that failed, a native-language query).
    pub notes: Vec<String>,
}

impl PaneFindings {
    fn value(&self, i: usize) -> u64 {
        self.figures[i].value
    }
}

/// The draft's data: the window, and per pane (index-aligned with the report's panes) its
/// findings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    /// The incident's window, when the investigation shows one.
    pub window: Option<IncidentWindow>,
    /// Per pane.
    pub panes: Vec<PaneFindings>,
    /// The figures' numbers across panes start at 1 in pane order; this is each pane's first.
    pub first_figure: Vec<usize>,
}

/// A run of spike buckets: `(from, to, peak, excess over the median)`.
fn spike_runs(h: &HistogramResult) -> (Vec<(Nanos, Nanos, u64, f64)>, u64) {
    let counts: Vec<u64> = h.buckets.iter().map(|b| b.count).collect();
    let flags = flag_histogram(h, h.partial);
    let level = logsleuth_core::changes::robust_level(&counts);
    let mut runs = Vec::new();
    let mut i = 0;
    while i < flags.len() {
        if !flags[i].spike {
            i += 1;
            continue;
        }
        let start = i;
        while i < flags.len() && flags[i].spike {
            i += 1;
        }
        let peak = counts[start..i].iter().copied().max().unwrap_or(0);
        let excess: f64 = counts[start..i].iter().map(|&c| c as f64 - level.median).sum();
        runs.push((h.buckets[start].start, h.buckets[i - 1].start.saturating_add(h.interval), peak, excess));
    }
    (runs, level.median.round() as u64)
}

/// A run of spike buckets on a pane's histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// The pane's label.
    pub pane: String,
    /// The run's first bucket's start.
    pub from: Nanos,
    /// The run's last bucket's end.
    pub to: Nanos,
    /// Its largest bucket.
    pub peak: u64,
    /// The median bucket of the range.
    pub median: u64,
    /// The histogram's interval.
    pub interval: Nanos,
    /// Events above the median, summed over the run (how the largest spike is chosen).
    pub excess: f64,
}

/// Every spike run of every pane, in pane order.
pub fn spikes(report: &Report) -> Vec<Spike> {
    let mut out = Vec::new();
    for p in &report.panes {
        let Some(h) = &p.histogram else { continue };
        let (runs, median) = spike_runs(h);
        for (from, to, peak, excess) in runs {
            out.push(Spike { pane: p.label.clone(), from, to, peak, median, interval: h.interval, excess });
        }
    }
    out
}

/// `watch: NAME firing (…)` → `NAME`.
fn watch_name<'a>(note: &'a str, state: &str) -> Option<&'a str> {
    let rest = note.strip_prefix(crate::features::watches::NOTE_PREFIX)?;
    let (name, tail) = rest.split_once(' ')?;
    tail.starts_with(state).then_some(name)
}

/// `… per 1m)` → 1 minute.
fn watch_window(note: &str) -> Option<Nanos> {
    let per = note.rsplit(" per ").next()?;
    logsleuth_core::time::parse_duration(per.trim_end_matches(')').trim()).ok()
}

/// The incident's window (see the module docs for the order of preference).
pub fn choose_window(report: &Report) -> Option<IncidentWindow> {
    let with_baseline = |from: Nanos, to: Nanos, basis: WindowBasis| {
        let to = to.max(from.saturating_add(1));
        Some(IncidentWindow { from, to, baseline: logsleuth_sources::compare::baseline_before((from, to)), basis })
    };
    let mut marks: Vec<&MarkReport> = report.marks.iter().collect();
    marks.sort_by_key(|m| (m.time, m.end));
    if let Some(m) = marks.iter().find(|m| m.end.is_some()) {
        return with_baseline(m.time, m.end.unwrap_or(m.time), WindowBasis::MarkedSpan { pane: m.pane.clone(), note: m.note.clone() });
    }
    // The largest excess; the first of equals.
    if let Some(s) = spikes(report).into_iter().reduce(|best, s| if s.excess > best.excess { s } else { best }) {
        return with_baseline(s.from, s.to, WindowBasis::Spike { pane: s.pane, peak: s.peak, median: s.median, interval: s.interval });
    }
    if let Some(p) = report.panes.iter().find(|p| p.comparison.is_some()) {
        let c = p.comparison.as_ref()?;
        return with_baseline(c.window.0, c.window.1, WindowBasis::Comparison { pane: p.label.clone() })
            .map(|w| IncidentWindow { baseline: (c.baseline.0, c.baseline.1), ..w });
    }
    let fired = marks.iter().find(|m| watch_name(&m.note, "firing").is_some())?;
    let name = watch_name(&fired.note, "firing")?.to_string();
    let span = watch_window(&fired.note).unwrap_or(60 * logsleuth_core::time::NS_PER_SEC);
    let resolved = marks.iter().find(|m| m.time > fired.time && watch_name(&m.note, "resolved") == Some(name.as_str()));
    let to = resolved.map(|m| m.time).unwrap_or(fired.time.saturating_add(span));
    with_baseline(fired.time.saturating_sub(span), to, WindowBasis::Watch { pane: fired.pane.clone(), name })
}

/// The `logsleuth top` command that reproduces a figure.
fn top_command(source_args: &str, range: (Nanos, Nanos), kql: &str, field: &str, size: usize) -> String {
    let size = if size == 10 { String::new() } else { format!(" --size {size}") };
    command("top", source_args, &format!("--from {} --to {}", format_rfc3339(range.0), format_rfc3339(range.1)), ("--kql", kql), &format!("--field {}{size}", shell_quote(field)))
}

/// `logsleuth SUB SOURCE TIME [FLAG 'QUERY'] EXTRA`, quoted for a POSIX shell: the one shape of
/// every command the report prints to reproduce what it shows.
pub fn command(sub: &str, source_args: &str, time: &str, (flag, query): (&str, &str), extra: &str) -> String {
    let query = if query.trim().is_empty() { String::new() } else { format!(" {flag} {}", shell_quote(query)) };
    let extra = if extra.is_empty() { String::new() } else { format!(" {extra}") };
    format!("logsleuth {sub} {source_args} {time}{query}{extra}")
}

/// Asks the sources for the draft's figures. `sources` is index-aligned with `report.panes`
/// (`None`: a pane whose source is gone; its figures are missing, and the draft says so).
pub async fn gather(report: &Report, sources: &[Option<Arc<dyn Source>>]) -> Draft {
    let window = choose_window(report);
    let mut draft = Draft { window: window.clone(), ..Draft::default() };
    let mut next = 1;
    for (i, pane) in report.panes.iter().enumerate() {
        draft.first_figure.push(next);
        let findings = match (&window, sources.get(i).and_then(Option::as_ref)) {
            (Some(w), Some(source)) => pane_findings(pane, source.as_ref(), w).await,
            (Some(_), None) => PaneFindings { notes: vec!["its source is closed".into()], ..Default::default() },
            (None, _) => PaneFindings::default(),
        };
        next += findings.figures.len();
        draft.panes.push(findings);
    }
    draft
}

async fn pane_findings(pane: &PaneReport, source: &dyn Source, w: &IncidentWindow) -> PaneFindings {
    let mut f = PaneFindings::default();
    if !pane.kql {
        f.notes.push(format!("its query is {}, which the draft's counts cannot add a condition to", pane.language));
        return f;
    }
    // A source no command line can name again (stdin, the demo) still gives its figures; their
    // commands say where the source goes.
    let args = pane.command_source.as_deref().unwrap_or(UNNAMED_SOURCE);
    if let Err(e) = logsleuth_sources::compare::learn_roles(source, (w.from, w.to)).await {
        f.notes.push(format!("its fields could not be listed: {e}"));
        return f;
    }
    let roles: FieldRoles = source.info().roles;
    let count_field = roles.status.clone().or(roles.level.clone()).or(roles.path.clone()).or(roles.client_ip.clone());
    let Some(count_field) = count_field else {
        f.notes.push("its source has no status, level, path or client field to count by".into());
        return f;
    };
    let q = pane.query.as_str();
    let window = (w.from, w.to);
    let baseline = w.baseline;
    let top = |kql: String, range: (Nanos, Nanos), field: String, size: usize| async move {
        let request = TopRequest { query: Query::kql(&kql), range: TimeRange::between(range.0, range.1), field: field.clone(), size };
        let result = source.top(request).await;
        (result, top_command(args, range, &kql, &field, size), kql, field)
    };
    let (tw, tb) = tokio::join!(top(q.to_string(), window, count_field.clone(), 10), top(q.to_string(), baseline, count_field.clone(), 10));
    let push = |f: &mut PaneFindings, what: String, value: u64, command: String| {
        f.figures.push(Figure { what, of: None, value, command });
        f.figures.len() - 1
    };
    let push_of = |f: &mut PaneFindings, what: String, of: &str, value: u64, command: String| {
        f.figures.push(Figure { what, of: Some(of.to_string()), value, command });
        f.figures.len() - 1
    };
    let noun = if roles.status.is_some() { "requests" } else { "lines" };
    match (tw.0, tb.0) {
        (Ok(a), Ok(b)) => {
            let x = push(&mut f, format!("{noun} in the window"), a.total, tw.1);
            let y = push(&mut f, format!("{noun} in the baseline"), b.total, tb.1);
            f.total = Some((x, y));
        }
        (Err(e), _) | (_, Err(e)) => {
            f.notes.push(format!("counting its {noun} failed: {e}"));
            return f;
        }
    }
    let Some(failure) = failure_condition(&roles) else {
        f.notes.push("its source has no status or level field, so failures are not counted".into());
        return f;
    };
    f.by_status = roles.status.is_some();
    let failed_q = add_condition(q, &failure);
    f.failure = Some(failure);
    let fail_noun = if f.by_status { "failed requests (5xx)" } else { "error lines" };
    let by_path = roles.path.clone().unwrap_or_else(|| count_field.clone());
    let (fw, fb) = tokio::join!(
        top(failed_q.clone(), window, by_path.clone(), TOP_FAILURES),
        top(failed_q.clone(), baseline, count_field.clone(), 10)
    );
    let (fw_result, fb_result) = match (fw.0, fb.0) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            f.notes.push(format!("counting its {fail_noun} failed: {e}"));
            return f;
        }
    };
    let x = push(&mut f, format!("{fail_noun} in the window"), fw_result.total, fw.1.clone());
    let y = push(&mut f, format!("{fail_noun} in the baseline"), fb_result.total, fb.1);
    f.failed = Some((x, y));
    if fw_result.total == 0 {
        return f;
    }
    if roles.path.is_some()
        && let Some(b) = fw_result.buckets.first()
    {
        let i = push_of(&mut f, format!("{fail_noun} in the window on"), &b.value, b.count, fw.1);
        f.path = Some(Standout { value: b.value.clone(), count: b.count, new: false, figure: i });
    }
    // The top client address and user agent of the failures, and whether the baseline saw
    // them at all (among every request of the baseline).
    for (role, slot) in [(roles.client_ip.clone(), 0), (roles.user_agent.clone(), 1)] {
        let Some(field) = role else { continue };
        let (sw, sb) = tokio::join!(
            top(failed_q.clone(), window, field.clone(), TOP_FAILURES),
            top(q.to_string(), baseline, field.clone(), FETCH_VALUES)
        );
        let (Ok(sw_result), Ok(sb_result)) = (sw.0, sb.0) else {
            f.notes.push(format!("the top values of {field} could not be counted"));
            continue;
        };
        let Some(b) = sw_result.buckets.first() else { continue };
        let seen = sb_result.buckets.iter().find(|x| x.value == b.value).map(|x| x.count);
        // Absent from a complete list of the baseline's values: new. (A list cut at its size,
        // with `other` events, cannot say.)
        let new = seen.is_none() && sb_result.other == 0;
        let i = push_of(&mut f, format!("{fail_noun} in the window from"), &b.value, b.count, sw.1);
        if new {
            push_of(&mut f, format!("{noun} in the baseline (absent from its values) from"), &b.value, 0, sb.1);
        }
        let standout = Some(Standout { value: b.value.clone(), count: b.count, new, figure: i });
        if slot == 0 {
            f.client = standout;
        } else {
            f.agent = standout;
        }
    }
    f
}

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        return "–".into();
    }
    let p = n as f64 * 100.0 / of as f64;
    if p > 0.0 && p < 0.1 { "<0.1%".into() } else { format!("{p:.1}%") }
}

fn t(ns: Nanos) -> String {
    format!("`{}`", format_rfc3339(ns))
}

/// The placeholder for what only the authors can write.
fn todo(what: &str) -> String {
    format!("*[To be written by the authors: {what}]*")
}

/// A note without its tag (`cause: the pool` → `the pool`), when it has the tag.
fn tagged<'a>(note: &'a str, tag: &str) -> Option<&'a str> {
    let n = note.trim();
    (n.len() >= tag.len() && n[..tag.len()].eq_ignore_ascii_case(tag)).then(|| n[tag.len()..].trim())
}

/// One line of a mark's line or span, for the timeline.
fn excerpt(m: &MarkReport) -> String {
    match (&m.line, m.count) {
        (Some(line), _) => format!(" — {}", markdown::code(&logsleuth_core::text::truncate_chars(line, 100))),
        (None, Some(n)) => format!(" — span of {} events", thousands(n)),
        _ => String::new(),
    }
}

fn basis_text(w: &IncidentWindow) -> String {
    match &w.basis {
        WindowBasis::MarkedSpan { pane, note } => {
            let note = if note.trim().is_empty() { String::new() } else { format!(" \"{}\"", markdown::text(note.trim())) };
            format!("the span marked{note} on {}", markdown::text(pane))
        }
        WindowBasis::Spike { pane, peak, median, interval } => format!(
            "the largest spike on {}'s histogram: up to {} events per {} against a median of {}",
            markdown::text(pane),
            thousands(*peak),
            format_duration(*interval),
            thousands(*median)
        ),
        WindowBasis::Comparison { pane } => format!("the window of the comparison shown on {}", markdown::text(pane)),
        WindowBasis::Watch { pane, name } => format!("watch {} firing on {}", markdown::code(name), markdown::text(pane)),
    }
}

fn cite(d: &Draft, pane: usize, figures: &[usize]) -> String {
    let first = d.first_figure.get(pane).copied().unwrap_or(1);
    let refs: Vec<String> = figures.iter().map(|i| format!("F{}", first + i)).collect();
    format!(" [{}]", refs.join(", "))
}

/// The sentences of one pane's change, or `None` when it shows no failure in the window.
fn pane_sentences(d: &Draft, i: usize, p: &PaneReport) -> Option<String> {
    let f = d.panes.get(i)?;
    let (tw, tb) = f.total?;
    let (fw, fb) = f.failed?;
    let (nw, nb, ew, eb) = (f.value(tw), f.value(tb), f.value(fw), f.value(fb));
    if ew == 0 {
        return None;
    }
    let what = if f.by_status { "5xx" } else { "error lines" };
    let of = if f.by_status { "requests" } else { "lines" };
    let mut s = format!(
        "On {} ({}), {what} went from {} ({} of {}) to {} ({} of {}) of {of}{}",
        markdown::text(&p.label),
        markdown::code(&super::report::redact_userinfo(&p.source)),
        pct(eb, nb),
        thousands(eb),
        thousands(nb),
        pct(ew, nw),
        thousands(ew),
        thousands(nw),
        cite(d, i, &[tb, fb, tw, fw])
    );
    if let Some(path) = &f.path {
        let _ = write!(s, "; {} of them on {}{}", pct(path.count, ew), markdown::code(&path.value), cite(d, i, &[path.figure]));
    }
    for (st, kind) in [(&f.client, "client address"), (&f.agent, "user agent")] {
        let Some(st) = st else { continue };
        let new = if st.new { format!("one new {kind}, ") } else { format!("the {kind} ") };
        let figs = if st.new { vec![st.figure, st.figure + 1] } else { vec![st.figure] };
        let _ = write!(s, "; {new}{}, made {} of them{}", markdown::code(&st.value), pct(st.count, ew), cite(d, i, &figs));
    }
    s.push('.');
    Some(s)
}

/// The draft's sections, in the order postmortem templates use.
pub fn render(out: &mut String, report: &Report, d: &Draft) {
    let _ = writeln!(out, "## Summary\n");
    match &d.window {
        Some(w) => {
            let _ = writeln!(
                out,
                "The incident window is {} → {} ({}), from {}. The baseline is the {} before it.\n",
                t(w.from),
                t(w.to),
                format_span(w.to - w.from),
                basis_text(w),
                format_span(w.baseline.1 - w.baseline.0)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "No incident window was found: no span was marked, no histogram shows a spike, no comparison was shown and no watch fired. {}\n",
                todo("when it happened")
            );
        }
    }
    let mut involved = Vec::new();
    for (i, p) in report.panes.iter().enumerate() {
        if let Some(s) = pane_sentences(d, i, p) {
            let _ = writeln!(out, "- {s}");
            involved.push(i);
        }
    }
    if !involved.is_empty() {
        out.push('\n');
    }
    let in_window = |from: Nanos, to: Nanos| d.window.as_ref().is_some_and(|w| from < w.to && to > w.from);
    let spikes = spikes(report);
    for (i, p) in report.panes.iter().enumerate() {
        let spiked = spikes.iter().any(|s| s.pane == p.label && in_window(s.from, s.to));
        if spiked && !involved.contains(&i) {
            involved.push(i);
        }
    }
    involved.sort_unstable();
    if d.window.is_some() {
        let names: Vec<String> = involved
            .iter()
            .map(|&i| format!("{} ({})", markdown::text(&report.panes[i].label), markdown::code(&report.panes[i].source_kind)))
            .collect();
        if names.is_empty() {
            let _ = writeln!(out, "No pane shows failures or a spike in the window.\n");
        } else {
            let _ = writeln!(out, "Involved: {}.\n", names.join(", "));
        }
    }
    let _ = writeln!(out, "{}\n", todo("what happened, in one or two sentences a reader outside the team understands"));

    let _ = writeln!(out, "## Impact\n");
    let mut any = false;
    for (i, p) in report.panes.iter().enumerate() {
        let Some(f) = d.panes.get(i) else { continue };
        if let Some((fw, _)) = f.failed
            && f.value(fw) > 0
        {
            let (tw, _) = f.total.unwrap_or((fw, fw));
            let noun = if f.by_status { "requests failed" } else { "error lines were logged" };
            let _ = writeln!(
                out,
                "- {}: {} {noun} in the window, {} of {}{}.",
                markdown::text(&p.label),
                thousands(f.value(fw)),
                pct(f.value(fw), f.value(tw)),
                thousands(f.value(tw)),
                cite(d, i, &[fw, tw])
            );
            any = true;
        }
        for note in &f.notes {
            let _ = writeln!(out, "- {}: no figures, {}.", markdown::text(&p.label), markdown::text(note));
            any = true;
        }
    }
    if any {
        out.push('\n');
    }
    let _ = writeln!(out, "{}\n", todo("who was affected, how, and for how long"));

    render_timeline(out, report, d, &spikes);
    render_detection(out, report, &spikes);
    for (heading, tag, placeholder) in [
        ("Root cause", CAUSE_TAG, "the root cause (a mark note starting `cause:` lands here)"),
        ("Resolution", FIX_TAG, "what resolved it (a mark note starting `fix:` lands here)"),
        ("Action items", TODO_TAG, "what to change so it does not happen again (mark notes starting `todo:`)"),
    ] {
        let _ = writeln!(out, "## {heading}\n");
        let mut marks: Vec<&MarkReport> = report.marks.iter().filter(|m| tagged(&m.note, tag).is_some()).collect();
        marks.sort_by_key(|m| (m.time, m.end));
        if marks.is_empty() {
            let _ = writeln!(out, "{}\n", todo(placeholder));
            continue;
        }
        for m in marks {
            let note = tagged(&m.note, tag).unwrap_or_default();
            let box_ = if tag == TODO_TAG { "[ ] " } else { "" };
            let _ = writeln!(out, "- {box_}{} ({}, {}){}", markdown::text(note), t(m.time), markdown::text(&m.pane), excerpt(m));
        }
        out.push('\n');
    }
}

fn render_timeline(out: &mut String, report: &Report, d: &Draft, spikes: &[Spike]) {
    let _ = writeln!(out, "## Timeline\n");
    // (time, order among equal times, text)
    let mut rows: Vec<(Nanos, u8, String)> = Vec::new();
    if let Some(w) = &d.window {
        rows.push((w.from, 0, format!("**Incident window starts** ({})", basis_text(w))));
        rows.push((w.to, 2, "**Incident window ends**".into()));
    }
    for m in &report.marks {
        let note = if m.note.trim().is_empty() { "*(marked, no note)*".to_string() } else { markdown::text(m.note.trim()) };
        let span = m.end.map(|e| format!(" (until {})", t(e))).unwrap_or_default();
        rows.push((m.time, 1, format!("{}: {note}{span}{}", markdown::text(&m.pane), excerpt(m))));
    }
    for p in &report.panes {
        let Some(c) = &p.comparison else { continue };
        let basis = matches!(&d.window, Some(IncidentWindow { basis: WindowBasis::Comparison { pane }, .. }) if *pane == p.label);
        if !basis {
            rows.push((c.window.0, 0, format!("{}: comparison window starts (until {})", markdown::text(&p.label), t(c.window.1))));
        }
    }
    for s in spikes {
        rows.push((
            s.from,
            1,
            format!(
                "{}: spike until {}, up to {} events per {} (median {})",
                markdown::text(&s.pane),
                t(s.to),
                thousands(s.peak),
                format_duration(s.interval),
                thousands(s.median)
            ),
        ));
    }
    for path in &report.request_paths {
        if let Some(e) = path.hops.iter().find(|h| h.first_error)
            && let Some(time) = e.time
        {
            rows.push((
                time,
                1,
                format!(
                    "{}: first error of the followed request {} — {}",
                    markdown::text(&e.source),
                    markdown::code(&path.title),
                    markdown::code(&logsleuth_core::text::truncate_chars(&e.line, 100))
                ),
            ));
        }
    }
    if rows.is_empty() {
        let _ = writeln!(out, "{}\n", todo("the timeline (nothing was marked and no spike was found)"));
        return;
    }
    rows.sort_by_key(|r| (r.0, r.1));
    for (time, _, text) in rows {
        let _ = writeln!(out, "- {} {text}", t(time));
    }
    out.push('\n');
}

fn render_detection(out: &mut String, report: &Report, spikes: &[Spike]) {
    let _ = writeln!(out, "## Detection\n");
    let mut marks: Vec<&MarkReport> = report.marks.iter().collect();
    marks.sort_by_key(|m| (m.time, m.end));
    let fired = marks.iter().find(|m| watch_name(&m.note, "firing").is_some());
    let first_spike = spikes.iter().min_by_key(|s| s.from);
    match (fired, marks.first(), first_spike) {
        (Some(m), _, _) => {
            let name = watch_name(&m.note, "firing").unwrap_or_default();
            let _ = writeln!(out, "Watch {} fired first, at {} on {}: {}.\n", markdown::code(name), t(m.time), markdown::text(&m.pane), markdown::text(m.note.trim()));
        }
        (None, Some(m), _) => {
            let _ = writeln!(
                out,
                "No watch fired. The first mark is at {} on {}{}. {}\n",
                t(m.time),
                markdown::text(&m.pane),
                if m.note.trim().is_empty() { String::new() } else { format!(": \"{}\"", markdown::text(m.note.trim())) },
                todo("how the incident was noticed")
            );
        }
        (None, None, Some(s)) => {
            let _ = writeln!(
                out,
                "No watch fired and nothing was marked; the histogram of {} shows a spike from {}. {}\n",
                markdown::text(&s.pane),
                t(s.from),
                todo("how the incident was noticed")
            );
        }
        (None, None, None) => {
            let _ = writeln!(out, "{}\n", todo("how the incident was noticed"));
        }
    }
}

/// The figures, with the commands that reproduce them, for the evidence.
pub fn render_figures(out: &mut String, report: &Report, d: &Draft) {
    if d.panes.iter().all(|f| f.figures.is_empty()) {
        return;
    }
    let _ = writeln!(out, "### Figures\n");
    let _ = writeln!(out, "Each figure is the total (or the first value's count) of the `logsleuth top` command beside it.");
    let unnamed: Vec<String> = report.panes.iter().filter(|p| p.command_source.is_none()).map(|p| markdown::text(&p.label)).collect();
    if !unnamed.is_empty() {
        let _ = writeln!(
            out,
            "The source of {} cannot be named on a command line (stdin, the demo): its commands say `{UNNAMED_SOURCE}` where it goes.",
            unnamed.join(", ")
        );
    }
    out.push('\n');
    for (i, f) in d.panes.iter().enumerate() {
        let first = d.first_figure.get(i).copied().unwrap_or(1);
        for (k, fig) in f.figures.iter().enumerate() {
            let of = fig.of.as_ref().map(|v| format!(" {}", markdown::code(v))).unwrap_or_default();
            let _ = writeln!(
                out,
                "- **F{}** ({}): {} {}{of}\n  {}",
                first + k,
                markdown::text(&report.panes[i].label),
                thousands(fig.value),
                fig.what,
                markdown::code_outside_tables(&fig.command)
            );
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::HistogramBucket;

    const MIN: Nanos = 60 * logsleuth_core::time::NS_PER_SEC;

    fn pane(label: &str, counts: &[u64]) -> PaneReport {
        PaneReport {
            label: label.into(),
            source_kind: "local".into(),
            source: "access.log".into(),
            query: String::new(),
            language: "KQL".into(),
            kql: true,
            command_source: Some("/var/log/access.log".into()),
            range: TimeRange::ALL,
            range_label: "All time".into(),
            hits: None,
            loaded: 0,
            histogram: Some(HistogramResult {
                interval: MIN,
                split_by: None,
                buckets: counts.iter().enumerate().map(|(i, &c)| HistogramBucket { start: i as Nanos * MIN, count: c, split: Default::default() }).collect(),
                partial: false,
                note: None,
                split_error_bound: None,
            }),
            charts: vec![],
            comparison: None,
            patterns: None,
        }
    }

    fn mark(time: Nanos, end: Option<Nanos>, note: &str) -> MarkReport {
        MarkReport { time, end, pane: "Pane 1".into(), source: "a".into(), note: note.into(), line: None, fields: vec![], count: None }
    }

    fn report(panes: Vec<PaneReport>, marks: Vec<MarkReport>) -> Report {
        Report { generated: 0, title: String::new(), authors: vec![], panes, marks, request_paths: vec![], draft: None }
    }

    #[test]
    fn a_marked_span_wins_then_the_largest_spike_then_a_watch() {
        let counts = [5, 6, 5, 4, 90, 95, 5, 6, 40, 5, 5, 6];
        let span = mark(2 * MIN, Some(3 * MIN), "slow");
        let w = choose_window(&report(vec![pane("Pane 1", &counts)], vec![span])).unwrap();
        let hour = logsleuth_sources::compare::MIN_BASELINE;
        assert_eq!((w.from, w.to, w.baseline), (2 * MIN, 3 * MIN, (2 * MIN - hour, 2 * MIN)));
        let w = choose_window(&report(vec![pane("Pane 1", &counts)], vec![])).unwrap();
        assert_eq!((w.from, w.to), (4 * MIN, 6 * MIN), "the run of 90 and 95, not the lone 40");
        assert!(matches!(w.basis, WindowBasis::Spike { peak: 95, median: 6, .. }), "{:?}", w.basis);
        let fired = mark(10 * MIN, None, "watch: errors firing (12 > 10 per 5m)");
        let resolved = mark(14 * MIN, None, "watch: errors resolved (2)");
        let w = choose_window(&report(vec![pane("Pane 1", &[1; 12])], vec![resolved, fired])).unwrap();
        assert_eq!((w.from, w.to), (5 * MIN, 14 * MIN));
        assert_eq!(w.basis, WindowBasis::Watch { pane: "Pane 1".into(), name: "errors".into() });
        assert_eq!(choose_window(&report(vec![pane("Pane 1", &[1; 12])], vec![])), None);
    }

    #[test]
    fn tagged_notes_land_under_their_headings_and_the_rest_is_a_placeholder() {
        let r = report(vec![], vec![mark(MIN, None, "Cause: the pool was 5"), mark(2 * MIN, None, "todo: alert on pool")]);
        let mut out = String::new();
        render(&mut out, &r, &Draft::default());
        let section = |h: &str| out.split(&format!("## {h}\n\n")).nth(1).unwrap().split("\n## ").next().unwrap().to_string();
        assert!(section("Root cause").starts_with("- the pool was 5 (`1970-01-01T00:01:00Z`, Pane 1)"), "{out}");
        assert!(section("Resolution").starts_with("*[To be written by the authors:"), "{out}");
        assert!(section("Action items").starts_with("- [ ] alert on pool"), "{out}");
        assert!(section("Summary").starts_with("No incident window was found"), "{out}");
    }

    #[test]
    fn figures_are_cited_and_listed_with_their_commands() {
        let f = PaneFindings {
            failure: Some("status >= 500".into()),
            by_status: true,
            total: Some((0, 1)),
            failed: Some((2, 3)),
            path: Some(Standout { value: "/api/checkout".into(), count: 90, new: false, figure: 4 }),
            client: Some(Standout { value: "203.0.113.77".into(), count: 61, new: true, figure: 5 }),
            agent: None,
            figures: [("requests in the window", 200), ("b", 1000), ("c", 100), ("d", 2), ("e", 90), ("f", 61), ("g", 0)]
                .iter()
                .map(|(w, v)| Figure { what: w.to_string(), of: None, value: *v, command: format!("logsleuth top x --field {w}") })
                .collect(),
            notes: vec![],
        };
        let mut r = report(vec![pane("Pane 1", &[1; 3])], vec![]);
        let d = Draft { window: None, panes: vec![f], first_figure: vec![1] };
        let s = pane_sentences(&d, 0, &r.panes[0]).unwrap();
        assert_eq!(
            s,
            "On Pane 1 (`access.log`), 5xx went from 0.2% (2 of 1,000) to 50.0% (100 of 200) of requests [F2, F4, F1, F3]; 90.0% of them on `/api/checkout` [F5]; one new client address, `203.0.113.77`, made 61.0% of them [F6, F7]."
        );
        r.draft = Some(d.clone());
        let mut out = String::new();
        render_figures(&mut out, &r, &d);
        assert!(out.contains("- **F1** (Pane 1): 200 requests in the window\n  `logsleuth top x --field requests in the window`"), "{out}");
    }

    #[test]
    fn placeholders_never_claim_numbers() {
        assert_eq!(pct(0, 0), "–");
        assert_eq!(pct(1, 10_000), "<0.1%");
        assert_eq!(tagged("FIX: rolled back", FIX_TAG), Some("rolled back"));
        assert_eq!(tagged("fixed it", FIX_TAG), None);
        assert_eq!(watch_window("watch: e firing (12 > 10 per 5m)"), Some(5 * MIN));
    }
}
