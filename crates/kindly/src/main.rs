//! The `kindly` command line. Thin: it parses arguments, initialises telemetry and calls library
//! functions in `kindly-server` and `kindly-pipeline`.

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
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
