//! `skydeck-cli`: Skydeck without the window, over the same core. For scripting, CI and
//! benchmarks. Any error exits non-zero with one line on stderr: `<code>: <what to do>`.

mod commands;
mod create;
mod detect;
mod fields;
mod keys;
mod output;
mod ssh;

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
    /// Log what Skydeck does (requests, retries, refreshes) on stderr. RUST_LOG, when set,
    /// picks the detail instead (e.g. RUST_LOG=skydeck_core=trace). Secrets are never logged.
    #[arg(long, short, global = true)]
    verbose: bool,
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
    /// Log in to a machine over SSH (Skydeck's key, then your ssh-agent): a shell, or run the
    /// command after `--` and exit with its status.
    Ssh(ssh::SshArgs),
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

/// Log lines go to stderr (stdout stays the command's output): warnings only by default,
/// Skydeck's debug lines with --verbose, whatever RUST_LOG says when it is set.
fn init_logging(verbose: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = if verbose { "warn,skydeck_core=debug,skydeck_cli=debug" } else { "warn" };
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => EnvFilter::try_new(v).unwrap_or_else(|e| {
            eprintln!("skydeck-cli: RUST_LOG is not a valid filter ({e}); using '{default}'");
            EnvFilter::new(default)
        }),
        _ => EnvFilter::new(default),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn main() {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = rt.block_on(run(cli));
    // A timed-out call may leave a blocking job behind (a hung libvirt ssh login, a keychain
    // prompt): dropping the runtime would wait for it, so the command's bound would not hold.
    rt.shutdown_background();
    match result {
        Ok(0) => {}
        // `ssh -- COMMAND`: the remote command's exit status.
        Ok(status) => std::process::exit(status),
        Err(e) => {
            // One line, starting with the code; a provider's message made inert (no escapes).
            let msg = skydeck_core::text::inert(&e.to_string()).into_owned();
            eprintln!("{}: {}", e.code(), msg);
            std::process::exit(1);
        }
    }
}

/// The exit status to leave with (0 but for `ssh -- COMMAND`), or the error to print.
async fn run(cli: Cli) -> Result<i32, Error> {
    if let Command::Providers { json } = cli.command {
        return output::providers(skydeck_core::providers::all(), json).map(|()| 0);
    }
    let data_dir = cli.data_dir.unwrap_or_else(default_data_dir);
    tracing::debug!(data_dir = %data_dir.display(), version = env!("CARGO_PKG_VERSION"), "opening the store");
    let deck = Skydeck::open(&data_dir, Arc::new(Keychain::default()))?;
    if let Command::Ssh(args) = cli.command {
        return ssh::run(&deck, args).await;
    }
    let done = match cli.command {
        Command::Providers { .. } | Command::Ssh(_) => unreachable!("handled above"),
        Command::Cloud(cmd) => commands::cloud(&deck, cmd).await,
        Command::Machines { cloud, cached, json } => commands::machines(&deck, cloud.as_deref(), cached, json).await,
        Command::Machine(cmd) => commands::machine(&deck, cmd).await,
        Command::Create(args) => create::create(&deck, args).await,
        Command::Catalog(args) => create::catalog(&deck, args).await,
        Command::Keys(cmd) => keys::run(&deck, cmd).await,
        Command::Activity { cloud, limit, json } => create::activity(&deck, limit, cloud.as_deref(), json),
    };
    done.map(|()| 0)
}
