use std::io::IsTerminal;

fn main() -> std::process::ExitCode {
    let cli = aimdeck::cli::Cli::from_process_args();
    if cli.command.is_some() && !std::io::stdout().is_terminal() {
        // `aimdeck recipes list | head`: when the reader goes away, stop quietly as other
        // Unix tools do, instead of panicking on a failed print. Only for piped subcommands:
        // the console owns a terminal and keeps Rust's default (SIGPIPE ignored).
        #[cfg(unix)]
        // SAFETY: called before any thread starts; restores the signal's default action.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    aimdeck::cli::run(cli)
}
