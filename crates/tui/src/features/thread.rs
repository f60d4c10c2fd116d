//! "Follow in all panes" and the thread view: a value taken from a line (an order id, a trace
//! id, a client address) becomes a condition in every pane of the tab (or of all tabs), shown
//! in each query bar and removed again with one key; the panes' matching lines merged on one
//! clock are the thread. The condition per pane is `logsleuth_sources::thread::condition`
//! (the same rule as `logsleuth thread`): the pane's field of the same meaning, else a phrase.

use logsleuth_core::model::{Nanos, TimeRange};
use logsleuth_sources::thread::{FieldAliases, Follow, Strand, ThreadLine, add_condition, condition, merge, remove_condition, request_field};
use logsleuth_sources::{Query, QueryLanguage};

use crate::action::Effect;
use crate::action::PaneId;
use crate::app::{App, Mode, RangeSpec};
use crate::update::run_query;

/// How far the widen key reaches each side of the line the follow started from, by default.
pub const WIDEN_MINUTES: i64 = 5;

/// Most lines the thread view merges (the panes' loaded lines are bounded already).
const MAX_THREAD_LINES: usize = 5_000;

/// Most lines a followed pane loads on its own for the thread: its first page is the table's,
/// further pages come without scrolling so that the thread holds the request's lines, not
/// the first screenful of them.
pub const THREAD_PANE_LINES: usize = 2_000;

/// The follow in effect and the thread view's state.
#[derive(Debug, Clone, Default)]
pub struct ThreadState {
    /// Field aliases (the binary fills them from the config's `[thread.aliases]`).
    pub aliases: FieldAliases,
    /// The follow in effect.
    pub active: Option<Followed>,
    /// Selected line of the thread view.
    pub cursor: usize,
    /// Minutes each side the widen key sets (0: [`WIDEN_MINUTES`]).
    pub widen_minutes: i64,
    /// Threads marked for the report, in the order marked.
    pub marked: Vec<MarkedThread>,
    /// How many times the widen key was pressed since the follow began (each press reaches
    /// further: [`widen_reach`]).
    pub widened: usize,
}

/// Minutes each side for the `n`-th press of the widen key (0-based): the base (the config's
/// `[thread] widen_minutes`, else [`WIDEN_MINUTES`]), then three and twelve times it, so a
/// request whose hops are further apart than expected is found in two more presses.
pub fn widen_reach(base: i64, press: usize) -> i64 {
    let base = if base > 0 { base } else { WIDEN_MINUTES };
    base * [1, 3, 12][press.min(2)]
}

/// A value followed in some panes.
#[derive(Debug, Clone, PartialEq)]
pub struct Followed {
    /// The value and the field it came from.
    pub follow: Follow,
    /// Each pane that got a condition, with the condition's KQL text.
    pub panes: Vec<(PaneId, String)>,
    /// The time of the line it started from (the widen key's centre).
    pub anchor: Option<Nanos>,
}

/// A thread kept for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkedThread {
    /// What was followed (`order_id = ord-1`, or the value alone).
    pub title: String,
    /// Its lines, oldest first.
    pub lines: Vec<ThreadLine>,
}

