//! The key help: every binding by screen, scrollable.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{block, layout};
use crate::app::App;
use crate::keymap::help_sections;

/// The help text as lines (also used to size the popup): the table of named actions by
/// section, with the keys in effect ([`crate::keymap::help_sections`]).
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let sections = help_sections(&app.keymap);
    let key_w = sections.iter().flat_map(|s| s.lines.iter()).map(|l| l.keys.chars().count()).max().unwrap_or(10);
    let mut out = Vec::new();
    for section in sections {
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.push(Line::from(Span::styled(section.title, theme.title)));
        for line in section.lines {
            let k = line.keys;
            out.push(Line::from(vec![
                Span::styled(format!("  {k:<key_w$}  "), theme.key),
                Span::styled(line.text.to_string(), theme.text),
            ]));
        }
    }
    out
}

/// Draws the help popup.
pub fn render(frame: &mut Frame, app: &App) {
    let area = layout::centered(layout::overlay_area(app), 100, app.viewport.height.saturating_sub(4));
    let lines = lines(app);
    let max_scroll = lines.len().saturating_sub(area.height.saturating_sub(2) as usize);
    let scroll = app.help_scroll.min(max_scroll) as u16;
    let p = Paragraph::new(lines).block(block(&app.theme, " Keys (j/k scroll, Esc close) ", true)).scroll((scroll, 0));
    frame.render_widget(Clear, area);
    frame.render_widget(p, area);
}
