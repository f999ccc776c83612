//! Entry point: parse the command line and hand over to the library.
use clap::Parser;
use dashboard_user_operator::{
    config::{Cli, Command},
    crd,
};

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => match crd::crds_yaml() {
            Ok(yaml) => print!("{yaml}"),
            Err(e) => {
                eprintln!("error: cannot serialise CRDs: {e}");
                std::process::exit(1);
            }
        },
        Command::Run(_) => {
            eprintln!("error: `run` is not wired yet in this build");
            std::process::exit(2);
        }
    }
}
