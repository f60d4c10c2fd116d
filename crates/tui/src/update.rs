//! The reducer: `update(&mut App, Action) -> Vec<Effect>`. Pure apart from mutating the state:
//! no I/O, no clock, no terminal — unit-testable with plain values.

use super::action::{Action, Effect};
use super::app::*;
use crate::features::{charts::*, detail::*, histogram::*, query::*, table::*, tail::*};
use logsleuth_core::model::{Nanos, TimeRange};
use logsleuth_sources::{
    Query, SearchRequest, Split,
};

/// Effects to run when the UI starts: list the fields and run the initial query.
pub fn start(app: &mut App) -> Vec<Effect> {
    let mut effects = Vec::new();
    for i in 0..app.panes.len() {
        // An initial query (`--kql`) with a syntax error is shown at its position, not run.
        if let Some(err) = pane_syntax_error(&app.panes[i]) {
            let p = &mut app.panes[i];
            p.query_error = Some(err);
            p.applied = Query::default();
            if i == app.focus {
                app.mode = Mode::Query;
            }
        }
        effects.extend(run_query(app, i, true));
    }
    effects
}

/// Applies an action; returns the effects the runtime must perform.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    let moves_cursor = matches!(
        action,
        Action::Move(_) | Action::Page(_) | Action::Jump(_) | Action::MoveHorizontal(_) | Action::Mouse(_) | Action::FocusNext | Action::FocusPrev
    );
    let effects = apply(app, action);
    // The other panes mark the instant under the focused pane's cursor.
    if moves_cursor && app.mode == Mode::Normal && app.panes.len() > 1 {
        super::panes::sync_instant(app);
    }
    effects
}

