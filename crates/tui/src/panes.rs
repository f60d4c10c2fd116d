//! The reducer's pane and tab commands: open (through the source picker), close, focus,
//! resize, maximise, tabs; linked time ranges and the cross-pane instant marker; saving the
//! workspace. Called from [`super::update::update`]; pure like it.

use super::action::{Effect, OpenRequest, PaneId};
use super::app::*;
use super::tiles::{Direction, Tab, Toward};
use crate::features::histogram::histogram_effect;
use crate::update::run_query;
use crate::layout;
use logsleuth_sources::spec::SourceSpec;
use crate::workspace::{PaneFile, RangeSpecFile, TabFile, WorkspaceFile};
use logsleuth_core::model::{Nanos, TimeRange};
use logsleuth_sources::{QueryLanguage, SourceInfo};
use logsleuth_core::time::NS_PER_SEC;

/// Width of each shown pane's histogram plot, by pane id (`None` when it has no histogram).
pub fn plot_widths(app: &App) -> Vec<(PaneId, Option<u16>)> {
    let screen = layout::screen_layout(app);
    app.panes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let width = screen.panes.iter().find(|(j, _)| *j == i).and_then(|(_, area)| {
                layout::pane_layout(app, i, *area, screen.status).histogram.map(|h| layout::histogram_plot(h).width)
            });
            (p.id, width)
        })
        .collect()
}

/// After the layout changed: ask again for the histograms whose width changed (the bucket
/// count follows the width), including panes that just became visible.
pub fn relayout(app: &mut App, before: &[(PaneId, Option<u16>)]) -> Vec<Effect> {
    let after = plot_widths(app);
    let mut effects = Vec::new();
    for (id, width) in after {
        let old = before.iter().find(|(b, _)| *b == id).and_then(|(_, w)| *w);
        if width.is_some() && width != old
            && let Some(i) = app.pane_index(id)
            && !app.panes[i].opening
        {
            effects.extend(histogram_effect(app, i));
        }
    }
    effects
}

/// Opens the source picker for a new pane beside / below the focused one, or a new tab.
pub fn open_picker(app: &mut App, placement: Placement) -> Vec<Effect> {
    app.source_picker = SourcePickerState { placement, ..SourcePickerState::default() };
    app.previous_mode = Mode::Normal;
    app.mode = Mode::SourcePicker;
    vec![]
}

/// A typed `cloudwatch GROUP` that names no region, profile or endpoint of its own opens on
/// the focused CloudWatch pane's (the account the user is looking at).
fn on_the_same_account(app: &App, spec: SourceSpec) -> SourceSpec {
    match spec {
        SourceSpec::CloudWatch(cw) if cw.region.is_none() && cw.profile.is_none() && cw.endpoint.is_none() => {
            SourceSpec::CloudWatch(app.cloudwatch_account().with_groups(cw.groups))
        }
        other => other,
    }
}

/// The picker's input changed: clears the last error and, for `cloudwatch PREFIX` (or
/// `cw PREFIX`), asks the runtime for the log groups with that prefix.
pub fn picker_edited(app: &mut App) -> Vec<Effect> {
    app.source_picker.cursor = 0;
    app.source_picker.error = None;
    let prefix = crate::app::log_group_prefix(&app.source_picker.input.text).map(str::to_string);
    let groups = &mut app.source_picker.groups;
    match prefix {
        None => {
            *groups = Default::default();
            vec![]
        }
        Some(p) if groups.prefix.as_ref() == Some(&p) => vec![],
        Some(p) => {
            *groups = crate::app::LogGroupList { prefix: Some(p.clone()), loading: true, ..Default::default() };
            vec![Effect::ListLogGroups { endpoint: app.cloudwatch_account().endpoint(), prefix: p }]
        }
    }
}

/// The groups listed for a prefix; answers for a prefix no longer typed are dropped.
pub fn log_groups_listed(app: &mut App, prefix: String, result: Result<Vec<String>, String>) -> Vec<Effect> {
    let groups = &mut app.source_picker.groups;
    if groups.prefix.as_ref() != Some(&prefix) {
        return vec![];
    }
    groups.loading = false;
    match result {
        Ok(names) => groups.names = names,
        Err(e) => groups.error = Some(e),
    }
    vec![]
}

