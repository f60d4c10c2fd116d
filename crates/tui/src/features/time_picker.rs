//! The time picker: applying the chosen range.

use crate::action::Effect;
use crate::app::*;
use crate::update::*;

pub(crate) fn apply_picker(app: &mut App) -> Vec<Effect> {
    let pane = app.focus;
    let spec = if app.picker.field == 0 && app.picker.cursor < QUICK_RANGES.len() {
        match QUICK_RANGES[app.picker.cursor].1 {
            Some(d) => RangeSpec::Last(d),
            None => RangeSpec::All,
        }
    } else {
        // The one range rule (logsleuth_core::time::resolve_range): a rounded end is exclusive.
        let (from, to) = (app.picker.from.text.as_str(), app.picker.to.text.as_str());
        match logsleuth_core::time::resolve_range(Some(from), Some(to), app.now, None) {
            Ok(range) => RangeSpec::Absolute(range),
            Err(logsleuth_core::time::TimeError::Reversed { .. }) => {
                app.picker.error = Some("the start must be before the end".into());
                return vec![];
            }
            Err(e) => {
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
