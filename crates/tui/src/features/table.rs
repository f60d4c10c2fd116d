//! The result table: moving the selection, paging in more results, focus between elements, and the mouse.

use crate::action::{Edge, Effect, MouseAction};
use crate::app::*;
use crate::layout;
use crate::features::{detail::*, histogram::*, query::*};
use logsleuth_sources::SearchRequest;

pub(crate) fn clamp_add(v: usize, n: i32, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (v as i64 + n as i64).clamp(0, len as i64 - 1) as usize
}

/// Rows the table can show.
pub fn table_height(app: &App) -> usize {
    layout::table_body(layout::main_layout(app).table).height as usize
}

pub(crate) fn keep_selection_visible(app: &mut App) {
    let h = table_height(app).max(1);
    let p = app.pane_mut();
    if p.selected < p.offset {
        p.offset = p.selected;
    } else if p.selected >= p.offset + h {
        p.offset = p.selected + 1 - h;
    }
    p.offset = p.offset.min(p.records.len().saturating_sub(1));
}

pub(crate) fn move_by(app: &mut App, n: i32) -> Vec<Effect> {
    let pane = app.focus;
    match app.mode {
        Mode::Normal => {
            let p = app.pane_mut();
            match p.element {
                Element::Table => {
                    p.selected = clamp_add(p.selected, n, p.records.len());
                    keep_selection_visible(app);
                    return maybe_next_page(app, pane);
                }
                Element::Histogram => {
                    let len = p.histogram.as_ref().map_or(0, |h| h.buckets.len());
                    p.hist_cursor = clamp_add(p.hist_cursor, n, len);
                }
            }
        }
        Mode::Query => {
            if !app.completion.items.is_empty() {
                app.completion.selected = clamp_add(app.completion.selected, n, app.completion.items.len());
            } else {
                let current = app.pane().editor.text.clone();
                let next = if n < 0 { app.history.older(&current).map(str::to_string) } else { app.history.newer() };
                if let Some(text) = next {
                    app.pane_mut().editor.set(text);
                    app.panes[pane].query_error = pane_syntax_error(&app.panes[pane]);
                }
            }
        }
        Mode::Fields => {
            let p = app.pane_mut();
            p.field_cursor = clamp_add(p.field_cursor, n, p.field_stats.len());
        }
        Mode::Detail => {
            let rows = app.detail.as_ref().and_then(|d| app.pane().records.get(d.index)).map_or(0, |r| detail_rows(r).len());
            if let Some(d) = app.detail.as_mut() {
                match d.view {
                    DetailView::Fields => d.cursor = clamp_add(d.cursor, n, rows),
                    DetailView::Json => d.scroll = (d.scroll as i64 + n as i64).max(0) as usize,
                    DetailView::Context => {
                        if let Some(c) = d.context.as_mut() {
                            c.cursor = clamp_add(c.cursor, n, c.records.len());
                        }
                    }
                }
            }
        }
        Mode::Help => app.help_scroll = (app.help_scroll as i64 + n as i64).max(0) as usize,
        Mode::SourcePicker => {
            let len = app.source_choices().len();
            app.source_picker.cursor = clamp_add(app.source_picker.cursor, n, len);
        }
        Mode::TimePicker => {
            if app.picker.field == 0 {
                app.picker.cursor = clamp_add(app.picker.cursor, n, QUICK_RANGES.len() + 1);
            }
        }
        // Handled by investigate::intercept.
        Mode::Prompt | Mode::Marks | Mode::Export | Mode::SavedSearches => {}
        Mode::Thread | Mode::Watches | Mode::Patterns | Mode::Comparison => {}
        Mode::Charts => {
            let p = app.pane_mut();
            let bars = p
                .charts
                .fields
                .get(p.charts.selected)
                .and_then(|f| p.charts.results.get(f))
                .and_then(|r| r.as_ref().ok())
                .map_or(0, |t| t.buckets.len());
            p.charts.bar = clamp_add(p.charts.bar, n, bars);
        }
    }
    vec![]
}

pub(crate) fn jump(app: &mut App, edge: Edge) -> Vec<Effect> {
    let big = if edge == Edge::Start { i32::MIN / 2 } else { i32::MAX / 2 };
    move_by(app, big)
}

/// Fetches the next page when the selection nears the end of what is loaded.
pub(crate) fn maybe_next_page(app: &mut App, i: usize) -> Vec<Effect> {
    let h = table_height(app);
    let p = &mut app.panes[i];
    let near_end = p.selected + h.max(PAGE_SIZE / 2) >= p.records.len();
    if !near_end {
        return vec![];
    }
    next_page(p, p.limits.records)
}

/// The next page of a pane's search while it holds fewer than `up_to` records and nothing is
/// loading (the table near its end, a followed pane filling its thread).
pub(crate) fn next_page(p: &mut Pane, up_to: usize) -> Vec<Effect> {
    if p.loading.page || p.loading.search || p.records.len() >= up_to {
        return vec![];
    }
    let Some(cursor) = p.next.clone() else { return vec![] };
    p.loading.page = true;
    vec![Effect::Search {
        pane: p.id,
        generation: p.generation,
        append: true,
        request: SearchRequest { query: p.applied.clone(), range: p.resolved, limit: PAGE_SIZE, cursor: Some(cursor) },
    }]
}