/// Enter in the source picker: creates the pane (placed as asked) and asks the runtime to
/// open its source.
pub fn pick(app: &mut App) -> Vec<Effect> {
    let choices = app.source_choices();
    let Some(choice) = choices.get(app.source_picker.cursor.min(choices.len().saturating_sub(1))).cloned() else {
        return vec![];
    };
    let from = app.focus;
    let (request, origin) = match &choice {
        SourceChoice::Same => (OpenRequest::SameAs(app.panes[from].id), app.panes[from].origin.clone()),
        SourceChoice::Named(name) => {
            let spec = SourceSpec::named(name.clone());
            (OpenRequest::Spec(Box::new(spec.clone())), Some(spec))
        }
        SourceChoice::Demo => (OpenRequest::Spec(Box::new(SourceSpec::Demo)), Some(SourceSpec::Demo)),
        SourceChoice::Typed(text) => match SourceSpec::parse_typed(text) {
            Ok(spec) => {
                let spec = on_the_same_account(app, spec);
                (OpenRequest::Spec(Box::new(spec.clone())), Some(spec))
            }
            Err(e) => {
                app.source_picker.error = Some(e);
                return vec![];
            }
        },
        SourceChoice::LogGroup(name) => {
            let spec = SourceSpec::CloudWatch(app.cloudwatch_account().with_groups(vec![name.clone()]));
            (OpenRequest::Spec(Box::new(spec.clone())), Some(spec))
        }
    };
    let before = plot_widths(app);
    let info = match &choice {
        SourceChoice::Same => app.panes[from].info.clone(),
        _ => opening_info(origin.as_ref().map(SourceSpec::label).unwrap_or_default()),
    };
    let mut pane = Pane::new(info, app.panes[from].range, "");
    pane.limits = app.panes[from].limits;
    pane.origin = origin;
    pane.opening = !matches!(choice, SourceChoice::Same);
    if app.panes[from].linked {
        pane.zoom_stack = app.panes[from].zoom_stack.clone();
    } else {
        pane.range = RangeSpec::Last(3600 * NS_PER_SEC);
    }
    let id = app.add_pane(pane);
    match app.source_picker.placement {
        Placement::SideBySide | Placement::Below => {
            let direction =
                if app.source_picker.placement == Placement::SideBySide { Direction::Horizontal } else { Direction::Vertical };
            let target = app.panes[from].id;
            let tab = app.current_tab_mut();
            tab.maximised = false;
            tab.root.split(target, id, direction);
        }
        Placement::NewTab => {
            app.tabs.push(Tab::new(id));
            app.tab = app.tabs.len() - 1;
        }
    }
    app.focus_pane(id);
    app.mode = Mode::Normal;
    app.message = None;
    let mut effects = vec![Effect::OpenSource { pane: id, request }];
    if choice == SourceChoice::Same {
        // The source is already open: query it at once.
        let i = app.focus;
        effects.extend(run_query(app, i, true));
    }
    // The panes that shrank need histograms of their new width.
    effects.extend(relayout(app, &before).into_iter().filter(|e| !matches!(e, Effect::Histogram { pane, .. } if *pane == id)));
    effects
}

/// Opens a configured source in a new pane beside the focused one, with a saved search's
/// query, language, columns and range (the range reaches the linked panes first, so the new
/// pane shares it).
pub fn open_for_search(
    app: &mut App,
    name: &str,
    query: &str,
    language: QueryLanguage,
    columns: &[String],
    range: Option<RangeSpec>,
) -> Vec<Effect> {
    let mut effects = Vec::new();
    let from = app.focus;
    if let Some(range) = range {
        let p = &mut app.panes[from];
        p.range = range;
        p.zoom_stack.clear();
        effects.extend(run_query(app, from, false));
        effects.extend(propagate_range(app, from));
    }
    let before = plot_widths(app);
    let spec = SourceSpec::named(name);
    let mut pane = Pane::new(opening_info(spec.label()), app.panes[from].range, query);
    pane.limits = app.panes[from].limits;
    pane.language = language;
    pane.applied.language = language;
    pane.linked = app.panes[from].linked;
    pane.zoom_stack = app.panes[from].zoom_stack.clone();
    if !columns.is_empty() {
        pane.choose_columns(columns.to_vec());
    }
    pane.origin = Some(spec.clone());
    pane.opening = true;
    let id = app.add_pane(pane);
    let target = app.panes[from].id;
    let tab = app.current_tab_mut();
    tab.maximised = false;
    tab.root.split(target, id, Direction::Horizontal);
    app.focus_pane(id);
    effects.push(Effect::OpenSource { pane: id, request: OpenRequest::Spec(Box::new(spec)) });
    effects.extend(relayout(app, &before).into_iter().filter(|e| !matches!(e, Effect::Histogram { pane, .. } if *pane == id)));
    effects
}