pub(crate) fn apply(app: &mut App, action: Action) -> Vec<Effect> {
    // Ticks only redraw when something on screen moves (spinner, tail rate).
    let redraw = !matches!(action, Action::Tick(_) | Action::Progress(_) | Action::PaneProgress { .. });
    if redraw {
        app.dirty = true;
    }
    if action.is_input() && !matches!(action, Action::PanePrefix) {
        app.pane_prefix = false;
    }
    // The incident workflow's popups take the keys while open.
    if let Some(effects) = super::investigate::intercept(app, &action) {
        return effects;
    }
    let pane = app.focus;
    match action {
        Action::Quit => {
            app.quit = true;
            vec![]
        }
        Action::Tick(now) => {
            app.now = now;
            // Every pane: a tail in a pane without the focus still shows its rate.
            let mut busy = false;
            let mut tail_changed = false;
            for p in &mut app.panes {
                busy |= p.loading.any() || p.opening;
                tail_changed |= p.tail.as_mut().is_some_and(|t| update_rate(t, now));
            }
            // The pattern and comparison views spin while their source works.
            busy |= (app.mode == Mode::Patterns && app.patterns.loading()) || (app.mode == Mode::Comparison && app.comparison.loading());
            if busy {
                app.spinner = app.spinner.wrapping_add(1);
            }
            if busy || tail_changed {
                app.dirty = true;
            }
            crate::features::watches::due(app, now)
        }
        Action::Progress(p) => {
            let id = app.pane().id;
            pane_progress(app, id, p)
        }
        Action::PaneProgress { pane, progress } => pane_progress(app, pane, progress),
        Action::Resize(w, h) => {
            let before = super::panes::plot_widths(app);
            app.viewport = ratatui::layout::Rect::new(0, 0, w, h);
            keep_selection_visible(app);
            // Bucket counts follow the charts' widths: ask again where they changed.
            super::panes::relayout(app, &before)
        }
        Action::Escape => escape(app),
        Action::ToggleQueryLanguage => toggle_language(app),
        Action::ToggleHelp => {
            if app.mode == Mode::Help {
                app.mode = app.previous_mode;
            } else {
                app.previous_mode = if app.mode == Mode::Query { Mode::Normal } else { app.mode };
                app.mode = Mode::Help;
                app.help_scroll = 0;
            }
            vec![]
        }
        Action::EditQuery => {
            app.mode = Mode::Query;
            refresh_completion(app)
        }
        Action::Input(c) => input(app, c),
        Action::Backspace | Action::Delete | Action::DeleteWord | Action::ClearInput => edit(app, &action),
        Action::CursorLeft | Action::CursorRight | Action::CursorHome | Action::CursorEnd => edit(app, &action),
        Action::AcceptCompletion => accept_completion(app),
        Action::Submit => submit(app),
        Action::Move(n) => move_by(app, n),
        Action::Page(n) => {
            let rows = table_height(app) as i32;
            move_by(app, n * rows.max(1))
        }
        Action::Jump(edge) => jump(app, edge),
        Action::MoveHorizontal(n) => {
            let normal = app.mode == Mode::Normal;
            let p = app.pane_mut();
            if normal && p.element == Element::Histogram {
                let len = p.histogram.as_ref().map_or(0, |h| h.buckets.len());
                p.hist_cursor = clamp_add(p.hist_cursor, n, len);
            }
            vec![]
        }
        Action::FocusNext | Action::FocusPrev => {
            let forward = matches!(action, Action::FocusNext);
            match app.mode {
                Mode::Charts => {
                    let c = &mut app.pane_mut().charts;
                    let n = c.fields.len().max(1);
                    c.selected = if forward { (c.selected + 1) % n } else { (c.selected + n - 1) % n };
                    c.bar = 0;
                    vec![]
                }
                Mode::TimePicker => {
                    let f = app.picker.field;
                    app.picker.field = if forward { (f + 1) % 3 } else { (f + 2) % 3 };
                    vec![]
                }
                Mode::Detail | Mode::Help => vec![],
                _ => {
                    cycle_focus(app, forward);
                    if app.mode == Mode::Query { refresh_completion(app) } else { vec![] }
                }
            }
        }
        Action::Paste(text) => {
            match app.mode {
                Mode::Query => {
                    app.pane_mut().editor.insert_str(&text);
                    return refresh_completion(app);
                }
                Mode::TimePicker if app.picker.field == 1 => app.picker.from.insert_str(&text),
                Mode::TimePicker if app.picker.field == 2 => app.picker.to.insert_str(&text),
                Mode::SourcePicker => {
                    app.source_picker.input.insert_str(&text);
                    return super::panes::picker_edited(app);
                }
                _ => {}
            }
            vec![]
        }
        Action::FocusFields => {
            app.mode = if app.mode == Mode::Fields { Mode::Normal } else { Mode::Fields };
            vec![]
        }
        Action::OpenCharts => open_charts(app, pane, None),
        Action::OpenTimePicker => {
            app.previous_mode = Mode::Normal;
            app.mode = Mode::TimePicker;
            // Prefill with the current bounds (the data's span for "all time"), to the second.
            let p = app.pane();
            let span = p.histogram.as_ref().and_then(|h| Some((h.buckets.first()?.start, h.buckets.last()?.start + h.interval)));
            let from = p.resolved.from.or(span.map(|s| s.0)).unwrap_or(app.now - 3600 * logsleuth_core::time::NS_PER_SEC);
            // "All time" is pinned at the query's end now: the data's span reads better.
            let to = if matches!(p.range, RangeSpec::All) { span.map(|s| s.1).or(p.resolved.to) } else { p.resolved.to.or(span.map(|s| s.1)) };
            let secs = |t: Nanos| logsleuth_core::time::format_rfc3339(t - t.rem_euclid(logsleuth_core::time::NS_PER_SEC));
            app.picker = PickerState {
                cursor: 0,
                from: super::editor::LineEditor::new(secs(from)),
                to: super::editor::LineEditor::new(to.map(secs).unwrap_or_else(|| "now".into())),
                field: 0,
                error: None,
            };
            vec![]
        }
        Action::ToggleTail => toggle_tail(app, pane),
        Action::TogglePause => toggle_pause(app),
        Action::CycleSplit => {
            let p = app.pane_mut();
            p.split = match p.split {
                Split::StatusClass if p.info.roles.level.is_some() => Split::Level,
                Split::StatusClass | Split::Level => Split::None,
                Split::None | Split::Field(_) if p.info.roles.status.is_some() => Split::StatusClass,
                Split::None | Split::Field(_) if p.info.roles.level.is_some() => Split::Level,
                Split::None | Split::Field(_) => Split::None,
            };
            histogram_effect(app, pane).into_iter().collect()
        }
        Action::MarkSpan => {
            let p = app.pane_mut();
            p.element = Element::Histogram;
            p.hist_anchor = if p.hist_anchor.is_some() { None } else { Some(p.hist_cursor) };
            vec![]
        }
        Action::ZoomIn => zoom_in(app, pane),
        Action::ZoomOut => zoom_out(app, pane),
        Action::FilterFor => add_filter(app, FilterKind::For),
        Action::FilterOut => add_filter(app, FilterKind::Out),
        Action::FilterExists => add_filter(app, FilterKind::Exists),
        Action::ToggleColumn => {
            if let Some(field) = current_field(app) {
                let p = app.pane_mut();
                p.auto_columns = false;
                if let Some(i) = p.columns.iter().position(|c| *c == field) {
                    p.columns.remove(i);
                } else {
                    if p.columns == ["message"] {
                        p.columns.clear();
                    }
                    p.columns.push(field);
                }
                if p.columns.is_empty() {
                    p.columns.push("message".into());
                }
            }
            vec![]
        }
        Action::DetailRecord(step) => {
            let len = app.pane().records.len();
            if let Some(d) = app.detail.as_mut() {
                d.index = clamp_add(d.index, step, len);
                d.scroll = 0;
                let index = d.index;
                let p = app.pane_mut();
                p.selected = index;
                keep_selection_visible(app);
                return maybe_next_page(app, pane);
            }
            vec![]
        }
        Action::ToggleDetailView => {
            if let Some(d) = app.detail.as_mut() {
                d.view = if d.view == DetailView::Fields { DetailView::Json } else { DetailView::Fields };
            }
            vec![]
        }
        Action::ShowContext => show_context(app),
        Action::ContextDone { pane, result } => match app.pane_index(pane) {
            Some(i) => context_done(app, i, result),
            None => vec![],
        },
        Action::Mouse(m) => mouse(app, m),
        Action::SearchDone { pane, generation, append, result } => {
            let Some(p) = app.pane_index(pane).map(|i| &mut app.panes[i]) else { return vec![] };
            if generation != p.generation {
                return vec![];
            }
            if append {
                p.loading.page = false;
            } else {
                p.loading.search = false;
            }
            match result {
                Ok(page) => {
                    if append {
                        let room = p.limits.records.saturating_sub(p.records.len());
                        p.records.extend(page.records.into_iter().take(room));
                    } else {
                        p.records = page.records;
                        p.records.truncate(p.limits.records);
                        p.selected = 0;
                        p.offset = 0;
                        p.error = None;
                        p.refit_columns();
                    }
                    if page.total.is_some() || !append {
                        p.total = page.total;
                    }
                    p.next = page.next;
                    p.warnings = page.warnings;
                    if !append || p.records.len() <= FIELD_SAMPLE {
                        p.refresh_field_stats();
                    }
                }
                Err(e) => p.error = Some(e.to_string()),
            }
            // Input still being read when the first page came (stdin that has not ended):
            // follow it now, not at the next progress report, which a quiet producer may
            // not send for minutes.
            let live_stream = p.progress.is_some_and(|pr| pr.total == 0);
            if !append && live_stream && !p.live_checked && p.tail.is_none() {
                p.live_checked = true;
                let i = app.pane_index(pane).unwrap_or(0);
                return toggle_tail(app, i);
            }
            crate::features::thread::more_pages(app, pane)
        }
        Action::HistogramDone { pane, generation, result } => {
            let Some(p) = app.pane_index(pane).map(|i| &mut app.panes[i]) else { return vec![] };
            if generation != p.generation {
                return vec![];
            }
            p.loading.histogram = false;
            match result {
                Ok(h) => {
                    p.hist_cursor = p.hist_cursor.min(h.buckets.len().saturating_sub(1));
                    p.hist_anchor = None;
                    p.histogram = Some(h);
                }
                Err(e) => {
                    p.histogram = None;
                    p.error = Some(format!("histogram: {e}"));
                }
            }
            vec![]
        }
        Action::TopDone { pane, generation, field, result } => {
            let Some(p) = app.pane_index(pane).map(|i| &mut app.panes[i]) else { return vec![] };
            if generation != p.generation {
                return vec![];
            }
            let result = result.map_err(|e| e.to_string());
            // The sidebar's exact values and the charts may ask for the same field.
            // The sidebar's exact values and the charts may both ask for one field: the first
            // answer serves whichever is waiting, a second finds nothing left to fill.
            crate::features::fields::exact_done(p, generation, &field, &result);
            if p.charts.fields.contains(&field) && !p.charts.results.contains_key(&field) {
                p.loading.top = p.loading.top.saturating_sub(1);
                p.charts.results.insert(field, result);
            }
            vec![]
        }
        Action::ExactValues => crate::features::fields::toggle_exact(app, pane),
        Action::SourceInfo { pane, info } => match app.pane_index(pane) {
            Some(i) => source_info(app, i, info),
            None => vec![],
        },
        Action::RangeResolved { pane, generation, span } => {
            let Some(i) = app.pane_index(pane) else { return vec![] };
            let now = app.now;
            let p = &mut app.panes[i];
            if generation != p.generation || p.resolved.to.is_some() {
                return vec![];
            }
            p.resolved.to = Some(pinned_end(now, span));
            run_resolved(app, i)
        }
        Action::FieldsDone { pane, result } => {
            let Some(p) = app.pane_index(pane).map(|i| &mut app.panes[i]) else { return vec![] };
            match result {
                Ok(fields) => {
                    p.fields = fields;
                    p.refresh_field_stats();
                }
                Err(e) => p.warnings.push(format!("fields: {e}")),
            }
            if app.mode == Mode::Query { refresh_completion(app) } else { vec![] }
        }
        Action::ValuesDone { pane: _, field, result } => {
            app.values_pending.retain(|f| *f != field);
            app.value_cache.insert(field, result.unwrap_or_default());
            if app.mode == Mode::Query { refresh_completion(app) } else { vec![] }
        }
        Action::Tail { pane, generation, event } => match app.pane_index(pane) {
            Some(i) => tail_event(app, i, generation, event),
            None => vec![],
        },
        Action::HistorySaveFailed(e) => {
            app.message = Some(format!("could not save history: {e}"));
            vec![]
        }
        Action::PanePrefix => {
            app.pane_prefix = true;
            vec![]
        }
        Action::UnknownPaneCommand => {
            app.message = Some("not a pane command (Ctrl-w then v s t h j k l w c z > < + - n p L S; ? for help)".into());
            vec![]
        }
        Action::NewPane(placement) => super::panes::open_picker(app, placement),
        Action::ClosePane => super::panes::close(app),
        Action::FocusPane(toward) => super::panes::focus_toward(app, toward),
        Action::CyclePane(forward) => super::panes::cycle(app, forward),
        Action::ResizePane(direction, delta) => super::panes::resize(app, direction, delta),
        Action::ToggleMaximise => super::panes::toggle_maximise(app),
        Action::CycleTab(forward) => super::panes::cycle_tab(app, forward),
        Action::ToggleLink => super::panes::toggle_link(app),
        Action::SaveWorkspace => super::panes::save_workspace(app),
        Action::PaneOpened { pane, result, progress } => super::panes::opened(app, pane, result, progress),
        Action::LogGroupsListed { prefix, result } => super::panes::log_groups_listed(app, prefix, result),
        Action::WorkspaceSaved(result) => {
            app.message = Some(match result {
                Ok(path) => format!("workspace saved to {}", path.display()),
                Err(e) => format!("could not save the workspace: {e}"),
            });
            vec![]
        }
        Action::Investigate(a) => super::investigate::update(app, a),
        Action::Thread(a) => crate::features::thread::update(app, a),
        Action::Watch(a) => crate::features::watches::update(app, a),
        Action::Patterns(a) => crate::features::patterns::update(app, a),
        Action::Comparison(a) => crate::features::comparison::update(app, a),
        Action::JumpSpike(forward) => super::features::histogram::jump_spike(app, forward),
    }
}

