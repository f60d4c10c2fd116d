//! How panes share the screen: each tab is a binary tree of splits whose leaves are panes
//! (as in tmux and vim). Pure data and geometry; the reducer edits it and the view asks it for
//! each pane's rectangle.

use ratatui::layout::Rect;
use serde::{Deserialize, Serialize};

use super::action::PaneId;

/// Smallest share of a split either side keeps, in percent.
pub const MIN_RATIO: u16 = 15;
/// How much one resize key moves a divider, in percent.
pub const RESIZE_STEP: i16 = 5;

/// Which way a split divides its area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Side by side: a vertical divider, `first` on the left.
    Horizontal,
    /// Stacked: a horizontal divider, `first` on top.
    Vertical,
}

/// A direction to move the focus in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    /// To the pane on the left.
    Left,
    /// To the pane on the right.
    Right,
    /// To the pane above.
    Up,
    /// To the pane below.
    Down,
}

/// A node of a tab's layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tile {
    /// A pane filling the node's area.
    Pane(PaneId),
    /// Two nodes sharing the area.
    Split {
        /// Which way the area is divided.
        direction: Direction,
        /// Share of `first`, in percent.
        ratio: u16,
        /// Left or top.
        first: Box<Tile>,
        /// Right or bottom.
        second: Box<Tile>,
    },
}

impl Tile {
    /// The panes in reading order (left to right, top to bottom).
    pub fn panes(&self) -> Vec<PaneId> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<PaneId>) {
        match self {
            Tile::Pane(id) => out.push(*id),
            Tile::Split { first, second, .. } => {
                first.collect(out);
                second.collect(out);
            }
        }
    }

    /// Whether the pane is in this tree.
    pub fn contains(&self, id: PaneId) -> bool {
        match self {
            Tile::Pane(p) => *p == id,
            Tile::Split { first, second, .. } => first.contains(id) || second.contains(id),
        }
    }

    /// Splits `target`'s area in two, `target` keeping the first half and `new` taking the
    /// second. False when `target` is not in the tree.
    pub fn split(&mut self, target: PaneId, new: PaneId, direction: Direction) -> bool {
        match self {
            Tile::Pane(id) if *id == target => {
                *self = Tile::Split {
                    direction,
                    ratio: 50,
                    first: Box::new(Tile::Pane(target)),
                    second: Box::new(Tile::Pane(new)),
                };
                true
            }
            Tile::Pane(_) => false,
            Tile::Split { first, second, .. } => first.split(target, new, direction) || second.split(target, new, direction),
        }
    }

    /// Removes a pane; its sibling takes the freed area. False when the pane is not in the tree
    /// or is the only one (a tab always shows something).
    pub fn remove(&mut self, target: PaneId) -> bool {
        let Tile::Split { first, second, .. } = self else { return false };
        if **first == Tile::Pane(target) {
            *self = (**second).clone();
            return true;
        }
        if **second == Tile::Pane(target) {
            *self = (**first).clone();
            return true;
        }
        first.remove(target) || second.remove(target)
    }

    /// Moves the divider nearest to `target` that runs across `direction` by `delta` percent,
    /// growing `target`'s side for a positive delta. False when no such divider exists.
    pub fn resize(&mut self, target: PaneId, direction: Direction, delta: i16) -> bool {
        let Tile::Split { direction: d, ratio, first, second } = self else { return false };
        let in_first = first.contains(target);
        if !in_first && !second.contains(target) {
            return false;
        }
        // The innermost matching divider moves, as in tmux.
        let inner = if in_first { first.resize(target, direction, delta) } else { second.resize(target, direction, delta) };
        if inner {
            return true;
        }
        if *d != direction {
            return false;
        }
        let signed = if in_first { delta } else { -delta };
        *ratio = (*ratio as i16 + signed).clamp(MIN_RATIO as i16, 100 - MIN_RATIO as i16) as u16;
        true
    }

    /// Each pane's rectangle within `area`. Split areas are divided by the ratio; every pane
    /// gets at least one cell when there is room.
    pub fn areas(&self, area: Rect) -> Vec<(PaneId, Rect)> {
        let mut out = Vec::new();
        self.layout(area, &mut out);
        out
    }

    fn layout(&self, area: Rect, out: &mut Vec<(PaneId, Rect)>) {
        match self {
            Tile::Pane(id) => out.push((*id, area)),
            Tile::Split { direction, ratio, first, second } => {
                let (a, b) = divide(area, *direction, *ratio);
                first.layout(a, out);
                second.layout(b, out);
            }
        }
    }

    /// Swaps two panes' places.
    pub fn swap(&mut self, a: PaneId, b: PaneId) {
        match self {
            Tile::Pane(id) if *id == a => *id = b,
            Tile::Pane(id) if *id == b => *id = a,
            Tile::Pane(_) => {}
            Tile::Split { first, second, .. } => {
                first.swap(a, b);
                second.swap(a, b);
            }
        }
    }
}

