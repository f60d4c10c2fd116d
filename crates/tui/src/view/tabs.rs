//! The tab bar, shown when there is more than one tab: each tab's number and its panes'
//! sources, the shown tab highlighted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;

/// A tab's label: `2: nginx · app-errors`.
pub fn tab_label(app: &App, tab: usize) -> String {
    let names: Vec<String> = app.tabs[tab]
        .root
        .panes()
        .into_iter()
        .filter_map(|id| app.pane_index(id))
        .map(|i| super::safe_middle(&app.panes[i].title(), 24))
        .collect();
    format!("{}: {}", tab + 1, names.join(" · "))
}

/// Draws the tab bar.
pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme;
    let mut spans = Vec::new();
    for tab in 0..app.tabs.len() {
        let style = if tab == app.tab { theme.selection } else { theme.muted };
        spans.push(Span::styled(format!(" {} ", tab_label(app, tab)), style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