/// A pane's source reports indexing progress; when indexing ends the pane's results (computed
/// on a partial index) are fetched again.
pub(crate) fn pane_progress(app: &mut App, id: crate::action::PaneId, progress: Option<logsleuth_sources::Progress>) -> Vec<Effect> {
    let Some(i) = app.pane_index(id) else { return vec![] };
    let p = &mut app.panes[i];
    if progress == p.progress {
        return vec![];
    }
    let finished = p.progress.is_some() && progress.is_none();
    p.progress = progress;
    app.dirty = true;
    if finished {
        app.message = Some("indexing done".into());
        return run_query(app, i, true);
    }
    // A large file being indexed: a first page that came back empty (the query ran before
    // the index had lines) is asked again, at most once a second, so the lines indexed so far
    // show instead of nothing until the end. A page with rows is left as it is (the user may
    // be reading it); it is refreshed when indexing ends.
    let indexing = progress.is_some_and(|p| p.total > 0);
    let now = app.now;
    if indexing
        && p.records.is_empty()
        && !p.loading.search
        && p.tail.is_none()
        && now.saturating_sub(p.indexing_rerun) >= logsleuth_core::time::NS_PER_SEC
    {
        p.indexing_rerun = now;
        return run_query(app, i, false);
    }
    // Input of unknown size still being read (stdin that has not ended): follow it, as
    // `less +F` does, once the first page is there (space pauses, `t` stops).
    let live_stream = progress.is_some_and(|p| p.total == 0);
    if live_stream && !p.live_checked && !p.loading.search && p.tail.is_none() {
        p.live_checked = true;
        return toggle_tail(app, i);
    }
    vec![]
}