/// The field names a pane knows: the source's field list and the loaded lines' fields.
fn known_fields(app: &App, i: usize) -> Vec<String> {
    let p = &app.panes[i];
    let mut names: Vec<String> = p.fields.iter().map(|f| f.name.clone()).collect();
    for r in p.records.iter().take(200) {
        for n in r.field_names() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names
}

/// `F` (tab) / `A` (all tabs) on a field of the detail view (or the sidebar, the charts):
/// every pane gets the condition for the value, keeping the rest of its query. Following
/// again replaces the previous follow.
pub(crate) fn follow(app: &mut App, all_tabs: bool) -> Vec<Effect> {
    let chosen = super::query::current_field(app).zip(super::query::current_value(app));
    let (field, value, anchor) = match chosen {
        Some((field, value)) => {
            let anchor = app.detail.as_ref().and_then(|d| app.pane().records.get(d.index)).and_then(|r| r.timestamp);
            (field, value, anchor)
        }
        // On a bare table row: the row's request identity (a declared or known id field, else
        // its client address), since no field was pointed at.
        None if app.mode == Mode::Normal => {
            let Some(record) = app.pane().selected_record() else { return vec![] };
            match request_field(record, &app.thread.aliases, &app.pane().info.roles) {
                Some((field, value)) => (field, value, record.timestamp),
                None => {
                    app.message = Some("no id or client field on this line: Enter opens it, F on a field follows that".into());
                    return vec![];
                }
            }
        }
        None => return vec![],
    };
    if value.is_empty() {
        return vec![];
    }
    // "message" is the whole line: following it means its text.
    let field = (field != "message").then_some(field);
    let mut effects = unfollow_panes(app);
    let follow = Follow { value, field };
    let targets: Vec<usize> = if all_tabs { (0..app.panes.len()).collect() } else { app.tab_panes() };
    let mut panes = Vec::new();
    let mut skipped = 0;
    for i in targets {
        if app.panes[i].applied.language == QueryLanguage::Native {
            // A KQL condition cannot be and-ed onto LogQL or DSL text.
            skipped += 1;
            continue;
        }
        let known = known_fields(app, i);
        let cond = condition(&follow, &app.thread.aliases, &known, &app.panes[i].info.roles);
        let text = add_condition(&app.panes[i].applied.text, cond.kql());
        set_query(app, i, text);
        panes.push((app.panes[i].id, cond.kql().to_string()));
        effects.extend(run_query(app, i, false));
    }
    app.detail = None;
    app.mode = Mode::Normal;
    app.thread.cursor = 0;
    app.thread.widened = 0;
    let note = if skipped > 0 { format!(" ({skipped} native-query panes left as they are)") } else { String::new() };
    app.message = Some(format!("following {} in {} panes{note}: T the thread, U stops", follow.value, panes.len()));
    app.thread.active = Some(Followed { follow, panes, anchor });
    effects
}

fn set_query(app: &mut App, i: usize, text: String) {
    let p = &mut app.panes[i];
    p.editor.set(text.clone());
    p.query_error = None;
    p.applied = Query::kql(text);
    p.language = QueryLanguage::Kql;
}

/// Removes the follow's condition from each pane that still has it as it was put there.
fn unfollow_panes(app: &mut App) -> Vec<Effect> {
    let Some(active) = app.thread.active.take() else { return vec![] };
    let mut effects = Vec::new();
    for (id, cond) in &active.panes {
        let Some(i) = app.pane_index(*id) else { continue };
        // A query edited since keeps the user's text: only the shape follow made is undone.
        if let Some(text) = remove_condition(&app.panes[i].applied.text, cond) {
            set_query(app, i, text);
            effects.extend(run_query(app, i, false));
        }
    }
    effects
}

/// `U`: every pane drops the follow's condition; the rest of its query stays.
pub(crate) fn unfollow(app: &mut App) -> Vec<Effect> {
    if app.thread.active.is_none() {
        app.message = Some("nothing followed: F on a field of the detail view follows its value".into());
        return vec![];
    }
    let effects = unfollow_panes(app);
    if app.mode == Mode::Thread {
        app.mode = Mode::Normal;
    }
    app.message = Some("follow removed".into());
    effects
}

/// `T`: the thread view (the merged lines of the followed panes).
pub(crate) fn open(app: &mut App) -> Vec<Effect> {
    if app.thread.active.is_none() {
        app.message = Some("nothing followed: F on a field of the detail view follows its value".into());
        return vec![];
    }
    app.thread.cursor = app.thread.cursor.min(lines(app).len().saturating_sub(1));
    app.mode = Mode::Thread;
    vec![]
}

/// The label of a pane in the thread: its number on screen and its source.
pub fn pane_tag(app: &App, i: usize) -> String {
    format!("{} {}", i + 1, app.panes[i].info.description)
}

/// The thread: the followed panes' loaded lines, merged oldest first.
pub fn lines(app: &App) -> Vec<ThreadLine> {
    let Some(active) = &app.thread.active else { return vec![] };
    let strands = active
        .panes
        .iter()
        .filter_map(|(id, _)| app.pane_index(*id))
        .map(|i| Strand { tag: pane_tag(app, i), roles: app.panes[i].info.roles.clone(), records: app.panes[i].records.clone() })
        .collect();
    merge(strands, MAX_THREAD_LINES)
}

/// After a page of a followed pane came: the next page, until the pane holds all its matching
/// lines or [`THREAD_PANE_LINES`] (the pane's own record limit also applies).
pub(crate) fn more_pages(app: &mut App, pane: PaneId) -> Vec<Effect> {
    let followed = app.thread.active.as_ref().is_some_and(|a| a.panes.iter().any(|(id, _)| *id == pane));
    let Some(i) = app.pane_index(pane).filter(|_| followed) else { return vec![] };
    let p = &mut app.panes[i];
    let up_to = THREAD_PANE_LINES.min(p.limits.records);
    super::table::next_page(p, up_to)
}

/// Followed panes whose matching lines are not all loaded: the pane's tag, lines loaded, and
/// the hits the source reported (the thread view says so rather than look complete).
pub fn partial_panes(app: &App) -> Vec<(String, usize, logsleuth_core::model::HitCount)> {
    let Some(active) = &app.thread.active else { return vec![] };
    active
        .panes
        .iter()
        .filter_map(|(id, _)| app.pane_index(*id))
        .filter_map(|i| {
            let p = &app.panes[i];
            let total = p.total?;
            let known = match total {
                logsleuth_core::model::HitCount::Exact(n) | logsleuth_core::model::HitCount::AtLeast(n) => n,
            };
            (p.next.is_some() && (p.records.len() as u64) < known).then(|| (pane_tag(app, i), p.records.len(), total))
        })
        .collect()
}

/// Moves the thread view's cursor.
pub(crate) fn move_cursor(app: &mut App, delta: isize) -> Vec<Effect> {
    let n = lines(app).len();
    app.thread.cursor = app.thread.cursor.saturating_add_signed(delta).min(n.saturating_sub(1));
    vec![]
}

/// `w`: every followed pane's range becomes ± N minutes around the line the follow started
/// from (the selected thread line when it had no time).
pub(crate) fn widen(app: &mut App) -> Vec<Effect> {
    let Some(active) = app.thread.active.clone() else { return vec![] };
    let centre = active.anchor.or_else(|| lines(app).get(app.thread.cursor).and_then(|l| l.record.timestamp));
    let Some(centre) = centre else {
        app.message = Some("the line has no time to widen around".into());
        return vec![];
    };
    let minutes = widen_reach(app.thread.widen_minutes, app.thread.widened);
    app.thread.widened += 1;
    let reach = minutes * 60 * logsleuth_core::time::NS_PER_SEC;
    let range = TimeRange::between(centre.saturating_sub(reach), centre.saturating_add(reach));
    let mut effects = Vec::new();
    for (id, _) in &active.panes {
        let Some(i) = app.pane_index(*id) else { continue };
        app.panes[i].range = RangeSpec::Absolute(range);
        effects.extend(run_query(app, i, false));
    }
    let further = widen_reach(app.thread.widen_minutes, app.thread.widened);
    let again = if further > minutes { format!(" (w again: ±{further} min)") } else { String::new() };
    app.message = Some(format!("thread range: ±{minutes} min around {}{again}", logsleuth_core::time::format_rfc3339(centre)));
    effects
}

/// `m` in the thread view: the thread goes into the report's "Request path" section.
pub(crate) fn mark(app: &mut App) -> Vec<Effect> {
    let Some(active) = &app.thread.active else { return vec![] };
    let title = match &active.follow.field {
        Some(f) => format!("{f} = {}", active.follow.value),
        None => active.follow.value.clone(),
    };
    let lines = lines(app);
    app.message = Some(format!("thread marked ({} lines): in the report's request path", lines.len()));
    app.thread.marked.retain(|m| m.title != title);
    app.thread.marked.push(MarkedThread { title, lines });
    vec![]
}

/// The thread's actions (keys in `keymap.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadAction {
    /// Follow the current field's value in every pane of the tab (`all_tabs`: of every tab).
    Follow {
        /// Every tab's panes, not only the shown tab's.
        all_tabs: bool,
    },
    /// Remove the follow's condition from every pane.
    Unfollow,
    /// Open the thread view.
    Open,
    /// Move the thread view's cursor.
    Move(isize),
    /// Widen every followed pane's range to ± N minutes around the follow's line.
    Widen,
    /// Keep the thread for the report.
    Mark,
}

/// The reducer of [`ThreadAction`].
pub(crate) fn update(app: &mut App, action: ThreadAction) -> Vec<Effect> {
    match action {
        ThreadAction::Follow { all_tabs } => follow(app, all_tabs),
        ThreadAction::Unfollow => unfollow(app),
        ThreadAction::Open => open(app),
        ThreadAction::Move(d) => move_cursor(app, d),
        ThreadAction::Widen => widen(app),
        ThreadAction::Mark => mark(app),
    }
}

/// The marked threads as the report's "Request path" data.
pub fn request_paths(app: &App) -> Vec<crate::export::request_path::RequestPath> {
    use crate::export::request_path::{Hop, RequestPath};
    app.thread
        .marked
        .iter()
        .map(|m| RequestPath {
            title: m.title.clone(),
            hops: m
                .lines
                .iter()
                .map(|l| Hop {
                    time: l.record.timestamp,
                    gap: l.gap,
                    source: l.tag.clone(),
                    error: l.error,
                    first_error: l.first_error,
                    line: l.record.message.clone(),
                })
                .collect(),
        })
        .collect()
}
