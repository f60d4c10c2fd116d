//! The reducer: `update(&mut App, Action) -> Vec<Effect>`. Pure apart from mutating the state:
//! no I/O, no clock, no terminal — unit-testable with plain values.

use super::action::{Action, Edge, Effect, MouseAction};
use super::app::*;
use super::complete;
use super::view::layout;
use logsleuth_core::model::{Nanos, Record, RecordId, TimeRange};
use logsleuth_sources::{
    HistogramRequest, HitCount, Query, QueryLanguage, SearchRequest, SourceResult, Split, TailEvent, TailRequest, TopRequest,
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

fn apply(app: &mut App, action: Action) -> Vec<Effect> {
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
            if busy {
                app.spinner = app.spinner.wrapping_add(1);
            }
            if busy || tail_changed {
                app.dirty = true;
            }
            vec![]
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
                Mode::SourcePicker => app.source_picker.input.insert_str(&text),
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
            let to = p.resolved.to.or(span.map(|s| s.1));
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
            vec![]
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
            p.loading.top = p.loading.top.saturating_sub(1);
            p.charts.results.insert(field, result.map_err(|e| e.to_string()));
            vec![]
        }
        Action::SourceInfo { pane, info } => match app.pane_index(pane) {
            Some(i) => source_info(app, i, info),
            None => vec![],
        },
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
        Action::WorkspaceSaved(result) => {
            app.message = Some(match result {
                Ok(path) => format!("workspace saved to {}", path.display()),
                Err(e) => format!("could not save the workspace: {e}"),
            });
            vec![]
        }
        Action::Investigate(a) => super::investigate::update(app, a),
    }
}

/// A pane's source reports indexing progress; when indexing ends the pane's results (computed
/// on a partial index) are fetched again.
fn pane_progress(app: &mut App, id: crate::action::PaneId, progress: Option<logsleuth_sources::Progress>) -> Vec<Effect> {
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
    // Input of unknown size still being read (stdin that has not ended): follow it, as
    // `less +F` does, once the first page is there (space pauses, `t` stops).
    let live_stream = progress.is_some_and(|p| p.total == 0);
    if live_stream && !p.live_checked && !p.loading.search && p.tail.is_none() {
        p.live_checked = true;
        return toggle_tail(app, i);
    }
    vec![]
}

fn clamp_add(v: usize, n: i32, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (v as i64 + n as i64).clamp(0, len as i64 - 1) as usize
}

/// Rows the table can show.
pub fn table_height(app: &App) -> usize {
    layout::table_body(layout::main_layout(app).table).height as usize
}

fn keep_selection_visible(app: &mut App) {
    let h = table_height(app).max(1);
    let p = app.pane_mut();
    if p.selected < p.offset {
        p.offset = p.selected;
    } else if p.selected >= p.offset + h {
        p.offset = p.selected + 1 - h;
    }
    p.offset = p.offset.min(p.records.len().saturating_sub(1));
}

/// The range and query of the focused pane, resolved now.
fn current_query(app: &App, i: usize) -> (Query, TimeRange) {
    let p = &app.panes[i];
    (p.applied.clone(), p.resolved)
}

/// Starts a new search generation for a pane: first page, histogram, charts if shown, tail if
/// following. `fields` also refreshes the field list (range changed).
pub(super) fn run_query(app: &mut App, i: usize, fields: bool) -> Vec<Effect> {
    let now = app.now;
    let p = &mut app.panes[i];
    p.generation += 1;
    p.resolved = p.range.resolve(now);
    p.loading = Loading { search: true, page: false, histogram: false, top: 0 };
    p.error = None;
    p.hist_anchor = None;
    let generation = p.generation;
    let (query, range) = current_query(app, i);
    let mut effects = vec![Effect::Cancel { pane: app.panes[i].id }];
    effects.push(Effect::Search {
        pane: app.panes[i].id,
        generation,
        append: false,
        request: SearchRequest { query: query.clone(), range, limit: PAGE_SIZE, cursor: None },
    });
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
    effects
}