fn opening_info(label: String) -> SourceInfo {
    SourceInfo {
        kind: "opening",
        description: label,
        roles: Default::default(),
        default_columns: Vec::new(),
        is_remote: false,
        warning: None,
    }
}

/// The runtime opened (or failed to open) a new pane's source.
pub fn opened(
    app: &mut App,
    id: PaneId,
    result: Result<SourceInfo, String>,
    progress: Option<logsleuth_sources::Progress>,
) -> Vec<Effect> {
    let Some(i) = app.pane_index(id) else { return vec![] };
    if !app.panes[i].opening {
        return vec![];
    }
    let p = &mut app.panes[i];
    p.opening = false;
    // Indexing still running: the pane searches again when it ends (see Action::PaneProgress).
    p.progress = progress;
    match result {
        Ok(info) => {
            // Columns chosen before the source answered (a saved search's) stay.
            if p.auto_columns {
                p.columns = Pane::default_columns(&info);
            }
            p.split = Pane::default_split(&info);
            // A server cannot be asked for "all time": a linked pane of files shares its span.
            if info.is_remote && p.range == RangeSpec::All {
                p.range = RangeSpec::Last(3600 * NS_PER_SEC);
            }
            p.info = info;
            let linked = p.linked;
            if linked && let Some(range) = shared_range(app, i) {
                app.panes[i].range = range;
            }
            run_query(app, i, true)
        }
        Err(e) => {
            p.error = Some(format!("could not open the source: {e}"));
            vec![]
        }
    }
}

/// The range a linked pane should take from the other linked panes (the focused one first),
/// translated for the pane's kind of source.
fn shared_range(app: &App, i: usize) -> Option<RangeSpec> {
    let others = std::iter::once(app.focus).chain(0..app.panes.len()).filter(|&j| j != i && app.panes[j].linked && !app.panes[j].opening);
    let j = others.into_iter().next()?;
    translate_range(&app.panes[j], app.panes[i].info.is_remote)
}

/// `from`'s range as another pane should use it. "All time" of local files becomes the
/// files' span for a server (which has no "all"), and nothing when that span is unknown.
fn translate_range(from: &Pane, to_remote: bool) -> Option<RangeSpec> {
    match from.range {
        RangeSpec::All if to_remote => data_span(from).map(RangeSpec::Absolute),
        r => Some(r),
    }
}

/// The span of a pane's histogram.
fn data_span(p: &Pane) -> Option<TimeRange> {
    let h = p.histogram.as_ref()?;
    Some(TimeRange::between(h.buckets.first()?.start, h.buckets.last()?.start + h.interval))
}

/// After the focused pane's range changed: the other linked panes follow (same range, same
/// zoom history) and search again.
pub fn propagate_range(app: &mut App, from: usize) -> Vec<Effect> {
    if !app.panes[from].linked {
        return vec![];
    }
    let zoom_stack = app.panes[from].zoom_stack.clone();
    let mut effects = Vec::new();
    for i in 0..app.panes.len() {
        if i == from || !app.panes[i].linked || app.panes[i].opening {
            continue;
        }
        let Some(range) = translate_range(&app.panes[from], app.panes[i].info.is_remote) else { continue };
        if app.panes[i].range == range {
            continue;
        }
        app.panes[i].range = range;
        app.panes[i].zoom_stack = zoom_stack.clone();
        effects.extend(run_query(app, i, false));
    }
    effects
}

