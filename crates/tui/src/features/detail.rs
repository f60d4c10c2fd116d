//! The document detail and the context of a line (`x`).

use crate::action::Effect;
use crate::app::*;
use logsleuth_core::model::{Record, RecordId};
use logsleuth_sources::SourceResult;

/// Asks the source for the records around the detail view's record.
pub(crate) fn show_context(app: &mut App) -> Vec<Effect> {
    let Some(index) = app.detail.as_ref().map(|d| d.index) else { return vec![] };
    let Some(record) = app.pane().records.get(index).cloned() else { return vec![] };
    if let Some(d) = app.detail.as_mut() {
        d.view = DetailView::Context;
        d.context = Some(ContextState { loading: true, ..ContextState::default() });
    }
    vec![Effect::Context { pane: app.pane().id, record: Box::new(record), lines: CONTEXT_LINES }]
}

pub(crate) fn context_done(app: &mut App, i: usize, result: SourceResult<Vec<Record>>) -> Vec<Effect> {
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

pub(crate) fn open_detail(app: &mut App) -> Vec<Effect> {
    let p = app.pane();
    if p.records.is_empty() {
        return vec![];
    }
    app.detail = Some(DetailState { index: p.selected, cursor: 0, scroll: 0, view: DetailView::Fields, context: None });
    app.mode = Mode::Detail;
    vec![]
}