/// Takes a source's new description. Columns and the histogram split follow the new defaults
/// unless the user changed them from the old defaults.
fn source_info(app: &mut App, i: usize, info: logsleuth_sources::SourceInfo) -> Vec<Effect> {
    let Some(p) = app.panes.get_mut(i) else { return vec![] };
    if p.info == info {
        return vec![];
    }
    if p.columns == Pane::default_columns(&p.info) {
        p.columns = Pane::default_columns(&info);
    }
    let split_changed = p.split == Pane::default_split(&p.info) && p.split != Pane::default_split(&info);
    if split_changed {
        p.split = Pane::default_split(&info);
    }
    p.info = info;
    if split_changed {
        // Whether the unsplit histogram has arrived yet or not, ask again with the split.
        return histogram_effect(app, i).into_iter().collect();
    }
    vec![]
}

pub(super) fn histogram_effect(app: &mut App, i: usize) -> Option<Effect> {
    // The pane's own plot width (panes of other tabs get theirs when shown).
    let id = app.panes[i].id;
    let width = super::panes::plot_widths(app).into_iter().find(|(p, _)| *p == id).and_then(|(_, w)| w)?;
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

fn top_effects(app: &mut App, i: usize) -> Vec<Effect> {
    let (query, range) = current_query(app, i);
    let p = &mut app.panes[i];
    p.charts.results.clear();
    p.loading.top = p.charts.fields.len();
    p.charts
        .fields
        .iter()
        .map(|field| Effect::Top {
            pane: p.id,
            generation: p.generation,
            request: TopRequest { query: query.clone(), range, field: field.clone(), size: TOP_SIZE },
        })
        .collect()
}

fn open_charts(app: &mut App, i: usize, extra: Option<String>) -> Vec<Effect> {
    let p = &mut app.panes[i];
    let mut fields = p.default_chart_fields();
    if fields.is_empty() && extra.is_none() {
        // No known roles: chart the first fields of the sidebar.
        fields = p.field_stats.iter().take(3).map(|f| f.name.clone()).collect();
    }
    if let Some(f) = extra {
        fields.retain(|x| *x != f);
        fields.insert(0, f);
    }
    p.charts.fields = fields;
    p.charts.selected = 0;
    p.charts.bar = 0;
    app.previous_mode = if app.mode == Mode::Fields { Mode::Fields } else { Mode::Normal };
    app.mode = Mode::Charts;
    top_effects(app, i)
}

fn start_tail(app: &mut App, i: usize) -> Vec<Effect> {
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

fn toggle_tail(app: &mut App, i: usize) -> Vec<Effect> {
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

fn toggle_pause(app: &mut App) -> Vec<Effect> {
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
fn insert_tailed(p: &mut Pane, records: Vec<logsleuth_core::model::Record>) {
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

fn tail_event(app: &mut App, i: usize, generation: u64, event: TailEvent) -> Vec<Effect> {
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
                    let effects: Vec<Effect> = histogram_effect(app, i).into_iter().collect();
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
fn update_rate(tail: &mut TailState, now: Nanos) -> bool {
    while tail.arrivals.front().is_some_and(|(t, _)| *t <= now - RATE_WINDOW) {
        tail.arrivals.pop_front();
    }
    let sum: u64 = tail.arrivals.iter().map(|(_, n)| n).sum();
    let rate = sum as f64 / (RATE_WINDOW as f64 / 1e9);
    let changed = (rate * 10.0).round() != (tail.rate * 10.0).round();
    tail.rate = rate;
    changed
}

fn escape(app: &mut App) -> Vec<Effect> {
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

fn input(app: &mut App, c: char) -> Vec<Effect> {
    match app.mode {
        Mode::Query => {
            app.pane_mut().editor.insert(c);
            app.history.browse = None;
            refresh_completion(app)
        }
        Mode::TimePicker => {
            match app.picker.field {
                1 => app.picker.from.insert(c),
                2 => app.picker.to.insert(c),
                _ => {}
            }
            vec![]
        }
        Mode::SourcePicker => {
            app.source_picker.input.insert(c);
            app.source_picker.cursor = 0;
            app.source_picker.error = None;
            vec![]
        }
        _ => vec![],
    }
}

fn edit(app: &mut App, action: &Action) -> Vec<Effect> {
    let editor = match app.mode {
        Mode::Query => &mut app.panes[app.focus].editor,
        Mode::TimePicker if app.picker.field == 1 => &mut app.picker.from,
        Mode::TimePicker if app.picker.field == 2 => &mut app.picker.to,
        Mode::SourcePicker => &mut app.source_picker.input,
        _ => return vec![],
    };
    editor.apply(action);
    if app.mode == Mode::Query { refresh_completion(app) } else { vec![] }
}

/// Recomputes the query's syntax error and the autocomplete list; may ask for a field's values.
fn refresh_completion(app: &mut App) -> Vec<Effect> {
    let pane = app.focus;
    let text = app.pane().editor.text.clone();
    let cursor = app.pane().editor.cursor;
    app.panes[pane].query_error = pane_syntax_error(&app.panes[pane]);
    // Field and value completion speaks KQL only.
    let native = app.pane().language == QueryLanguage::Native;
    let Some(ctx) = complete::context(&text, cursor).filter(|_| !native) else {
        app.completion = Completion::default();
        return vec![];
    };
    let fields = app.pane().field_names();
    let mut effects = vec![];
    let values = match &ctx.kind {
        complete::ContextKind::Value { field } => {
            if !app.value_cache.contains_key(field) && !app.values_pending.contains(field) {
                app.values_pending.push(field.clone());
                effects.push(Effect::FieldValues { pane: app.pane().id, field: field.clone(), range: app.pane().resolved });
            }
            app.value_cache.get(field).map(Vec::as_slice)
        }
        complete::ContextKind::Field | complete::ContextKind::Conjunction => None,
    };
    let items = complete::suggestions(&ctx, &fields, values);
    // Do not pop up field names over an empty query bar: only once something is typed.
    let items = if ctx.prefix.is_empty() && !matches!(ctx.kind, complete::ContextKind::Value { .. }) { vec![] } else { items };
    let selected = if app.completion.context.as_ref().map(|c| &c.kind) == Some(&ctx.kind) {
        app.completion.selected.min(items.len().saturating_sub(1))
    } else {
        0
    };
    app.completion = Completion { items, selected, context: Some(ctx) };
    effects
}

/// The KQL syntax error of `text`, if any (shown at its position; blocks running).
pub fn syntax_error(text: &str) -> Option<logsleuth_kql::KqlError> {
    logsleuth_kql::parse(text).err()
}

/// The syntax error of a pane's query bar: KQL is checked here; a native query is checked by
/// the backend, which says what is wrong when it runs.
fn pane_syntax_error(pane: &crate::app::Pane) -> Option<logsleuth_kql::KqlError> {
    match pane.language {
        QueryLanguage::Kql => syntax_error(&pane.editor.text),
        QueryLanguage::Native => None,
    }
}

/// Switches the focused pane's query bar between KQL and the native language.
fn toggle_language(app: &mut App) -> Vec<Effect> {
    let p = app.pane_mut();
    p.language = match p.language {
        QueryLanguage::Kql => QueryLanguage::Native,
        QueryLanguage::Native => QueryLanguage::Kql,
    };
    p.query_error = None;
    app.completion = Completion::default();
    if app.mode == Mode::Query { refresh_completion(app) } else { vec![] }
}

fn accept_completion(app: &mut App) -> Vec<Effect> {
    let Some(ctx) = app.completion.context.clone() else { return vec![] };
    let Some(item) = app.completion.items.get(app.completion.selected).cloned() else { return vec![] };
    let p = app.pane_mut();
    let end = ctx.end.max(p.editor.cursor);
    p.editor.replace(ctx.start, end, &item.insert);
    app.completion = Completion::default();
    refresh_completion(app)
}

fn submit(app: &mut App) -> Vec<Effect> {
    let pane = app.focus;
    match app.mode {
        Mode::SourcePicker => super::panes::pick(app),
        Mode::Query => {
            let text = app.pane().editor.text.clone();
            if let Some(err) = pane_syntax_error(&app.panes[pane]) {
                app.panes[pane].query_error = Some(err);
                return vec![];
            }
            app.panes[pane].query_error = None;
            app.completion = Completion::default();
            app.history.push(&text);
            app.mode = Mode::Normal;
            let language = app.panes[pane].language;
            app.panes[pane].applied = Query { text: text.trim().to_string(), language };
            let mut effects = run_query(app, pane, false);
            effects.push(Effect::SaveHistory(app.history.entries.clone()));
            effects
        }
        Mode::Normal => match app.pane().element {
            Element::Table => open_detail(app),
            Element::Histogram => zoom_in(app, pane),
        },
        Mode::Fields => {
            let field = app.pane().field_stats.get(app.pane().field_cursor).map(|f| f.name.clone());
            match field {
                Some(f) => open_charts(app, pane, Some(f)),
                None => vec![],
            }
        }
        Mode::Detail => add_filter(app, FilterKind::For),
        Mode::Charts => add_filter(app, FilterKind::For),
        Mode::TimePicker => apply_picker(app),
        // Handled by investigate::intercept.
        Mode::Prompt | Mode::Marks | Mode::Export | Mode::SavedSearches => vec![],
        Mode::Help => {
            app.mode = app.previous_mode;
            vec![]
        }
    }
}

/// Asks the source for the records around the detail view's record.
fn show_context(app: &mut App) -> Vec<Effect> {
    let Some(index) = app.detail.as_ref().map(|d| d.index) else { return vec![] };
    let Some(record) = app.pane().records.get(index).cloned() else { return vec![] };
    if let Some(d) = app.detail.as_mut() {
        d.view = DetailView::Context;
        d.context = Some(ContextState { loading: true, ..ContextState::default() });
    }
    vec![Effect::Context { pane: app.pane().id, record: Box::new(record), lines: CONTEXT_LINES }]
}

fn context_done(app: &mut App, i: usize, result: SourceResult<Vec<Record>>) -> Vec<Effect> {
    let anchor_record = app.detail.as_ref().and_then(|d| app.panes.get(i)?.records.get(d.index)).cloned();
    let Some(c) = app.detail.as_mut().and_then(|d| d.context.as_mut()) else { return vec![] };
    c.loading = false;
    match result {
        Ok(records) => {
            // The record itself: same identity when the source gives one, else same time and text.
            c.anchor = anchor_record.and_then(|a| {
                records.iter().position(|r| {
                    if a.id != RecordId::None { r.id == a.id } else { r.timestamp == a.timestamp && r.message == a.message }
                })
            });
            c.cursor = c.anchor.unwrap_or(0);
            c.records = records;
        }
        Err(e) => c.error = Some(e.to_string()),
    }
    vec![]
}

fn open_detail(app: &mut App) -> Vec<Effect> {
    let p = app.pane();
    if p.records.is_empty() {
        return vec![];
    }
    app.detail = Some(DetailState { index: p.selected, cursor: 0, scroll: 0, view: DetailView::Fields, context: None });
    app.mode = Mode::Detail;
    vec![]
}

fn apply_picker(app: &mut App) -> Vec<Effect> {
    let pane = app.focus;
    let spec = if app.picker.field == 0 && app.picker.cursor < QUICK_RANGES.len() {
        match QUICK_RANGES[app.picker.cursor].1 {
            Some(d) => RangeSpec::Last(d),
            None => RangeSpec::All,
        }
    } else {
        let now = app.now;
        let from = logsleuth_core::time::parse_time(&app.picker.from.text, now, None, false);
        let to = logsleuth_core::time::parse_time(&app.picker.to.text, now, None, true);
        match (from, to) {
            (Ok(f), Ok(t)) if f < t => RangeSpec::Absolute(TimeRange::between(f, t)),
            (Ok(_), Ok(_)) => {
                app.picker.error = Some("the start must be before the end".into());
                return vec![];
            }
            (Err(e), _) | (_, Err(e)) => {
                app.picker.error = Some(e.to_string());
                return vec![];
            }
        }
    };
    let p = &mut app.panes[pane];
    p.range = spec;
    p.zoom_stack.clear();
    app.mode = Mode::Normal;
    let mut effects = run_query(app, pane, true);
    effects.extend(super::panes::propagate_range(app, pane));
    effects
}

fn move_by(app: &mut App, n: i32) -> Vec<Effect> {
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

fn jump(app: &mut App, edge: Edge) -> Vec<Effect> {
    let big = if edge == Edge::Start { i32::MIN / 2 } else { i32::MAX / 2 };
    move_by(app, big)
}

/// Fetches the next page when the selection nears the end of what is loaded.
fn maybe_next_page(app: &mut App, i: usize) -> Vec<Effect> {
    let h = table_height(app);
    let p = &mut app.panes[i];
    let near_end = p.selected + h.max(PAGE_SIZE / 2) >= p.records.len();
    if !near_end || p.loading.page || p.loading.search || p.records.len() >= p.limits.records {
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

fn cycle_focus(app: &mut App, forward: bool) {
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

fn zoom_in(app: &mut App, i: usize) -> Vec<Effect> {
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
fn zoom_to(app: &mut App, i: usize, range: TimeRange) -> Vec<Effect> {
    let p = &mut app.panes[i];
    let old = p.range;
    p.zoom_stack.push(old);
    p.range = RangeSpec::Absolute(range);
    p.hist_cursor = 0;
    app.message = Some(format!("zoomed to {} (u: back out)", format_range(&range)));
    let mut effects = run_query(app, i, false);
    effects.extend(super::panes::propagate_range(app, i));
    effects
}

fn zoom_out(app: &mut App, i: usize) -> Vec<Effect> {
    let p = &mut app.panes[i];
    let Some(previous) = p.zoom_stack.pop() else {
        app.message = Some("not zoomed in".into());
        return vec![];
    };
    p.range = previous;
    app.message = None;
    let mut effects = run_query(app, i, false);
    effects.extend(super::panes::propagate_range(app, i));
    effects
}

#[derive(Clone, Copy, PartialEq)]
enum FilterKind {
    For,
    Out,
    Exists,
}

/// The field under the cursor in the detail view, the sidebar or the charts.
fn current_field(app: &App) -> Option<String> {
    let p = app.pane();
    match app.mode {
        Mode::Detail => {
            let d = app.detail.as_ref()?;
            detail_rows(p.records.get(d.index)?).get(d.cursor).map(|r| r.name.clone())
        }
        Mode::Fields => p.field_stats.get(p.field_cursor).map(|f| f.name.clone()),
        Mode::Charts => p.charts.fields.get(p.charts.selected).cloned(),
        _ => None,
    }
}

fn current_value(app: &App) -> Option<String> {
    let p = app.pane();
    match app.mode {
        Mode::Detail => {
            let d = app.detail.as_ref()?;
            detail_rows(p.records.get(d.index)?).get(d.cursor).map(|r| r.value.as_text())
        }
        Mode::Fields => p.field_stats.get(p.field_cursor)?.top.first().map(|(v, _)| v.clone()),
        Mode::Charts => {
            let f = p.charts.fields.get(p.charts.selected)?;
            let top = p.charts.results.get(f)?.as_ref().ok()?;
            top.buckets.get(p.charts.bar).map(|b| b.value.clone())
        }
        _ => None,
    }
}

/// `existing and clause`, parenthesising an existing query that has a top-level `or`.
pub fn and_clause(existing: &str, clause: &str) -> String {
    let e = existing.trim();
    if e.is_empty() {
        return clause.to_string();
    }
    let lower = format!(" {} ", e.to_lowercase());
    if lower.contains(" or ") && !(e.starts_with('(') && e.ends_with(')')) {
        format!("({e}) and {clause}")
    } else {
        format!("{e} and {clause}")
    }
}

fn add_filter(app: &mut App, kind: FilterKind) -> Vec<Effect> {
    if app.pane().applied.language == QueryLanguage::Native {
        // Filters are KQL clauses; and-ing one onto LogQL or DSL text would not parse.
        app.pane_mut().error = Some("filters are added to KQL queries: switch the query bar to KQL (Ctrl-t) first".into());
        return vec![];
    }
    let Some(field) = current_field(app) else { return vec![] };
    let value = current_value(app);
    let f = complete::quote_field(&field);
    let clause = match (kind, value) {
        (FilterKind::Exists, _) => format!("{f}:*"),
        (FilterKind::For, Some(v)) => format!("{f}:{}", complete::quote_value(&v)),
        (FilterKind::Out, Some(v)) => format!("not {f}:{}", complete::quote_value(&v)),
        (_, None) => return vec![],
    };
    let pane = app.focus;
    let text = and_clause(&app.pane().applied.text, &clause);
    app.detail = None;
    app.mode = Mode::Normal;
    let p = app.pane_mut();
    p.editor.set(text.clone());
    p.query_error = None;
    p.applied = Query::kql(text.clone());
    p.language = QueryLanguage::Kql;
    app.history.push(&text);
    let mut effects = run_query(app, pane, false);
    effects.push(Effect::SaveHistory(app.history.entries.clone()));
    effects
}

fn mouse(app: &mut App, m: MouseAction) -> Vec<Effect> {
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
                if let Some(i) = super::view::sidebar::field_at_row(app.pane(), layout::inner(s).height as usize, row) {
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
