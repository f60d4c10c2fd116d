//! Writes `screenshots/*.svg` from real renders of the TUI (ratatui TestBackend buffers drawn
//! with their colours): `cargo run --example screenshots [OUTPUT_DIR]`.

use logsleuth::ui::svg::buffer_to_svg;
use logsleuth::ui::testing::{render, screenshot_scenes};

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
    }
    Ok(())
}
