//! The query bar: editing, completion, submitting, the query language, and filters added from values (filter for / out / exists).

use crate::action::{Action, Effect};
use crate::app::*;
use crate::complete;
use crate::update::*;
use crate::features::{charts::*, detail::*, histogram::*, time_picker::*};
use logsleuth_sources::{Query, QueryLanguage};

pub(crate) fn input(app: &mut App, c: char) -> Vec<Effect> {
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
            crate::panes::picker_edited(app)
        }
        _ => vec![],
    }
}

pub(crate) fn edit(app: &mut App, action: &Action) -> Vec<Effect> {
    let editor = match app.mode {
        Mode::Query => &mut app.panes[app.focus].editor,
        Mode::TimePicker if app.picker.field == 1 => &mut app.picker.from,
        Mode::TimePicker if app.picker.field == 2 => &mut app.picker.to,
        Mode::SourcePicker => &mut app.source_picker.input,
        _ => return vec![],
    };
    editor.apply(action);
    match app.mode {
        Mode::Query => refresh_completion(app),
        Mode::SourcePicker => crate::panes::picker_edited(app),
        _ => vec![],
    }
}

/// Recomputes the query's syntax error and the autocomplete list; may ask for a field's values.
pub(crate) fn refresh_completion(app: &mut App) -> Vec<Effect> {
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
pub(crate) fn pane_syntax_error(pane: &crate::app::Pane) -> Option<logsleuth_kql::KqlError> {
    match pane.language {
        QueryLanguage::Kql => syntax_error(&pane.editor.text),
        QueryLanguage::Native => None,
    }
}

/// Switches the focused pane's query bar between KQL and the native language.
pub(crate) fn toggle_language(app: &mut App) -> Vec<Effect> {
    let p = app.pane_mut();
    p.language = match p.language {
        QueryLanguage::Kql => QueryLanguage::Native,
        QueryLanguage::Native => QueryLanguage::Kql,
    };
    p.query_error = None;
    app.completion = Completion::default();
    if app.mode == Mode::Query { refresh_completion(app) } else { vec![] }
}

pub(crate) fn accept_completion(app: &mut App) -> Vec<Effect> {
    let Some(ctx) = app.completion.context.clone() else { return vec![] };
    let Some(item) = app.completion.items.get(app.completion.selected).cloned() else { return vec![] };
    let p = app.pane_mut();
    let end = ctx.end.max(p.editor.cursor);
    p.editor.replace(ctx.start, end, &item.insert);
    app.completion = Completion::default();
    refresh_completion(app)
}

pub(crate) fn submit(app: &mut App) -> Vec<Effect> {
    let pane = app.focus;
    match app.mode {
        Mode::SourcePicker => crate::panes::pick(app),
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
        Mode::Thread | Mode::Watches | Mode::Patterns | Mode::Comparison => vec![],
        Mode::Help => {
            app.mode = app.previous_mode;
            vec![]
        }
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

pub(crate) fn add_filter(app: &mut App, kind: FilterKind) -> Vec<Effect> {
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
    add_clause(app, &clause)
}

/// And-s `clause` onto the focused pane's KQL query, shows it in the query bar (editable) and
/// runs it: the one way every filter-for / filter-out (sidebar, detail, charts, pattern and
/// comparison views) changes a query.
pub(crate) fn add_clause(app: &mut App, clause: &str) -> Vec<Effect> {
    let pane = app.focus;
    let text = and_clause(&app.pane().applied.text, clause);
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

/// The field under the cursor in the detail view, the sidebar or the charts.
pub(crate) fn current_field(app: &App) -> Option<String> {
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

pub(crate) fn current_value(app: &App) -> Option<String> {
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