/// The range and query of the focused pane, resolved now.
pub fn current_query(app: &App, i: usize) -> (Query, TimeRange) {
    let p = &app.panes[i];
    (p.applied.clone(), p.resolved)
}

/// Starts a new search generation for a pane: first page, histogram, charts if shown, tail if
/// following. `fields` also refreshes the field list (range changed).
pub(crate) fn run_query(app: &mut App, i: usize, fields: bool) -> Vec<Effect> {
    let now = app.now;
    let p = &mut app.panes[i];
    p.generation += 1;
    p.resolved = p.range.resolve(now);
    p.loading = Loading { search: true, page: false, histogram: false, top: 0 };
    p.error = None;
    p.hist_anchor = None;
    p.refresh_fields = fields;
    let mut effects = vec![Effect::Cancel { pane: p.id }];
    // One snapshot per screen: an open end ("all time" of a file that grows) is pinned before
    // the query runs, so the hit count, table, histogram, sidebar and charts of this run all
    // count the same lines, as Kibana resolves `now` once per search. A live tail moves them
    // together instead.
    if p.resolved.to.is_none() && p.tail.is_none() {
        effects.push(Effect::ResolveRange { pane: p.id, generation: p.generation });
        return effects;
    }
    effects.extend(run_resolved(app, i));
    effects
}

