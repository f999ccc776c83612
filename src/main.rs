//! Entry point: parse the command line, set up logging, hand over to the library.
use clap::Parser;
use dashboard_user_operator::{
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
        Command::Run(config) => {
            telemetry::init(config.log_format, &config.log_level);
            if let Err(e) = run(config).await {
                tracing::error!(error = %dashboard_user_operator::reconcile::error::chain(&e), "operator failed");
                std::process::exit(1);
            }
        }
    }
}
