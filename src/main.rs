//! Entry point: parse the command line, set up logging, hand over to the library.
use clap::Parser;
use dashboard_user_operator::{
    cli,
    config::{Cli, Command},
    crd, run, telemetry,
};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => match crd::crds_yaml() {
            Ok(yaml) => print!("{yaml}"),
            Err(e) => {
                eprintln!("error: cannot serialise CRDs: {e}");
                std::process::exit(1);
            }
        },
        Command::Export(args) => finish(cli::export(args).await),
        Command::Plan(args) => finish(cli::plan(args).await),
        Command::Drift(args) => finish(cli::drift(args).await),
        Command::Run(config) => {
            telemetry::init(config.log_format, &config.log_level);
            if let Err(e) = run(config).await {
                tracing::error!(error = %dashboard_user_operator::reconcile::error::chain(&e), "operator failed");
                std::process::exit(1);
            }
        }
    }
}

/// The subcommands print their result on stdout and errors on stderr, then exit with the
/// status they chose (1 for an error).
fn finish(result: Result<i32, cli::CliError>) {
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "error: {}",
                dashboard_user_operator::reconcile::error::chain(&e)
            );
            cli::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
