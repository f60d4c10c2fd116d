//! The screenshot scenes (what `cargo run --example screenshots` writes to `screenshots/`)
//! render to SVG with the theme's colours.

use logsleuth::ui::svg::buffer_to_svg;
use logsleuth_testing::{buffer_text, render, screenshot_scenes};

const SAMPLE: &str = include_str!("fixtures/ui/nginx_sample.log");

#[tokio::test]
async fn every_scene_renders_to_svg_with_colours() {
    let scenes = screenshot_scenes(SAMPLE).await;
    let names: Vec<&str> = scenes.iter().map(|s| s.name).collect();
    for expected in ["main-dark", "main-light", "main-high-contrast", "detail", "charts", "help", "time-picker", "tail-paused", "thread", "patterns", "comparison"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    for scene in &scenes {
        let buf = render(&scene.app);
        let text = buffer_text(&buf);
        let svg = buffer_to_svg(&buf, scene.palette);
        assert!(svg.starts_with("<svg") && svg.len() > 5_000, "{}", scene.name);
        assert!(text.contains("nginx_sample.log"), "{}: status line missing\n{text}", scene.name);
    }
    // The dark theme's 4xx colour (yellow) colours the histogram and the status column.
    let dark = buffer_to_svg(&render(&scenes[0].app), scenes[0].palette);
    assert!(dark.contains("#e5e510"), "4xx yellow missing");
    let tail = scenes.iter().find(|s| s.name == "tail-paused").unwrap();
    assert!(buffer_text(&render(&tail.app)).contains("PAUSED 12 waiting"));
}