/// The end an open range is pinned at, exclusive. Log times have whole seconds (nginx's
/// `$time_local`), so a line written in the second the query runs cannot be told by its time
/// from one written a moment later: the end is the start of the current second, and every
/// view of the query leaves that second out alike (the next query or the tail shows it).
/// Data stamped ahead of the clock is kept whole: the end is then just past its last second.
pub fn pinned_end(now: Nanos, span: Option<TimeRange>) -> Nanos {
    let second = logsleuth_core::time::NS_PER_SEC;
    let now_second = now.div_euclid(second).saturating_mul(second);
    match span.and_then(|s| s.to).map(|to| to.saturating_sub(1)) {
        Some(last) if last >= now => last.div_euclid(second).saturating_add(1).saturating_mul(second),
        _ => now_second,
    }
}

/// The requests of a query generation whose range is resolved: first page, histogram, charts
/// if shown, fields if asked, tail if following.
pub(crate) fn run_resolved(app: &mut App, i: usize) -> Vec<Effect> {
    let generation = app.panes[i].generation;
    let fields = std::mem::take(&mut app.panes[i].refresh_fields);
    let (query, range) = current_query(app, i);
    let mut effects = vec![Effect::Search {
        pane: app.panes[i].id,
        generation,
        append: false,
        request: SearchRequest { query: query.clone(), range, limit: PAGE_SIZE, cursor: None },
    }];
    effects.extend(histogram_effect(app, i));
    if app.mode == Mode::Charts {
        effects.extend(top_effects(app, i));
    }
    if fields {
        // Known values depend on the range: ask again when it changed.
        app.value_cache.clear();
        effects.push(Effect::Fields { pane: app.panes[i].id, range });
    }
    if app.panes[i].tail.is_some() {
        effects.extend(start_tail(app, i));
    }
    effects.extend(crate::features::fields::exact_effect(app, i));
    effects
}

