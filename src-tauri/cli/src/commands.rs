//! The subcommands. Each is a thin call into `Skydeck` plus printing.

use crate::{fields, output};
use clap::Subcommand;
use skydeck_core::text::inert;
use skydeck_core::model::{Action, Tags};
use skydeck_core::{providers, Error, NewCloud, Skydeck};
use std::io::{BufRead, IsTerminal, Write};

#[derive(Subcommand)]
pub enum CloudCmd {
    /// Test the credentials, then save the cloud (secrets go to the OS keychain).
    Add {
        /// Provider id (see `skydeck-cli providers`).
        provider: String,
        #[arg(long)]
        title: String,
        /// A credential field, key=value; repeatable. Secrets may come from SKYDECK_FIELD_<KEY>.
        #[arg(long = "field", value_name = "KEY=VALUE")]
        fields: Vec<String>,
    },
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a cloud: its keychain entry, settings and cached machines.
    Remove { cloud: String },
    Rename { cloud: String, title: String },
    Enable { cloud: String },
    Disable { cloud: String },
    /// Find Docker/Podman and libvirt hosts on this machine that are not added yet.
    Detect {
        /// Add every host found as a cloud.
        #[arg(long)]
        add: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum MachineCmd {
    /// Power a stopped machine on.
    Start { machine: String },
    /// Shut a machine down (gracefully where the provider can).
    Stop { machine: String },
    Reboot { machine: String },
    /// Pause a machine (where the provider supports it, e.g. libvirt, Docker).
    Suspend { machine: String },
    /// Continue a suspended machine.
    Resume { machine: String },
    /// Cut the power without a clean shutdown.
    ForceOff { machine: String },
    /// Delete a machine for good (asks to type its name, or --yes).
    Destroy {
        machine: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Give a machine a new name.
    Rename { machine: String, name: String },
    /// Set the machine's tags to exactly these key=value pairs.
    Tag {
        machine: String,
        #[arg(value_name = "KEY=VALUE")]
        tags: Vec<String>,
    },
}

pub async fn cloud(deck: &Skydeck, cmd: CloudCmd) -> Result<(), Error> {
    match cmd {
        CloudCmd::Add { provider, title, fields } => {
            let spec = providers::find(&provider)?;
            let fields = fields::collect(spec, &fields)?;
            let cloud = deck.add_cloud(NewCloud { provider, title, fields }).await?;
            println!("{}", cloud.id);
        }
        CloudCmd::List { json } => output::clouds(&deck.list_clouds()?, json)?,
        CloudCmd::Remove { cloud } => {
            let c = deck.remove_cloud(&cloud).await?;
            eprintln!("removed cloud '{}' ({})", inert(&c.title), inert(&c.id));
        }
        CloudCmd::Rename { cloud, title } => {
            deck.update_cloud(&cloud, Some(&title), None)?;
        }
        CloudCmd::Enable { cloud } => {
            deck.update_cloud(&cloud, None, Some(true))?;
        }
        CloudCmd::Disable { cloud } => {
            deck.update_cloud(&cloud, None, Some(false))?;
        }
        CloudCmd::Detect { add, json } => crate::detect::run(deck, add, json).await?,
    }
    Ok(())
}

pub async fn machines(deck: &Skydeck, cloud: Option<&str>, cached: bool, json: bool) -> Result<(), Error> {
    if !cached {
        for outcome in deck.refresh(cloud).await? {
            if let Some(e) = outcome.error {
                eprintln!(
                    "stale: cloud '{}' could not be refreshed, showing last-known machines: {}: {}",
                    inert(&outcome.title),
                    e.code,
                    inert(&e.message)
                );
            }
        }
    }
    let clouds = deck.list_clouds()?;
    output::machines(&deck.machines(cloud)?, &clouds, json)
}

pub async fn machine(deck: &Skydeck, cmd: MachineCmd) -> Result<(), Error> {
    let m = match cmd {
        MachineCmd::Start { machine } => deck.machine_action(&machine, Action::Start).await?,
        MachineCmd::Stop { machine } => deck.machine_action(&machine, Action::Stop).await?,
        MachineCmd::Reboot { machine } => deck.machine_action(&machine, Action::Reboot).await?,
        MachineCmd::Suspend { machine } => deck.machine_action(&machine, Action::Suspend).await?,
        MachineCmd::Resume { machine } => deck.machine_action(&machine, Action::Resume).await?,
        MachineCmd::ForceOff { machine } => deck.machine_action(&machine, Action::ForceOff).await?,
        MachineCmd::Destroy { machine, yes } => {
            if !yes {
                confirm_destroy(deck, &machine)?;
            }
            deck.machine_action(&machine, Action::Destroy).await?
        }
        MachineCmd::Rename { machine, name } => deck.rename(&machine, &name).await?,
        MachineCmd::Tag { machine, tags } => deck.set_tags(&machine, parse_tags(&tags)?).await?,
    };
    println!("{}\t{}\t{}", inert(&m.id), m.state, inert(&m.name));
    Ok(())
}

pub(crate) fn parse_tags(args: &[String]) -> Result<Tags, Error> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(Error::invalid("tags", format!("tags are key=value, got '{a}'"))),
        })
        .collect()
}

/// Destroy asks the user to type the machine's name, as the window does.
fn confirm_destroy(deck: &Skydeck, reference: &str) -> Result<(), Error> {
    let m = deck.find_machine(reference)?;
    if !std::io::stdin().is_terminal() {
        return Err(Error::invalid("yes", format!("destroying '{}' cannot be undone; pass --yes to confirm", m.name)));
    }
    eprint!("Destroy '{}' ({}) for good? Type its name to confirm: ", inert(&m.name), inert(&m.id));
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok();
    if line.trim() != m.name {
        return Err(Error::invalid("yes", "the name did not match; nothing was destroyed"));
    }
    Ok(())
}
