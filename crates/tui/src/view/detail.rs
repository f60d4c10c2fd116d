//! A record's detail: every field (name, value, origin) on the left, the pretty JSON on the
//! right, in full (long values wrap instead of being cut), with the filter actions.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{block, key_hints, safe, thousands};
use logsleuth_sources::FieldOrigin;
use crate::app::{App, ContextState, DetailView, detail_rows};
use crate::theme::Theme;

/// Draws the detail view over `area`.
pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let pane = app.pane();
    let Some(d) = app.detail.as_ref() else { return };
    let Some(record) = pane.records.get(d.index) else { return };
    let [main, hints] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    if d.view == DetailView::Context {
        render_context(frame, app, d.context.as_ref(), main);
        let hint = key_hints(theme, &[("j k", "move"), ("Tab", "fields"), ("Esc", "back to the record")]);
        frame.render_widget(Paragraph::new(hint), hints);
        return;
    }
    let rows = detail_rows(record);
    let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main);

    let title = format!(" Document {} of {} loaded ", thousands(d.index as u64 + 1), thousands(pane.records.len() as u64));
    let b = block(theme, title, d.view == DetailView::Fields);
    let inner = b.inner(left);
    frame.render_widget(b, left);
    let name_w = rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(0).max(8).min((inner.width / 3) as usize);
    let val_w = (inner.width as usize).saturating_sub(name_w + 4);
    let h = inner.height as usize;
    let top = if d.cursor >= h { d.cursor + 1 - h } else { 0 };
    let buf = frame.buffer_mut();
    for (i, row) in rows.iter().enumerate().skip(top).take(h) {
        let y = inner.y + (i - top) as u16;
        let selected = i == d.cursor;
        let origin = match row.origin {
            FieldOrigin::Field => " ",
            FieldOrigin::Label => "L",
            FieldOrigin::Metadata => "M",
        };
        let is_col = pane.columns.contains(&row.name);
        let line = Line::from(vec![
            Span::styled(origin, theme.muted),
            Span::styled(if is_col { "▪" } else { " " }, theme.accent),
            Span::styled(format!("{:<name_w$} ", safe(&row.name, name_w)), theme.field_name),
            Span::styled(safe(&row.value.as_text(), val_w), theme.text),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
        if selected {
            let style = if d.view == DetailView::Fields { theme.selection } else { theme.highlight };
            buf.set_style(Rect::new(inner.x, y, inner.width, 1), style);
        }
    }

    let b = block(theme, " JSON ", d.view == DetailView::Json);
    let json = serde_json::to_string_pretty(&record.to_json()).unwrap_or_default();
    let lines: Vec<Line> = json.lines().map(|l| json_line(theme, l)).collect();
    let p = Paragraph::new(lines).block(b).wrap(Wrap { trim: false }).scroll((d.scroll.min(u16::MAX as usize) as u16, 0));
    frame.render_widget(p, right);

    let hint = key_hints(
        theme,
        &[
            ("+", "filter for"),
            ("-", "filter out"),
            ("t", "toggle column"),
            ("e", "exists"),
            ("Tab", "fields/JSON"),
            ("n p", "next/prev"),
            ("x", "context"),
            ("Esc", "close"),
        ],
    );
    frame.render_widget(Paragraph::new(hint), hints);
}

/// The records around the detail view's record, in the source's order, the record itself marked.
fn render_context(frame: &mut Frame, app: &App, context: Option<&ContextState>, area: Rect) {
    let theme = &app.theme;
    let title = match context {
        Some(c) if c.loading => " Context · loading… ".to_string(),
        Some(c) => {
            let before = c.anchor.unwrap_or(0);
            let after = c.anchor.map_or(0, |a| c.records.len().saturating_sub(a + 1));
            format!(" Context · {before} before · {after} after ")
        }
        None => " Context ".to_string(),
    };
    let b = block(theme, title, true);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let Some(c) = context else { return };
    let buf = frame.buffer_mut();
    if let Some(e) = &c.error {
        buf.set_stringn(inner.x + 1, inner.y, safe(e, 500), inner.width.saturating_sub(1) as usize, theme.error);
        return;
    }
    let h = inner.height as usize;
    // Keep the cursor in view, centred when possible (the record itself starts in the middle).
    let top = c.cursor.saturating_sub(h / 2).min(c.records.len().saturating_sub(h));
    let width = inner.width as usize;
    for (i, r) in c.records.iter().enumerate().skip(top).take(h) {
        let y = inner.y + (i - top) as u16;
        let anchor = c.anchor == Some(i);
        let time = r.timestamp.map(logsleuth_core::time::format_rfc3339).unwrap_or_default();
        let line = Line::from(vec![
            Span::styled(if anchor { "▶ " } else { "  " }, theme.accent),
            Span::styled(format!("{time:<30} "), theme.muted),
            Span::styled(safe(&r.message, width.saturating_sub(33)), if anchor { theme.accent } else { theme.text }),
        ]);
        buf.set_line(inner.x, y, &line, inner.width);
        if i == c.cursor {
            buf.set_style(Rect::new(inner.x, y, inner.width, 1), theme.selection);
        }
    }
}

/// Colours one line of pretty JSON (key, then the value by its first character). The text is
/// sanitized: JSON escapes control characters, but not bidi overrides or C1 controls.
fn json_line<'a>(theme: &Theme, line: &str) -> Line<'a> {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let mut spans = vec![Span::raw(" ".repeat(indent))];
    let value = if rest.starts_with('"')
        && let Some(colon) = rest.find("\": ")
    {
        spans.push(Span::styled(safe(&rest[..colon + 1], usize::MAX), theme.json_key));
        spans.push(Span::raw(": "));
        &rest[colon + 3..]
    } else {
        rest
    };
    let style: Style = match value.chars().next() {
        Some('"') => theme.json_string,
        Some(c) if c == '-' || c.is_ascii_digit() => theme.json_number,
        Some('t' | 'f' | 'n') => theme.json_literal,
        _ => theme.text,
    };
    spans.push(Span::styled(safe(value, usize::MAX), style));
    Line::from(spans)
}