fn divide(area: Rect, direction: Direction, ratio: u16) -> (Rect, Rect) {
    let ratio = ratio.clamp(1, 99) as u32;
    match direction {
        Direction::Horizontal => {
            let w = ((area.width as u32 * ratio + 50) / 100) as u16;
            let w = w.clamp(1.min(area.width), area.width.saturating_sub(1).max(1.min(area.width)));
            (Rect { width: w, ..area }, Rect { x: area.x + w, width: area.width - w, ..area })
        }
        Direction::Vertical => {
            let h = ((area.height as u32 * ratio + 50) / 100) as u16;
            let h = h.clamp(1.min(area.height), area.height.saturating_sub(1).max(1.min(area.height)));
            (Rect { height: h, ..area }, Rect { y: area.y + h, height: area.height - h, ..area })
        }
    }
}

/// The pane next to `from` toward a side, among laid-out panes: the nearest one whose
/// rectangle lies on that side and overlaps `from`'s span across it (as in vim's Ctrl-w h/j/k/l).
pub fn neighbour(areas: &[(PaneId, Rect)], from: PaneId, toward: Toward) -> Option<PaneId> {
    let (_, r) = *areas.iter().find(|(id, _)| *id == from)?;
    let overlaps = |a: (u16, u16), b: (u16, u16)| a.0 < b.1 && b.0 < a.1;
    areas
        .iter()
        .filter(|(id, _)| *id != from)
        .filter_map(|(id, o)| {
            let (side, span) = match toward {
                Toward::Left => (o.x + o.width <= r.x, overlaps((o.y, o.y + o.height), (r.y, r.y + r.height))),
                Toward::Right => (o.x >= r.x + r.width, overlaps((o.y, o.y + o.height), (r.y, r.y + r.height))),
                Toward::Up => (o.y + o.height <= r.y, overlaps((o.x, o.x + o.width), (r.x, r.x + r.width))),
                Toward::Down => (o.y >= r.y + r.height, overlaps((o.x, o.x + o.width), (r.x, r.x + r.width))),
            };
            let distance = match toward {
                Toward::Left => r.x.saturating_sub(o.x + o.width),
                Toward::Right => o.x.saturating_sub(r.x + r.width),
                Toward::Up => r.y.saturating_sub(o.y + o.height),
                Toward::Down => o.y.saturating_sub(r.y + r.height),
            };
            // Ties go to the pane that starts nearest the top / left edge of `from`.
            let offset = match toward {
                Toward::Left | Toward::Right => o.y.abs_diff(r.y),
                Toward::Up | Toward::Down => o.x.abs_diff(r.x),
            };
            (side && span).then_some((distance, offset, *id))
        })
        .min()
        .map(|(_, _, id)| id)
}

/// One tab: a layout of panes, the focused one, and whether it fills the tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tab {
    /// The layout.
    pub root: Tile,
    /// The focused pane of this tab.
    pub focus: PaneId,
    /// The focused pane is shown alone (zoomed, as tmux's `z`).
    pub maximised: bool,
}

