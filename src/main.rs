use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = aimdeck::cli::Cli::parse();
    aimdeck::cli::run(cli)
}
