//! The source picker: which source a new pane or tab shows (the focused pane's source again,
//! a configured source, the demo, or a typed path / server).

use ratatui::Frame;
use ratatui::text::{Line, Span};

use super::{key_hints, layout, popup, safe};
use crate::app::{App, Placement, SourceChoice};

/// How a choice reads in the list.
pub fn choice_label(app: &App, choice: &SourceChoice) -> String {
    match choice {
        SourceChoice::Same => format!("same source: {}", app.pane().title()),
        SourceChoice::Named(name) => format!("configured: {name}"),
        SourceChoice::Demo => "demo: bundled nginx sample with live lines".into(),
        SourceChoice::Typed(text) => format!("open: {text}"),
        SourceChoice::LogGroup(name) => format!("log group: {name}"),
    }
}

/// Draws the picker popup.
pub fn render(frame: &mut Frame, app: &App) {
    let theme = &app.theme;
    let p = &app.source_picker;
    let title = match p.placement {
        Placement::SideBySide => " New pane on the right: source ",
        Placement::Below => " New pane below: source ",
        Placement::NewTab => " New tab: source ",
    };
    let width = 72u16.min(app.viewport.width);
    let text_width = width.saturating_sub(6) as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled(" › ", theme.accent),
        Span::styled(safe(&p.input.text, text_width), theme.text),
        Span::styled(" ", theme.selection),
    ])];
    lines.push(Line::from(Span::styled(" filter, or type: path, loki URL {sel}, es URL [idx], cloudwatch GROUP", theme.muted)));
    let choices = app.source_choices();
    // Twelve at a time, scrolled to keep the highlighted one in view (the group browser lists up to 50).
    let first = p.cursor.saturating_sub(11);
    for (i, choice) in choices.iter().enumerate().skip(first).take(12) {
        let style = if i == p.cursor { theme.selection } else { theme.text };
        lines.push(Line::from(Span::styled(format!(" {}", safe(&choice_label(app, choice), text_width)), style)));
    }
    let groups = &p.groups;
    if let Some(prefix) = &groups.prefix {
        let status = if groups.loading {
            Some(("listing log groups…".to_string(), theme.muted))
        } else if let Some(e) = &groups.error {
            Some((format!("log groups: {e}"), theme.error))
        } else if groups.names.is_empty() {
            Some((if prefix.is_empty() { "no log groups".to_string() } else { format!("no log group starts with {prefix}") }, theme.muted))
        } else if groups.names.len() >= crate::app::LOG_GROUPS_LISTED {
            Some((format!("the first {} log groups: type more of the name", groups.names.len()), theme.muted))
        } else {
            None
        };
        if let Some((text, style)) = status {
            lines.push(Line::from(Span::styled(format!(" {}", safe(&text, text_width)), style)));
        }
    }
    if let Some(e) = &p.error {
        lines.push(Line::from(Span::styled(format!(" {}", safe(e, text_width)), theme.error)));
    }
    lines.push(key_hints(theme, &[("Enter", "open"), ("↑↓", "choose"), ("Esc", "cancel")]));
    let area = popup(frame, theme, layout::overlay_area(app), width, title, lines);
    // The text cursor, for terminals that show it.
    let x = area.x + 4 + p.input.cursor.min(text_width) as u16;
    if x < area.x + area.width.saturating_sub(1) {
        frame.set_cursor_position(ratatui::layout::Position::new(x, area.y + 1));
    }
}