impl Tab {
    /// A tab showing one pane.
    pub fn new(pane: PaneId) -> Tab {
        Tab { root: Tile::Pane(pane), focus: pane, maximised: false }
    }

    /// Rectangles of the panes shown: every pane, or only the focused one when maximised.
    pub fn areas(&self, area: Rect) -> Vec<(PaneId, Rect)> {
        if self.maximised { vec![(self.focus, area)] } else { self.root.areas(area) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Tile {
        // [0 | [1 / 2]]
        let mut t = Tile::Pane(0);
        assert!(t.split(0, 1, Direction::Horizontal));
        assert!(t.split(1, 2, Direction::Vertical));
        t
    }

    #[test]
    fn splitting_and_removing_keep_the_other_panes_in_place() {
        let mut t = three();
        assert_eq!(t.panes(), [0, 1, 2]);
        let areas = t.areas(Rect::new(0, 0, 100, 40));
        assert_eq!(areas, [(0, Rect::new(0, 0, 50, 40)), (1, Rect::new(50, 0, 50, 20)), (2, Rect::new(50, 20, 50, 20))]);
        assert!(t.remove(1));
        assert_eq!(t.areas(Rect::new(0, 0, 100, 40)), [(0, Rect::new(0, 0, 50, 40)), (2, Rect::new(50, 0, 50, 40))]);
        assert!(t.remove(0));
        assert_eq!(t, Tile::Pane(2));
        assert!(!t.remove(2), "the last pane stays");
        assert!(!t.split(7, 8, Direction::Vertical), "unknown pane");
    }

    #[test]
    fn resizing_moves_the_nearest_matching_divider_within_bounds() {
        let mut t = three();
        // Pane 2 grows wider: the outer (horizontal) divider moves left.
        assert!(t.resize(2, Direction::Horizontal, 10));
        assert_eq!(t.areas(Rect::new(0, 0, 100, 40))[0].1.width, 40);
        // Pane 2 grows taller: the inner divider moves up.
        assert!(t.resize(2, Direction::Vertical, 10));
        assert_eq!(t.areas(Rect::new(0, 0, 100, 40))[1].1.height, 16);
        for _ in 0..20 {
            t.resize(0, Direction::Horizontal, 10);
        }
        assert_eq!(t.areas(Rect::new(0, 0, 100, 40))[0].1.width, 100 - MIN_RATIO);
        // Pane 0 has no stacked divider.
        assert!(!t.resize(0, Direction::Vertical, 5));
    }

    #[test]
    fn neighbours_follow_the_geometry() {
        let t = three();
        let areas = t.areas(Rect::new(0, 0, 100, 40));
        assert_eq!(neighbour(&areas, 0, Toward::Right), Some(1), "the upper one of two on the right");
        assert_eq!(neighbour(&areas, 2, Toward::Left), Some(0));
        assert_eq!(neighbour(&areas, 1, Toward::Down), Some(2));
        assert_eq!(neighbour(&areas, 2, Toward::Up), Some(1));
        assert_eq!(neighbour(&areas, 0, Toward::Left), None);
        assert_eq!(neighbour(&areas, 1, Toward::Right), None);
    }

    #[test]
    fn tiny_areas_never_underflow() {
        let t = three();
        for (w, h) in [(0, 0), (1, 1), (2, 1), (3, 2)] {
            let areas = t.areas(Rect::new(0, 0, w, h));
            assert_eq!(areas.len(), 3);
            for (_, r) in areas {
                assert!(r.x + r.width <= w.max(1) && r.y + r.height <= h.max(1), "{w}x{h}: {r:?}");
            }
        }
    }

    #[test]
    fn a_maximised_tab_shows_only_its_focus() {
        let mut tab = Tab { root: three(), focus: 2, maximised: true };
        assert_eq!(tab.areas(Rect::new(0, 0, 80, 24)), [(2, Rect::new(0, 0, 80, 24))]);
        tab.maximised = false;
        assert_eq!(tab.areas(Rect::new(0, 0, 80, 24)).len(), 3);
    }
}
