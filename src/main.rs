//! The netdoctor binary: parses arguments, runs the command, maps errors to exit codes.
//!
//! Errors print one line on stderr and exit 3; a closed stdout (`netdoctor counters | head`)
//! ends the process quietly.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match netdoctor::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => netdoctor::cli::EXIT_UNKNOWN,
            };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    match netdoctor::cli::run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(3)),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("netdoctor: {e:#}");
            ExitCode::from(netdoctor::cli::EXIT_UNKNOWN as u8)
        }
    }
}

/// True when the error chain holds an EPIPE from writing to a closed stdout.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let io = cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe);
        // serde_json wraps the write error of `to_writer` in its own type.
        let json = cause
            .downcast_ref::<serde_json::Error>()
            .and_then(serde_json::Error::io_error_kind)
            == Some(std::io::ErrorKind::BrokenPipe);
        io || json
    })
}
