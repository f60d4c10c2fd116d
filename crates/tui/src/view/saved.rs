//! The saved-search picker: a fuzzy filter over the configuration's and the user's searches.

use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::{fit_width, key_hints, layout, popup, safe};
use crate::app::App;
use crate::investigate::filtered_searches;
use crate::saved::Origin;

/// Draws the picker.
pub fn render(frame: &mut Frame, app: &App) {
    let theme = &app.theme;
    let outer = layout::overlay_area(app);
    let width = outer.width.saturating_sub(8).clamp(40, 100);
    let inner_w = width as usize - 2;
    let visible = (outer.height.saturating_sub(10) as usize).max(3);
    let picker = &app.investigate.picker;
    let mut field = super::prompt::editor_line(theme, &picker.filter.text, picker.filter.cursor, inner_w - 10);
    field.spans.insert(0, Span::styled(" filter: ", theme.accent));
    let mut lines = vec![field, Line::raw("")];
    let list = filtered_searches(app);
    if list.is_empty() {
        let none = if app.investigate.config_searches.is_empty() && app.investigate.searches.is_empty() {
            " No saved searches yet: S on the main screen saves the current one."
        } else {
            " Nothing matches the filter."
        };
        lines.push(Line::from(Span::styled(none, theme.muted)));
    }
    let start = (picker.cursor + 1).saturating_sub(visible);
    for (i, s) in list.iter().enumerate().skip(start).take(visible) {
        let selected = i == picker.cursor;
        let origin = if s.origin == Origin::Config { "config" } else { "saved " };
        let name = fit_width(&safe(&s.name, 200), 24).into_owned();
        let text = format!(" {origin}  {name:<24}  {}", safe(&s.summary(), 400));
        let style = if selected { theme.selection } else { theme.text };
        lines.push(Line::from(Span::styled(format!("{:<inner_w$}", fit_width(&text, inner_w)), style)));
    }
    lines.push(Line::raw(""));
    lines.push(key_hints(theme, &[("Enter", "apply and run"), ("↑ ↓", "select"), ("Esc", "close")]));
    popup(frame, theme, outer, width, format!(" Saved searches ({}) ", list.len()), lines);
}
