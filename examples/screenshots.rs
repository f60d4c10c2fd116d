//! Writes `screenshots/*.svg` from real renders of the TUI (ratatui TestBackend buffers drawn
//! with their colours): `cargo run --example screenshots [OUTPUT_DIR]` (`SCREENSHOT_TEXT=1` also
//! prints them as text).

use logsleuth::ui::svg::buffer_to_svg;
use logsleuth_testing::{render, screenshot_scenes};

const SAMPLE: &str = include_str!("../tests/fixtures/ui/nginx_sample.log");

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "screenshots".into());
    std::fs::create_dir_all(&dir)?;
    for scene in screenshot_scenes(SAMPLE).await {
        let svg = buffer_to_svg(&render(&scene.app), scene.palette);
        let path = std::path::Path::new(&dir).join(format!("{}.svg", scene.name));
        std::fs::write(&path, svg)?;
        println!("{}", path.display());
        // `SCREENSHOT_TEXT=1` also prints each screen as text, to review them in a terminal.
        if std::env::var_os("SCREENSHOT_TEXT").is_some() {
            println!("{}", logsleuth_testing::buffer_text(&render(&scene.app)));
        }
    }
    Ok(())
}
