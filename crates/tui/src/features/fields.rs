//! The field sidebar's exact values: the selected field's top values over the whole query and
//! range, asked of the backend on a key, shown in place of the loaded sample (which stays the
//! instant view, as Kibana's "top 5 of 500 records").

use crate::action::Effect;
use crate::app::*;
use crate::update::current_query;
use logsleuth_sources::TopRequest;

/// How many exact values the sidebar shows.
pub const EXACT_SIZE: usize = 5;

/// `x` in the sidebar: exact values of the selected field, or back to the sample.
pub(crate) fn toggle_exact(app: &mut App, i: usize) -> Vec<Effect> {
    let p = &mut app.panes[i];
    let Some(field) = p.field_stats.get(p.field_cursor).map(|f| f.name.clone()) else { return vec![] };
    if p.exact_values.as_ref().is_some_and(|e| e.field == field) {
        p.exact_values = None;
        return vec![];
    }
    p.exact_values = Some(ExactValues { field, generation: p.generation, result: None });
    exact_effect(app, i).into_iter().collect()
}

/// The request for the exact values shown, for the pane's current generation (a new query
/// asks again, so they always describe the query on screen).
pub(crate) fn exact_effect(app: &mut App, i: usize) -> Option<Effect> {
    let (query, range) = current_query(app, i);
    let p = &mut app.panes[i];
    let exact = p.exact_values.as_mut()?;
    exact.generation = p.generation;
    exact.result = None;
    Some(Effect::Top {
        pane: p.id,
        generation: p.generation,
        request: TopRequest { query, range, field: exact.field.clone(), size: EXACT_SIZE },
        distinct: true,
    })
}

/// Takes a top-values answer when it is the one the exact values wait for.
pub(crate) fn exact_done(p: &mut Pane, generation: u64, field: &str, result: &Result<logsleuth_core::model::TopResult, String>) {
    if let Some(e) = p.exact_values.as_mut()
        && e.field == field
        && e.generation == generation
        && e.result.is_none()
    {
        e.result = Some(result.clone());
    }
}
