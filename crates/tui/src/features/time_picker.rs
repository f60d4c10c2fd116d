//! The time picker: applying the chosen range.

use crate::action::Effect;
use crate::app::*;
use crate::update::*;
use logsleuth_core::model::TimeRange;

pub(crate) fn apply_picker(app: &mut App) -> Vec<Effect> {
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
    effects.extend(crate::panes::propagate_range(app, pane));
    effects
}
