//! The `logsleuth` binary: parses the command line and hands over to [`logsleuth::cli::run`].

use clap::Parser;

fn main() {
    let cli = logsleuth::cli::Cli::parse();
    std::process::exit(logsleuth::cli::run(cli));
}
