//! Where each element of the main screen sits, as a pure function of the state. The reducer
//! uses the same rectangles for paging and mouse hit-testing as the views use for drawing.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::{App, Mode};

/// Width of the field sidebar.
pub const SIDEBAR_WIDTH: u16 = 32;
/// Terminal width from which the sidebar is always shown.
pub const SIDEBAR_MIN_SCREEN: u16 = 100;
/// Width of the histogram's y-axis labels.
pub const Y_AXIS_WIDTH: u16 = 7;

/// Rectangles of the main screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MainLayout {
    /// The query bar (bordered, 3 rows).
    pub query: Rect,
    /// The line under the query bar that shows a syntax error.
    pub error: Option<Rect>,
    /// The field sidebar.
    pub sidebar: Option<Rect>,
    /// The histogram block.
    pub histogram: Option<Rect>,
    /// The table block.
    pub table: Rect,
    /// The status line.
    pub status: Rect,
}

/// The screen: a tab bar when there are several tabs, the shown tab's panes, the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenLayout {
    /// The tab bar (one row), when there is more than one tab.
    pub tabs: Option<Rect>,
    /// Each shown pane: its index in `App::panes` and its area.
    pub panes: Vec<(usize, Rect)>,
    /// The status line.
    pub status: Rect,
}

/// Where the tab bar, the panes and the status line go.
pub fn screen_layout(app: &App) -> ScreenLayout {
    let area = app.viewport;
    let show_tabs = app.tabs.len() > 1;
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(if show_tabs { 1 } else { 0 }),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let mut panes: Vec<(usize, Rect)> =
        app.current_tab().areas(body).into_iter().filter_map(|(id, r)| Some((app.pane_index(id)?, r))).collect();
    if panes.is_empty() {
        // A state the reducer never leaves, but drawing must not depend on it.
        panes.push((app.focus.min(app.panes.len().saturating_sub(1)), body));
    }
    ScreenLayout { tabs: show_tabs.then_some(tabs), panes, status }
}

/// Computes the layout of the focused pane (the one keys and the mouse act on).
pub fn main_layout(app: &App) -> MainLayout {
    let screen = screen_layout(app);
    let area = screen.panes.iter().find(|(i, _)| *i == app.focus).map_or(screen.panes[0].1, |(_, r)| *r);
    pane_layout(app, app.focus, area, screen.status)
}

/// Computes the layout of pane `index` in `area`; `status` is the screen's status line.
pub fn pane_layout(app: &App, index: usize, area: Rect, status: Rect) -> MainLayout {
    let Some(pane) = app.panes.get(index) else {
        return MainLayout { query: area, error: None, sidebar: None, histogram: None, table: area, status };
    };
    let has_error = pane.query_error.is_some();
    let [query, error, body] =
        Layout::vertical([Constraint::Length(3), Constraint::Length(if has_error { 1 } else { 0 }), Constraint::Min(0)])
            .areas(area);
    let focused = index == app.focus;
    let show_sidebar = area.width >= SIDEBAR_MIN_SCREEN || (focused && app.mode == Mode::Fields);
    let (sidebar, main) = if show_sidebar && body.width > SIDEBAR_WIDTH + 20 {
        let [s, m] = Layout::horizontal([Constraint::Length(SIDEBAR_WIDTH), Constraint::Min(0)]).areas(body);
        (Some(s), m)
    } else {
        (None, body)
    };
    let hist_height = if main.height >= 16 { (main.height / 4).clamp(7, 12) } else { 0 };
    let [histogram, table] = Layout::vertical([Constraint::Length(hist_height), Constraint::Min(0)]).areas(main);
    MainLayout {
        query,
        error: has_error.then_some(error),
        sidebar,
        histogram: (hist_height > 0).then_some(histogram),
        table,
        status,
    }
}

/// The plotting area inside the histogram block: inside the border, right of the y-axis
/// labels, above the x-axis labels.
pub fn histogram_plot(block: Rect) -> Rect {
    let inner = inner(block);
    Rect {
        x: inner.x + Y_AXIS_WIDTH.min(inner.width),
        y: inner.y,
        width: inner.width.saturating_sub(Y_AXIS_WIDTH),
        height: inner.height.saturating_sub(1),
    }
}

/// The rows of the table below its header.
pub fn table_body(block: Rect) -> Rect {
    let inner = inner(block);
    Rect { x: inner.x, y: inner.y + 1.min(inner.height), width: inner.width, height: inner.height.saturating_sub(1) }
}

/// Inside a one-cell border.
pub fn inner(r: Rect) -> Rect {
    Rect { x: r.x + 1.min(r.width), y: r.y + 1.min(r.height), width: r.width.saturating_sub(2), height: r.height.saturating_sub(2) }
}

/// Full-screen overlays (detail, charts) cover everything but the status line.
pub fn overlay_area(app: &App) -> Rect {
    let a = app.viewport;
    Rect { height: a.height.saturating_sub(1), ..a }
}

/// A centred popup of at most `w`×`h`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// Which histogram bucket column `x` shows, for `n` buckets drawn over `plot`.
pub fn bucket_at(plot: Rect, n: usize, x: u16) -> Option<usize> {
    if n == 0 || plot.width == 0 || x < plot.x || x >= plot.x + plot.width {
        return None;
    }
    let col = (x - plot.x) as usize;
    let r = bucket_range(plot.width as usize, n, col);
    (!r.is_empty()).then_some(r.start)
}

/// The buckets column `col` of `width` shows: one bucket when buckets are fewer than columns
/// (a bucket spans several columns), else a run of buckets summed together.
pub fn bucket_range(width: usize, n: usize, col: usize) -> std::ops::Range<usize> {
    if width == 0 || n == 0 {
        return 0..0;
    }
    if n <= width {
        // A bucket spans one or more columns; the chart always fills the width.
        let b = col * n / width;
        b..b + 1
    } else {
        let start = col * n / width;
        let end = ((col + 1) * n / width).max(start + 1);
        start..end.min(n)
    }
}

/// Whether the point lies in the rectangle.
pub fn contains(r: Rect, x: u16, y: u16) -> bool {
    x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_ranges_cover_every_bucket_once() {
        for (width, n) in [(100, 60), (100, 100), (80, 250), (7, 3)] {
            let mut seen = vec![0; n];
            let mut last = None;
            for col in 0..width {
                let r = bucket_range(width, n, col);
                for b in r.clone() {
                    if last != Some(r.clone()) {
                        seen[b] += 1;
                    }
                }
                last = Some(r);
            }
            assert!(seen.iter().all(|&c| c == 1), "{width}x{n}: {seen:?}");
        }
    }

    #[test]
    fn bucket_at_maps_columns_back() {
        let plot = Rect::new(10, 0, 60, 5);
        assert_eq!(bucket_at(plot, 30, 10), Some(0));
        assert_eq!(bucket_at(plot, 30, 69), Some(29));
        assert_eq!(bucket_at(plot, 30, 70), None);
        assert_eq!(bucket_at(plot, 0, 20), None);
    }
}
