//! The `kindly` command line. Thin: it parses arguments, initialises telemetry and calls library
//! functions in `kindly-server` and `kindly-pipeline`.

/// `println!` that returns the write's error instead of panicking: into a pipe closed early
/// (`kindly users list | head -1`) the command stops, and `main` ends it quietly.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod accounts;
mod bench;
mod cli;
mod datasets;
mod eval;
mod labels;
mod train_heads;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    kindly_server::telemetry::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // the reader has all it wanted; the rest of the output is simply not needed
        Err(e) if closed_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
