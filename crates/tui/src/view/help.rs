//! The key help: every binding by screen, scrollable. Descriptions wrap under themselves, so
//! the key column stays aligned at any width.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::{block, layout};
use crate::app::App;
use crate::keymap::help_sections;

/// Narrowest a description column gets before the popup gives up on aligning it.
const MIN_TEXT: usize = 16;

/// The help text as lines, one line per entry (unwrapped): the table of named actions by
/// section, with the keys in effect ([`crate::keymap::help_sections`]).
pub fn lines(app: &App) -> Vec<Line<'static>> {
    wrapped_lines(app, usize::MAX)
}

/// The widest line of [`lines`], in terminal columns.
pub fn natural_width(app: &App) -> usize {
    lines(app).iter().map(Line::width).max().unwrap_or(0)
}

/// The help text as lines at most `width` columns wide: each description wraps at word
/// boundaries and continues under its own first word.
pub fn wrapped_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let sections = help_sections(&app.keymap);
    let key_w = sections.iter().flat_map(|s| s.lines.iter()).map(|l| l.keys.chars().count()).max().unwrap_or(10);
    let indent = key_w + 4;
    let text_w = width.saturating_sub(indent).max(MIN_TEXT);
    let mut out = Vec::new();
    for section in sections {
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.push(Line::from(Span::styled(section.title, theme.title)));
        for line in section.lines {
            let k = line.keys;
            for (i, part) in wrap(line.text, text_w).into_iter().enumerate() {
                let lead = if i == 0 { format!("  {k:<key_w$}  ") } else { " ".repeat(indent) };
                out.push(Line::from(vec![Span::styled(lead, theme.key), Span::styled(part, theme.text)]));
            }
        }
    }
    out
}

/// Splits `text` into lines of at most `width` columns at spaces; a word longer than the
/// width is cut into pieces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar;
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && line.width() + 1 + word.width() <= width {
            line.push(' ');
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            out.push(std::mem::take(&mut line));
        }
        // A word wider than the line is cut into pieces.
        for c in word.chars() {
            if line.width() + c.width().unwrap_or(0) > width {
                out.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// Draws the help popup: as wide as its longest line when the screen has room, else the
/// whole screen, with the descriptions wrapped to fit.
pub fn render(frame: &mut Frame, app: &App) {
    let outer = layout::overlay_area(app);
    let area = layout::centered(outer, (natural_width(app) + 2) as u16, app.viewport.height.saturating_sub(4).max(3));
    let lines = wrapped_lines(app, area.width.saturating_sub(2) as usize);
    let max_scroll = lines.len().saturating_sub(area.height.saturating_sub(2) as usize);
    let scroll = app.help_scroll.min(max_scroll) as u16;
    let p = Paragraph::new(lines).block(block(&app.theme, " Keys (j/k scroll, Esc close) ", true)).scroll((scroll, 0));
    frame.render_widget(Clear, area);
    frame.render_widget(p, area);
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("open the selected row's detail", 12), ["open the", "selected", "row's detail"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("a b", 10), ["a b"]);
    }
}
