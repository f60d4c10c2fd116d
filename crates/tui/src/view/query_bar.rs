//! The query bar: KQL text with the cursor, the time range on the right, the syntax error
//! underneath with a caret at its position, and the autocomplete popup.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, List, ListItem, ListState, Paragraph};

use crate::layout::MainLayout;
use super::{block, safe};
use crate::app::{App, Mode};

/// Most suggestions shown at once.
const POPUP_ROWS: usize = 8;

/// The first char shown so the cursor stays visible in `width` columns.
pub fn scroll_for(cursor: usize, width: usize) -> usize {
    if width == 0 { 0 } else { cursor.saturating_sub(width.saturating_sub(1)) }
}

/// Draws the query bar, its error line and the completion popup.
pub fn render(frame: &mut Frame, app: &App, index: usize, l: &MainLayout) {
    let theme = &app.theme;
    let pane = &app.panes[index];
    let is_focus = index == app.focus;
    let editing = is_focus && app.mode == Mode::Query;
    let several = app.current_tab().root.panes().len() > 1 && !app.current_tab().maximised;
    let range = Line::from(vec![
        Span::styled(" ", theme.muted),
        Span::styled(pane.range.label(), theme.accent),
        Span::styled(if pane.zoom_stack.is_empty() { " ".to_string() } else { format!(" (zoom {}) ", pane.zoom_stack.len()) }, theme.muted),
        Span::styled(if pane.linked || app.panes.len() < 2 { "" } else { "unlinked " }, theme.warning),
    ])
    .right_aligned();
    let mut title = vec![Span::raw(" Query "), Span::styled(format!("({}) ", pane.language_name()), theme.muted)];
    if several || app.tabs.len() > 1 || app.current_tab().maximised {
        // Which source this pane shows; the focused pane's name stands out.
        let name = super::safe_middle(&pane.title(), (l.query.width as usize / 3).max(8));
        title.push(Span::styled(format!("· {name} "), if is_focus { theme.accent } else { theme.muted }));
    }
    let title = Line::from(title);
    let b = block(theme, title, editing).title_top(range);
    let inner = b.inner(l.query);
    frame.render_widget(b, l.query);

    let width = inner.width as usize;
    let text = &pane.editor.text;
    let chars: Vec<char> = text.chars().collect();
    let start = scroll_for(pane.editor.cursor, width.saturating_sub(1));
    let line = if text.is_empty() && !editing {
        Line::from(Span::styled("press / to filter with KQL, e.g. status >= 500 and method:GET", theme.muted))
    } else {
        let visible: String = chars.iter().skip(start).take(width).collect();
        let mut spans = Vec::new();
        let shown = safe(&visible, width);
        if editing {
            // Draw the cursor as a reversed cell too, so it shows in snapshots and on
            // terminals that hide the hardware cursor.
            let cur = pane.editor.cursor - start;
            let before: String = shown.chars().take(cur).collect();
            let at: String = shown.chars().nth(cur).map(String::from).unwrap_or_else(|| " ".into());
            let after: String = shown.chars().skip(cur + 1).collect();
            spans.push(Span::styled(before, theme.text));
            spans.push(Span::styled(at, theme.selection));
            spans.push(Span::styled(after, theme.text));
        } else {
            spans.push(Span::styled(shown, theme.text));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), inner);
    if editing {
        let x = inner.x + (pane.editor.cursor - start).min(width.saturating_sub(1)) as u16;
        frame.set_cursor_position(Position::new(x, inner.y));
    }

    if let (Some(area), Some(err)) = (l.error, pane.query_error.as_ref()) {
        let message = err.message.lines().next().unwrap_or("");
        let line = match err.offset {
            Some(off) => {
                let col = (off.saturating_sub(start)).min(width.saturating_sub(1));
                Line::from(vec![
                    Span::raw(" ".repeat(col + 1)),
                    Span::styled("^ ", theme.error),
                    Span::styled(safe(message, 200), theme.error),
                ])
            }
            None => Line::from(Span::styled(format!(" {}", safe(message, 200)), theme.error)),
        };
        frame.render_widget(Paragraph::new(line), area);
    }

    if editing && !app.completion.items.is_empty() {
        render_popup(frame, app, inner, start);
    }
}

fn render_popup(frame: &mut Frame, app: &App, inner: Rect, scroll: usize) {
    let theme = &app.theme;
    let c = &app.completion;
    let start_col = c.context.as_ref().map_or(0, |ctx| ctx.start.saturating_sub(scroll));
    let label_width = c.items.iter().map(|s| s.label.chars().count()).max().unwrap_or(0).min(60);
    let width = (label_width + 10) as u16;
    let rows = c.items.len().min(POPUP_ROWS) as u16;
    let screen = app.viewport;
    let x = (inner.x + start_col as u16).min(screen.width.saturating_sub(width));
    let area = Rect { x, y: inner.y + 2, width: width.min(screen.width), height: (rows + 2).min(screen.height.saturating_sub(inner.y + 2)) };
    let items: Vec<ListItem> = c
        .items
        .iter()
        .map(|s| {
            let kind = if s.is_field { "field" } else { "value" };
            ListItem::new(Line::from(vec![
                Span::styled(format!("{:<w$}", safe(&s.label, label_width), w = label_width), theme.text),
                Span::styled(format!(" {kind}"), theme.muted),
            ]))
        })
        .collect();
    let title = if c.items.first().is_some_and(|s| s.is_field) { " fields " } else { " values " };
    let list = List::new(items).block(block(theme, title, true)).highlight_style(theme.selection);
    let mut state = ListState::default().with_selected(Some(c.selected));
    frame.render_widget(Clear, area);
    frame.render_stateful_widget(list, area, &mut state);
}