pub(crate) fn cycle_focus(app: &mut App, forward: bool) {
    // Order: query bar → histogram → table → fields → query bar.
    let order = [0u8, 1, 2, 3];
    let current = match (app.mode, app.pane().element) {
        (Mode::Query, _) => 0,
        (Mode::Fields, _) => 3,
        (_, Element::Histogram) => 1,
        _ => 2,
    };
    let has_hist = layout::main_layout(app).histogram.is_some();
    let mut i = current;
    loop {
        i = if forward { (i + 1) % order.len() } else { (i + order.len() - 1) % order.len() };
        if i != 1 || has_hist {
            break;
        }
    }
    app.completion = Completion::default();
    match i {
        0 => app.mode = Mode::Query,
        1 => {
            app.mode = Mode::Normal;
            app.pane_mut().element = Element::Histogram;
        }
        2 => {
            app.mode = Mode::Normal;
            app.pane_mut().element = Element::Table;
        }
        _ => app.mode = Mode::Fields,
    }
}

pub(crate) fn mouse(app: &mut App, m: MouseAction) -> Vec<Effect> {
    // A click or the wheel over another pane focuses it first (as tmux's mouse mode does).
    if let MouseAction::Down(x, y) | MouseAction::ScrollUp(x, y) | MouseAction::ScrollDown(x, y) = m
        && matches!(app.mode, Mode::Normal | Mode::Fields | Mode::Query)
        && let Some(&(i, _)) = layout::screen_layout(app).panes.iter().find(|(_, r)| layout::contains(*r, x, y))
        && i != app.focus
    {
        let id = app.panes[i].id;
        app.focus_pane(id);
        app.completion = Completion::default();
        if app.mode == Mode::Query {
            app.mode = Mode::Normal;
        }
    }
    let l = layout::main_layout(app);
    let pane = app.focus;
    match app.mode {
        Mode::Normal | Mode::Fields | Mode::Query => {}
        Mode::Detail | Mode::Help | Mode::Charts => {
            return match m {
                MouseAction::ScrollUp(..) => move_by(app, -3),
                MouseAction::ScrollDown(..) => move_by(app, 3),
                _ => vec![],
            };
        }
        Mode::TimePicker | Mode::SourcePicker | Mode::Prompt | Mode::Marks | Mode::Export | Mode::SavedSearches => return vec![],
        Mode::Thread | Mode::Watches => return vec![],
        // The wheel moves the selection of the pattern and comparison views.
        Mode::Patterns | Mode::Comparison => {
            let step = match m {
                MouseAction::ScrollUp(..) => -3,
                MouseAction::ScrollDown(..) => 3,
                _ => return vec![],
            };
            return if app.mode == Mode::Patterns {
                super::patterns::update(app, super::patterns::PatternsAction::Move(step))
            } else {
                super::comparison::update(app, super::comparison::ComparisonAction::Move(step))
            };
        }
    }
    match m {
        MouseAction::ScrollUp(x, y) | MouseAction::ScrollDown(x, y) => {
            let delta = if matches!(m, MouseAction::ScrollUp(..)) { -3 } else { 3 };
            if l.sidebar.is_some_and(|s| layout::contains(s, x, y)) {
                app.mode = Mode::Fields;
            } else {
                app.mode = Mode::Normal;
                app.pane_mut().element = Element::Table;
            }
            move_by(app, delta)
        }
        MouseAction::Down(x, y) => {
            if layout::contains(l.query, x, y) {
                app.mode = Mode::Query;
                return refresh_completion(app);
            }
            if let Some(h) = l.histogram.filter(|h| layout::contains(*h, x, y)) {
                app.mode = Mode::Normal;
                let n = app.pane().histogram.as_ref().map_or(0, |h| h.buckets.len());
                if let Some(b) = layout::bucket_at(layout::histogram_plot(h), n, x) {
                    let p = app.pane_mut();
                    p.element = Element::Histogram;
                    p.hist_cursor = b;
                    p.hist_anchor = Some(b);
                }
                return vec![];
            }
            if let Some(s) = l.sidebar.filter(|s| layout::contains(*s, x, y)) {
                app.mode = Mode::Fields;
                let row = (y.saturating_sub(s.y + 1)) as usize;
                if let Some(i) = crate::view::sidebar::field_at_row(app.pane(), layout::inner(s).height as usize, row) {
                    app.pane_mut().field_cursor = i;
                }
                return vec![];
            }
            let body = layout::table_body(l.table);
            if layout::contains(body, x, y) {
                app.mode = Mode::Normal;
                let p = app.pane_mut();
                p.element = Element::Table;
                let row = p.offset + (y - body.y) as usize;
                if row < p.records.len() {
                    if row == p.selected {
                        return open_detail(app);
                    }
                    p.selected = row;
                    return maybe_next_page(app, pane);
                }
            }
            vec![]
        }
        MouseAction::Drag(x, _) => {
            if let Some(h) = l.histogram {
                let n = app.pane().histogram.as_ref().map_or(0, |h| h.buckets.len());
                let p = app.pane_mut();
                if p.hist_anchor.is_some()
                    && let Some(b) = layout::bucket_at(layout::histogram_plot(h), n, x)
                {
                    p.hist_cursor = b;
                }
            }
            vec![]
        }
        MouseAction::Up(_, _) => {
            let p = app.pane();
            match p.hist_anchor {
                Some(a) if p.element == Element::Histogram && a != p.hist_cursor => zoom_in(app, pane),
                Some(_) => {
                    app.pane_mut().hist_anchor = None;
                    vec![]
                }
                None => vec![],
            }
        }
    }
}