/// Links / unlinks the focused pane. Linking takes the shared range at once.
pub fn toggle_link(app: &mut App) -> Vec<Effect> {
    let i = app.focus;
    let p = &mut app.panes[i];
    p.linked = !p.linked;
    if !p.linked {
        app.message = Some("this pane's time range is its own now (Ctrl-w L links it again)".into());
        return vec![];
    }
    app.message = Some("time range linked with the other panes".into());
    match shared_range(app, i) {
        Some(range) if range != app.panes[i].range => {
            app.panes[i].range = range;
            app.panes[i].zoom_stack.clear();
            run_query(app, i, true)
        }
        _ => vec![],
    }
}

/// Closes the focused pane; the last pane of a tab closes the tab; the very last pane stays.
pub fn close(app: &mut App) -> Vec<Effect> {
    if app.panes.len() <= 1 {
        app.message = Some("the last pane stays open (q quits)".into());
        return vec![];
    }
    let before = plot_widths(app);
    let i = app.focus;
    let id = app.panes[i].id;
    let tab = app.tab;
    let order = app.tabs[tab].root.panes();
    if order.len() == 1 {
        app.tabs.remove(tab);
        app.tab = tab.min(app.tabs.len() - 1);
    } else {
        app.tabs[tab].root.remove(id);
        app.tabs[tab].maximised = false;
        // Focus the pane that came before it (or after, for the first).
        let pos = order.iter().position(|p| *p == id).unwrap_or(0);
        let next = if pos > 0 { order[pos - 1] } else { order[1] };
        app.tabs[tab].focus = next;
    }
    app.panes.remove(i);
    if app.instant.is_some_and(|m| m.pane == id) {
        app.instant = None;
    }
    let show = app.tab;
    app.show_tab(show);
    let mut effects = vec![Effect::Cancel { pane: id }, Effect::StopTail { pane: id }, Effect::CloseSource { pane: id }];
    effects.extend(relayout(app, &before));
    effects
}

/// Focus the pane on one side.
pub fn focus_toward(app: &mut App, toward: Toward) -> Vec<Effect> {
    let screen = layout::screen_layout(app);
    let areas: Vec<(PaneId, ratatui::layout::Rect)> = screen.panes.iter().map(|(i, r)| (app.panes[*i].id, *r)).collect();
    if let Some(id) = super::tiles::neighbour(&areas, app.pane().id, toward) {
        switch_focus(app, id);
    }
    vec![]
}

/// Focus the next / previous pane of the tab, in reading order.
pub fn cycle(app: &mut App, forward: bool) -> Vec<Effect> {
    let order = app.current_tab().root.panes();
    if order.len() < 2 {
        return vec![];
    }
    let pos = order.iter().position(|p| *p == app.pane().id).unwrap_or(0);
    let next = if forward { (pos + 1) % order.len() } else { (pos + order.len() - 1) % order.len() };
    let before = plot_widths(app);
    switch_focus(app, order[next]);
    // A maximised tab shows the newly focused pane instead.
    if app.current_tab().maximised { relayout(app, &before) } else { vec![] }
}

fn switch_focus(app: &mut App, id: PaneId) {
    app.focus_pane(id);
    app.completion = Completion::default();
    if !matches!(app.mode, Mode::Normal | Mode::Fields) {
        app.mode = Mode::Normal;
    }
    sync_instant(app);
}

/// Moves a divider next to the focused pane.
pub fn resize(app: &mut App, direction: Direction, delta: i16) -> Vec<Effect> {
    let before = plot_widths(app);
    let id = app.pane().id;
    if !app.current_tab_mut().root.resize(id, direction, delta) {
        app.message = Some("no divider to move that way".into());
        return vec![];
    }
    relayout(app, &before)
}

/// Shows the focused pane alone, or the whole layout again.
pub fn toggle_maximise(app: &mut App) -> Vec<Effect> {
    let before = plot_widths(app);
    let tab = app.current_tab_mut();
    tab.maximised = !tab.maximised;
    relayout(app, &before)
}

/// Shows the next / previous tab.
pub fn cycle_tab(app: &mut App, forward: bool) -> Vec<Effect> {
    let n = app.tabs.len();
    if n < 2 {
        app.message = Some("one tab (Ctrl-w t opens another)".into());
        return vec![];
    }
    let before = plot_widths(app);
    let next = if forward { (app.tab + 1) % n } else { (app.tab + n - 1) % n };
    app.show_tab(next);
    if !matches!(app.mode, Mode::Normal | Mode::Fields) {
        app.mode = Mode::Normal;
    }
    sync_instant(app);
    relayout(app, &before)
}

