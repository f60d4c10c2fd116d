//! The `logsleuth` binary: parses the command line and hands over to [`logsleuth::cli::run`].

use clap::Parser;

/// mimalloc instead of the system allocator: record-heavy paths (Loki and ES pages, indexing)
/// make many small allocations, where glibc's malloc costs about a third of the time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = logsleuth::cli::Cli::parse();
    std::process::exit(logsleuth::cli::run(cli));
}
