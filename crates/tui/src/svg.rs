//! Renders a ratatui buffer to SVG with its colours, for `screenshots/` (produced from real
//! renders by `cargo run --example screenshots`).

use std::fmt::Write;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

/// Cell width in px.
const CW: f32 = 8.4;
/// Line height in px.
const LH: f32 = 17.0;
/// Drawn as a filled cell rather than a glyph.
const FULL_BLOCK: &str = "█";

/// Terminal palette used for named colours (xterm defaults), plus default fg/bg.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    /// Default background.
    pub background: &'static str,
    /// Default foreground.
    pub foreground: &'static str,
}

/// A dark terminal.
pub const DARK: Palette = Palette { background: "#1d1f21", foreground: "#d0d0d0" };
/// A light terminal.
pub const LIGHT: Palette = Palette { background: "#fdfdfd", foreground: "#202020" };

fn hex(c: Color, default: &str) -> String {
    const ANSI: [&str; 16] = [
        "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5", "#666666", "#f14c4c",
        "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
    ];
    match c {
        Color::Reset => default.to_string(),
        Color::Black => ANSI[0].into(),
        Color::Red => ANSI[1].into(),
        Color::Green => ANSI[2].into(),
        Color::Yellow => ANSI[3].into(),
        Color::Blue => ANSI[4].into(),
        Color::Magenta => ANSI[5].into(),
        Color::Cyan => ANSI[6].into(),
        Color::Gray => ANSI[7].into(),
        Color::DarkGray => ANSI[8].into(),
        Color::LightRed => ANSI[9].into(),
        Color::LightGreen => ANSI[10].into(),
        Color::LightYellow => ANSI[11].into(),
        Color::LightBlue => ANSI[12].into(),
        Color::LightMagenta => ANSI[13].into(),
        Color::LightCyan => ANSI[14].into(),
        Color::White => ANSI[15].into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) if i < 16 => ANSI[i as usize].into(),
        Color::Indexed(i) if i >= 232 => {
            let v = 8 + (i - 232) * 10;
            format!("#{v:02x}{v:02x}{v:02x}")
        }
        Color::Indexed(i) => {
            let i = i - 16;
            let level = |n: u8| if n == 0 { 0 } else { 55 + n * 40 };
            format!("#{:02x}{:02x}{:02x}", level(i / 36), level((i / 6) % 6), level(i % 6))
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The buffer as an SVG document.
pub fn buffer_to_svg(buf: &Buffer, palette: Palette) -> String {
    let area = buf.area;
    let (w, h) = (area.width as f32 * CW, area.height as f32 * LH);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="'DejaVu Sans Mono','Menlo','Consolas',monospace" font-size="14">"#
    );
    let _ = write!(out, r#"<rect width="100%" height="100%" fill="{}"/>"#, palette.background);
    for y in 0..area.height {
        // Backgrounds first, merged into runs. Full blocks are drawn as rectangles so bars
        // have no gaps between lines.
        let fill = |cell: &ratatui::buffer::Cell| {
            let (fg, bg) = colours(cell, palette);
            if cell.symbol() == FULL_BLOCK { fg } else { bg }
        };
        let mut x = 0;
        while x < area.width {
            let bg = fill(&buf[(area.x + x, area.y + y)]);
            let start = x;
            while x < area.width && fill(&buf[(area.x + x, area.y + y)]) == bg {
                x += 1;
            }
            if bg != palette.background {
                let _ = write!(
                    out,
                    r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{LH}" fill="{bg}"/>"#,
                    start as f32 * CW,
                    y as f32 * LH,
                    (x - start) as f32 * CW
                );
            }
        }
        // Text, one element per run of equal style, positioned per cell so columns line up.
        let mut x = 0;
        while x < area.width {
            let cell = &buf[(area.x + x, area.y + y)];
            let key = (colours(cell, palette).0, cell.modifier);
            let start = x;
            let mut text = String::new();
            let mut xs = Vec::new();
            while x < area.width {
                let c = &buf[(area.x + x, area.y + y)];
                if (colours(c, palette).0, c.modifier) != key {
                    break;
                }
                if !c.symbol().is_empty() && c.symbol() != FULL_BLOCK {
                    xs.push(format!("{:.1}", x as f32 * CW));
                    text.push_str(c.symbol());
                }
                x += 1;
            }
            if text.trim().is_empty() {
                continue;
            }
            let _ = start;
            let mut attrs = format!(r#"fill="{}""#, key.0);
            if key.1.contains(Modifier::BOLD) {
                attrs.push_str(r#" font-weight="bold""#);
            }
            if key.1.contains(Modifier::ITALIC) {
                attrs.push_str(r#" font-style="italic""#);
            }
            if key.1.contains(Modifier::UNDERLINED) {
                attrs.push_str(r#" text-decoration="underline""#);
            }
            if key.1.contains(Modifier::DIM) {
                attrs.push_str(r#" opacity="0.6""#);
            }
            let _ = write!(
                out,
                r#"<text x="{}" y="{:.1}" {attrs} xml:space="preserve">{}</text>"#,
                xs.join(" "),
                y as f32 * LH + LH * 0.78,
                escape(&text)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

fn colours(cell: &ratatui::buffer::Cell, palette: Palette) -> (String, String) {
    let fg = hex(cell.fg, palette.foreground);
    let bg = hex(cell.bg, palette.background);
    if cell.modifier.contains(Modifier::REVERSED) { (bg, fg) } else { (fg, bg) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn colours_backgrounds_and_escapes_text() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 2));
        buf.set_string(0, 0, "<a&b>", Style::default().fg(Color::Red).bg(Color::Rgb(1, 2, 3)));
        buf.set_string(0, 1, "rev", Style::default().add_modifier(Modifier::REVERSED));
        let svg = buffer_to_svg(&buf, DARK);
        assert!(svg.contains("&lt;a&amp;b&gt;"), "{svg}");
        assert!(svg.contains(r##"fill="#cd3131""##));
        assert!(svg.contains(r##"fill="#010203""##));
        // Reversed default colours: the foreground becomes the background.
        assert!(svg.contains(&format!(r#"fill="{}""#, DARK.foreground)));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }
}