/// The time under the focused pane's cursor: the selected row's, or the middle of the
/// histogram bucket under the cursor.
fn cursor_time(p: &Pane) -> Option<Nanos> {
    match p.element {
        Element::Histogram => {
            let h = p.histogram.as_ref()?;
            let b = h.buckets.get(p.hist_cursor)?;
            Some(b.start + h.interval / 2)
        }
        Element::Table => p.selected_record()?.timestamp,
    }
}

/// Updates the instant marked in the other panes after the focused pane's cursor moved, and
/// scrolls each other linked pane of the tab so its nearest line is in view.
pub fn sync_instant(app: &mut App) {
    let Some(time) = cursor_time(app.pane()) else {
        app.instant = None;
        return;
    };
    let pane = app.pane().id;
    app.instant = Some(Instant { pane, time });
    let screen = layout::screen_layout(app);
    for (i, area) in screen.panes {
        if i == app.focus || !app.panes[i].linked {
            continue;
        }
        let rows = layout::table_body(layout::pane_layout(app, i, area, screen.status).table).height as usize;
        let p = &mut app.panes[i];
        if let Some(row) = nearest_row(p, time)
            && (row < p.offset || row >= p.offset + rows.max(1))
        {
            p.offset = row.saturating_sub(rows / 2);
        }
    }
}

/// The loaded record of a pane nearest in time to `time` (records are newest first).
pub fn nearest_row(p: &Pane, time: Nanos) -> Option<usize> {
    if p.records.is_empty() {
        return None;
    }
    let after = p.records.partition_point(|r| r.timestamp.is_some_and(|t| t > time));
    let candidates = [after.checked_sub(1), (after < p.records.len()).then_some(after)];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|i| Some((p.records[i].timestamp?.abs_diff(time), i)))
        .min()
        .map(|(_, i)| i)
}

/// A pane's range as the workspace file writes it.
fn range_file(range: RangeSpec) -> Option<RangeSpecFile> {
    match range {
        RangeSpec::All => None,
        RangeSpec::Last(d) => Some(RangeSpecFile { last: Some(logsleuth_core::time::format_duration(d)), ..Default::default() }),
        RangeSpec::Absolute(r) => Some(RangeSpecFile {
            last: None,
            from: r.from.map(logsleuth_core::time::format_rfc3339),
            to: r.to.map(logsleuth_core::time::format_rfc3339),
        }),
    }
}

/// The workspace as a file: every tab and pane. Panes whose source cannot be reopened (stdin)
/// are left out, with a warning.
pub fn workspace_file(app: &App) -> (WorkspaceFile, Vec<String>) {
    let mut warnings = Vec::new();
    let mut panes = Vec::new();
    let mut index_of = std::collections::HashMap::new();
    for p in &app.panes {
        let Some(source) = p.origin.clone() else {
            warnings.push(format!("pane '{}' reads stdin and is not saved", p.title()));
            continue;
        };
        index_of.insert(p.id, panes.len());
        panes.push(PaneFile {
            source,
            query: p.applied.text.clone(),
            language: if p.applied.language == QueryLanguage::Native { "native".into() } else { String::new() },
            columns: if p.auto_columns { Vec::new() } else { p.columns.clone() },
            range: range_file(p.range),
            linked: p.linked,
        });
    }
    let mut tabs = Vec::new();
    let mut shown = 0;
    for (t, tab) in app.tabs.iter().enumerate() {
        let mut root = tab.root.clone();
        for id in tab.root.panes() {
            if !index_of.contains_key(&id) {
                root.remove(id);
            }
        }
        let ids = root.panes();
        if ids.iter().any(|id| !index_of.contains_key(id)) {
            continue; // only unsaveable panes in it
        }
        let layout = renumber(&root, &index_of);
        let focus = index_of.get(&tab.focus).copied().unwrap_or_else(|| index_of[&ids[0]]);
        if t == app.tab {
            shown = tabs.len();
        }
        tabs.push(TabFile { focus, layout });
    }
    let marks = app
        .marks
        .iter()
        .filter_map(|m| {
            Some(crate::workspace::MarkFile {
                pane: *index_of.get(&m.pane)?,
                time: logsleuth_core::time::format_rfc3339(m.time),
                end: m.end.map(logsleuth_core::time::format_rfc3339),
                note: m.note.clone(),
                line: m.line.as_ref().map(|r| r.message.clone()),
                fields: m.fields.clone(),
                count: m.count,
            })
        })
        .collect();
    (WorkspaceFile { tab: shown, panes, tabs, marks }, warnings)
}

