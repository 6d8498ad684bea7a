//! `skydeck-cli`: Skydeck without the window, over the same core. For scripting, CI and
//! benchmarks. Any error exits non-zero with one line on stderr: `<code>: <what to do>`.

mod commands;
mod create;
mod detect;
mod fields;
mod keys;
mod output;

use clap::{Parser, Subcommand};
use skydeck_core::{secrets::Keychain, store::default_data_dir, Error, Skydeck};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "skydeck-cli", version, about = "Every machine on every cloud, from the command line")]
struct Cli {
    /// Data directory (default: $SKYDECK_DATA_DIR or the platform's app-data dir).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the supported providers and their credential fields.
    Providers {
        #[arg(long)]
        json: bool,
    },
    /// Add, list, rename, enable/disable and remove clouds.
    #[command(subcommand)]
    Cloud(commands::CloudCmd),
    /// Refresh every cloud concurrently (unless --cached) and list all machines.
    Machines {
        /// Only this cloud (id or title).
        #[arg(long)]
        cloud: Option<String>,
        /// Show the last-known inventory without contacting any cloud.
        #[arg(long)]
        cached: bool,
        #[arg(long)]
        json: bool,
    },
    /// Act on one machine (id, or <cloud>/<id> when ids clash).
    #[command(subcommand)]
    Machine(commands::MachineCmd),
    /// Create a machine (the wizard's choices as flags); --wait follows it until it runs.
    Create(create::CreateArgs),
    /// A cloud's locations, sizes or images (cached; --refresh fetches anew).
    Catalog(create::CatalogArgs),
    /// Generate, import, list and manage SSH keys.
    #[command(subcommand)]
    Keys(keys::KeysCmd),
    /// What was done: creates and machine actions, newest first.
    Activity {
        /// Only this cloud (id or title).
        #[arg(long)]
        cloud: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = rt.block_on(run(cli));
    if let Err(e) = result {
        // One line, starting with the code.
        let msg = e.to_string().replace('\n', " ");
        eprintln!("{}: {}", e.code(), msg);
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    if let Command::Providers { json } = cli.command {
        return output::providers(skydeck_core::providers::all(), json);
    }
    let data_dir = cli.data_dir.unwrap_or_else(default_data_dir);
    let deck = Skydeck::open(&data_dir, Arc::new(Keychain::default()))?;
    match cli.command {
        Command::Providers { .. } => unreachable!("handled above"),
        Command::Cloud(cmd) => commands::cloud(&deck, cmd).await,
        Command::Machines { cloud, cached, json } => commands::machines(&deck, cloud.as_deref(), cached, json).await,
        Command::Machine(cmd) => commands::machine(&deck, cmd).await,
        Command::Create(args) => create::create(&deck, args).await,
        Command::Catalog(args) => create::catalog(&deck, args).await,
        Command::Keys(cmd) => keys::run(&deck, cmd).await,
        Command::Activity { cloud, limit, json } => create::activity(&deck, limit, cloud.as_deref(), json),
    }
}