/// Takes a source's new description. Columns and the histogram split follow the new defaults
/// unless the user changed them from the old defaults.
pub(crate) fn source_info(app: &mut App, i: usize, info: logsleuth_sources::SourceInfo) -> Vec<Effect> {
    let Some(p) = app.panes.get_mut(i) else { return vec![] };
    if p.info == info {
        return vec![];
    }
    let refit = p.auto_columns;
    let split_changed = p.split == Pane::default_split(&p.info) && p.split != Pane::default_split(&info);
    if split_changed {
        p.split = Pane::default_split(&info);
    }
    p.info = info;
    if refit {
        p.refit_columns();
    }
    if split_changed {
        // Whether the unsplit histogram has arrived yet or not, ask again with the split.
        return histogram_effect(app, i).into_iter().collect();
    }
    vec![]
}

pub(crate) fn escape(app: &mut App) -> Vec<Effect> {
    app.pane_prefix = false;
    if app.mode == Mode::SourcePicker {
        app.mode = Mode::Normal;
        return vec![];
    }
    // A running query is cancelled first, whatever the mode.
    if app.pane().loading.search || app.pane().loading.histogram || app.pane().loading.top > 0 {
        let p = app.pane_mut();
        p.generation += 1;
        p.loading = Loading::default();
        app.message = Some("query cancelled".into());
        return vec![Effect::Cancel { pane: app.pane().id }];
    }
    match app.mode {
        Mode::Query if !app.completion.items.is_empty() => app.completion = Completion::default(),
        Mode::Help | Mode::Charts | Mode::TimePicker | Mode::SourcePicker => app.mode = app.previous_mode,
        // Esc leaves the context back to the record's fields first.
        Mode::Detail if app.detail.as_ref().is_some_and(|d| d.view == DetailView::Context) => {
            if let Some(d) = app.detail.as_mut() {
                d.view = DetailView::Fields;
            }
        }
        Mode::Detail => {
            app.detail = None;
            app.mode = Mode::Normal;
        }
        Mode::Query | Mode::Fields => app.mode = Mode::Normal,
        Mode::Thread | Mode::Watches | Mode::Patterns | Mode::Comparison => app.mode = Mode::Normal,
        // Handled by investigate::intercept.
        Mode::Prompt | Mode::Marks | Mode::Export | Mode::SavedSearches => {}
        Mode::Normal => {
            let p = app.pane_mut();
            if p.hist_anchor.take().is_none() {
                app.message = None;
            }
        }
    }
    vec![]
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum FilterKind {
    For,
    Out,
    Exists,
}