fn renumber(tile: &super::tiles::Tile, index_of: &std::collections::HashMap<PaneId, usize>) -> super::tiles::Tile {
    use super::tiles::Tile;
    match tile {
        Tile::Pane(id) => Tile::Pane(index_of.get(id).copied().unwrap_or(0)),
        Tile::Split { direction, ratio, first, second } => Tile::Split {
            direction: *direction,
            ratio: *ratio,
            first: Box::new(renumber(first, index_of)),
            second: Box::new(renumber(second, index_of)),
        },
    }
}

/// Saves the workspace under its name (`--workspace NAME`, else `default`).
pub fn save_workspace(app: &mut App) -> Vec<Effect> {
    let (file, warnings) = workspace_file(app);
    if file.panes.is_empty() {
        app.message = Some("nothing to save: no pane can be reopened (stdin)".into());
        return vec![];
    }
    if let Some(w) = warnings.first() {
        app.message = Some(w.clone());
    }
    let name = app.workspace.clone().unwrap_or_else(|| "default".into());
    app.workspace = Some(name.clone());
    vec![Effect::SaveWorkspace { name, file: Box::new(file) }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::Record;

    fn pane_with_times(times: &[Nanos]) -> Pane {
        let mut p = Pane::new(opening_info("x".into()), RangeSpec::All, "");
        p.records = times
            .iter()
            .map(|t| {
                let mut r = Record::plain("line");
                r.timestamp = Some(*t);
                r
            })
            .collect();
        p
    }

    #[test]
    fn the_group_prefix_is_the_last_word_after_the_cloudwatch_keyword() {
        use crate::app::log_group_prefix;
        assert_eq!(log_group_prefix("cw"), None);
        assert_eq!(log_group_prefix("cw "), Some(""));
        assert_eq!(log_group_prefix("  cloudwatch /aws/la"), Some("/aws/la"));
        assert_eq!(log_group_prefix("cw /a /b"), Some("/b"));
        assert_eq!(log_group_prefix("cw /a "), Some(""));
        assert_eq!(log_group_prefix("/var/log/cw x"), None);
        assert_eq!(log_group_prefix("loki http://x {job=\"a\"}"), None);
    }

    #[test]
    fn the_group_browser_lists_what_is_typed_and_opens_on_the_panes_account() {
        use logsleuth_sources::spec::CloudWatchSpec;
        let mut app = App::new(opening_info("cw".into()), None, None, crate::theme::Theme::default(), crate::history::History::default(), 0);
        let account = CloudWatchSpec {
            groups: vec!["/shop/web".into()],
            region: Some("eu-west-1".into()),
            endpoint: Some("http://127.0.0.1:5000".into()),
            stream_prefix: Some("web-".into()),
            ..CloudWatchSpec::default()
        };
        app.panes[0].origin = Some(SourceSpec::CloudWatch(account.clone()));
        open_picker(&mut app, Placement::SideBySide);
        let mut asked = Vec::new();
        for c in "cw /shop/a".chars() {
            for e in crate::features::query::input(&mut app, c) {
                match e {
                    Effect::ListLogGroups { endpoint, prefix } => asked.push((endpoint, prefix)),
                    other => panic!("{other:?}"),
                }
            }
        }
        // One listing per prefix typed after "cw ", on the pane's region and endpoint.
        let expected_account = CloudWatchSpec { groups: vec![], stream_prefix: None, ..account.clone() };
        let prefixes: Vec<&str> = asked.iter().map(|(_, p)| p.as_str()).collect();
        assert_eq!(prefixes, ["", "/", "/s", "/sh", "/sho", "/shop", "/shop/", "/shop/a"]);
        let endpoint = logsleuth_sources::cloudwatch::Endpoint {
            region: Some("eu-west-1".into()),
            profile: None,
            endpoint: Some("http://127.0.0.1:5000".into()),
        };
        assert!(asked.iter().all(|(e, _)| *e == endpoint), "{asked:?}");
        // A late answer for an older prefix is dropped; the current one lists the groups first.
        log_groups_listed(&mut app, "/shop/".into(), Ok(vec!["/shop/web".into()]));
        assert!(app.source_picker.groups.loading);
        log_groups_listed(&mut app, "/shop/a".into(), Ok(vec!["/shop/api".into(), "/shop/auth".into()]));
        assert_eq!(
            app.source_choices(),
            vec![SourceChoice::LogGroup("/shop/api".into()), SourceChoice::LogGroup("/shop/auth".into()), SourceChoice::Typed("cw /shop/a".into())]
        );
        app.source_picker.cursor = 1;
        let effects = pick(&mut app);
        let opened = effects.iter().find_map(|e| match e {
            Effect::OpenSource { request: OpenRequest::Spec(spec), .. } => Some((**spec).clone()),
            _ => None,
        });
        assert_eq!(opened, Some(SourceSpec::CloudWatch(CloudWatchSpec { groups: vec!["/shop/auth".into()], ..expected_account.clone() })));
        // A typed group with no account of its own opens on the same one; a failed listing says why.
        open_picker(&mut app, Placement::Below);
        crate::features::query::input(&mut app, 'c');
        crate::features::query::input(&mut app, 'w');
        crate::features::query::input(&mut app, ' ');
        log_groups_listed(&mut app, "".into(), Err("cannot reach DescribeLogGroups".into()));
        assert_eq!(app.source_picker.groups.error.as_deref(), Some("cannot reach DescribeLogGroups"));
        for c in "/shop/db".chars() {
            crate::features::query::input(&mut app, c);
        }
        app.source_picker.cursor = app.source_choices().len() - 1;
        let opened = pick(&mut app).into_iter().find_map(|e| match e {
            Effect::OpenSource { request: OpenRequest::Spec(spec), .. } => Some(*spec),
            _ => None,
        });
        assert_eq!(opened, Some(SourceSpec::CloudWatch(CloudWatchSpec { groups: vec!["/shop/db".into()], ..expected_account })));
    }

    #[test]
    fn an_empty_first_page_is_asked_again_while_a_large_file_is_indexed() {
        use logsleuth_core::time::NS_PER_SEC;
        use logsleuth_sources::Progress;
        let mut app = App::new(opening_info("big.log".into()), None, None, crate::theme::Theme::default(), crate::history::History::default(), 0);
        let id = app.panes[0].id;
        let searches = |effects: &[Effect]| effects.iter().filter(|e| matches!(e, Effect::Search { .. } | Effect::ResolveRange { .. })).count();
        app.now = 10 * NS_PER_SEC;
        let effects = crate::update::pane_progress(&mut app, id, Some(Progress { done: 1, total: 100 }));
        assert_eq!(searches(&effects), 1, "{effects:?}");
        // Not again within the second, nor while that search runs.
        app.panes[0].loading.search = false;
        app.now += NS_PER_SEC / 2;
        assert_eq!(searches(&crate::update::pane_progress(&mut app, id, Some(Progress { done: 2, total: 100 }))), 0);
        app.now += NS_PER_SEC;
        app.panes[0].loading.search = true;
        assert_eq!(searches(&crate::update::pane_progress(&mut app, id, Some(Progress { done: 3, total: 100 }))), 0);
        // Rows on screen: left as they are until indexing ends.
        app.panes[0].loading.search = false;
        app.panes[0].records = vec![Record::plain("a line")];
        app.now += 2 * NS_PER_SEC;
        assert_eq!(searches(&crate::update::pane_progress(&mut app, id, Some(Progress { done: 4, total: 100 }))), 0);
        assert_eq!(searches(&crate::update::pane_progress(&mut app, id, None)), 1, "indexing done");
    }

    #[test]
    fn the_nearest_row_is_found_in_newest_first_records() {
        let p = pane_with_times(&[100, 80, 60, 40, 20]);
        assert_eq!(nearest_row(&p, 81), Some(1));
        assert_eq!(nearest_row(&p, 71), Some(1));
        assert_eq!(nearest_row(&p, 69), Some(2));
        assert_eq!(nearest_row(&p, 500), Some(0));
        assert_eq!(nearest_row(&p, 0), Some(4));
        assert_eq!(nearest_row(&pane_with_times(&[]), 5), None);
    }
}
