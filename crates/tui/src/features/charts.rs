//! The top-N charts screen (`c`): the requests and opening it.

use crate::action::Effect;
use crate::app::*;
use crate::update::*;
use logsleuth_sources::TopRequest;

pub(crate) fn top_effects(app: &mut App, i: usize) -> Vec<Effect> {
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
            distinct: false,
        })
        .collect()
}

pub(crate) fn open_charts(app: &mut App, i: usize, extra: Option<String>) -> Vec<Effect> {
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
