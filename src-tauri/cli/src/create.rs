//! `skydeck-cli create`, `catalog` and `activity`: the create-machine wizard as commands.

use crate::output;
use clap::{Args, ValueEnum};
use skydeck_core::text::inert;
use skydeck_core::model::Machine;
use skydeck_core::{CatalogKind, CreateRequest, Error, Skydeck};
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub struct CreateArgs {
    /// Cloud id or title.
    #[arg(long)]
    cloud: String,
    /// Location id (see `skydeck-cli catalog locations --cloud C`).
    #[arg(long)]
    location: String,
    /// Size id (see `catalog sizes`).
    #[arg(long)]
    size: String,
    /// Image id (see `catalog images`).
    #[arg(long)]
    image: String,
    /// SSH key id or name; default: the default key.
    #[arg(long, conflicts_with = "no_key")]
    key: Option<String>,
    /// Create the machine without an SSH key.
    #[arg(long)]
    no_key: bool,
    #[arg(long)]
    name: String,
    /// A tag, key=value; repeatable.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
    /// cloud-init user data from FILE (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    user_data: Option<PathBuf>,
    /// Wait until the machine runs, printing each new state on stderr.
    #[arg(long)]
    wait: bool,
    /// Longest wait in seconds with --wait.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    #[arg(long)]
    json: bool,
    /// Idempotency token: repeat a create with the same token and at most one machine is made
    /// (for scripts that retry).
    #[arg(long, hide = true)]
    client_token: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Locations,
    Sizes,
    Images,
}

#[derive(Args)]
pub struct CatalogArgs {
    kind: Kind,
    /// Cloud id or title.
    #[arg(long)]
    cloud: String,
    /// Fetch from the provider even if the cached copy is fresh.
    #[arg(long)]
    refresh: bool,
    /// Only sizes/images offered in this location.
    #[arg(long)]
    location: Option<String>,
    /// Only images for this architecture (x86_64, arm64).
    #[arg(long)]
    arch: Option<String>,
    #[arg(long)]
    json: bool,
}

fn user_data(file: &PathBuf) -> Result<String, Error> {
    let mut text = String::new();
    let res = if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_string(&mut text)).map(|_| ())
    };
    res.map_err(|e| {
        Error::invalid(
            "user_data",
            format!("cannot read {} ({e}); user data must be a UTF-8 text file", file.display()),
        )
    })?;
    Ok(text)
}

fn print_machine(m: &Machine, json: bool) -> Result<(), Error> {
    if json {
        return output::print_json(m);
    }
    let ip = m.public_ips.first().or(m.private_ips.first()).cloned().unwrap_or_default();
    println!("{}\t{}\t{}\t{}", inert(&m.id), m.state, inert(&m.name), inert(&ip));
    Ok(())
}

pub async fn create(deck: &Skydeck, a: CreateArgs) -> Result<(), Error> {
    let key_id = match (a.key, a.no_key) {
        (Some(k), _) => Some(k),
        (None, true) => None,
        (None, false) => Some(
            deck.default_key()?
                .ok_or_else(|| {
                    Error::invalid(
                        "key",
                        "there is no SSH key yet: run `skydeck-cli keys generate NAME` (or import one), pass --key, or --no-key",
                    )
                })?
                .id,
        ),
    };
    let req = CreateRequest {
        location: a.location,
        size: a.size,
        image: a.image,
        key_id,
        name: a.name,
        tags: crate::commands::parse_tags(&a.tags)?,
        user_data: a.user_data.as_ref().map(user_data).transpose()?,
        options: Default::default(),
        client_token: a.client_token,
    };
    let cloud = deck.find_cloud(&a.cloud).map_err(|e| Error::invalid("cloud", e.to_string()))?;
    let m = deck.create_machine(&cloud.id, req).await?;
    if !a.wait {
        return print_machine(&m, a.json);
    }
    eprintln!("{}: {}", inert(&m.name), m.state);
    let progress = |m: &Machine| eprintln!("{}: {}", inert(&m.name), m.state);
    let m = deck.wait_until_running(&cloud.id, &m.id, Duration::from_secs(a.timeout), progress).await?;
    print_machine(&m, a.json)
}

pub async fn catalog(deck: &Skydeck, a: CatalogArgs) -> Result<(), Error> {
    let kind = match a.kind {
        Kind::Locations => CatalogKind::Locations,
        Kind::Sizes => CatalogKind::Sizes,
        Kind::Images => CatalogKind::Images,
    };
    let cat = deck.catalog(&a.cloud, kind, a.refresh).await?.filter(a.location.as_deref(), a.arch.as_deref());
    if a.json {
        return output::print_json(&cat);
    }
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let rows: Vec<Vec<String>> = match kind {
        CatalogKind::Locations => cat
            .locations()
            .iter()
            .map(|l| {
                vec![
                    l.id.clone(),
                    l.name.clone(),
                    opt(l.country.clone()),
                    if l.available { "yes".into() } else { "no".into() },
                ]
            })
            .collect(),
        CatalogKind::Sizes => cat
            .sizes()
            .iter()
            .map(|s| {
                vec![
                    s.id.clone(),
                    opt(s.vcpus.map(|v| v.to_string())),
                    opt(s.ram_mb.map(|v| v.to_string())),
                    opt(s.disk_gb.map(|v| v.to_string())),
                    opt(s.price_hourly.map(|v| format!("{v:.4}"))),
                    opt(s.price_monthly.map(|v| format!("{v:.2}"))),
                ]
            })
            .collect(),
        CatalogKind::Images => cat
            .images()
            .iter()
            .map(|i| {
                vec![
                    i.id.clone(),
                    opt(i.distribution.clone()),
                    opt(i.version.clone()),
                    opt(i.arch.clone()),
                    i.name.clone(),
                ]
            })
            .collect(),
    };
    let header: &[&str] = match kind {
        CatalogKind::Locations => &["ID", "NAME", "COUNTRY", "AVAILABLE"],
        CatalogKind::Sizes => &["ID", "VCPUS", "RAM_MB", "DISK_GB", "PER_HOUR", "PER_MONTH"],
        CatalogKind::Images => &["ID", "DISTRIBUTION", "VERSION", "ARCH", "NAME"],
    };
    output::table(header, rows);
    eprintln!(
        "fetched {}{}",
        inert(&cat.fetched_at),
        if cat.stale { " (stale: the provider could not be reached)" } else { "" }
    );
    Ok(())
}

pub fn activity(deck: &Skydeck, limit: usize, cloud: Option<&str>, json: bool) -> Result<(), Error> {
    let entries = deck.activity(limit, cloud)?;
    if json {
        return output::print_json(&entries);
    }
    if entries.is_empty() {
        println!("No activity yet.");
        return Ok(());
    }
    let rows = entries
        .iter()
        .map(|e| {
            let machine = match (&e.machine_name, &e.machine_id) {
                (Some(n), Some(id)) if n != id => format!("{n} ({id})"),
                (Some(n), _) => n.clone(),
                (None, Some(id)) => id.clone(),
                (None, None) => "-".into(),
            };
            let result = match &e.error {
                Some(err) => format!("error {}: {}", err.code, err.message),
                None => "ok".into(),
            };
            vec![
                e.at.clone(),
                e.cloud_title.clone(),
                machine,
                e.action.clone(),
                e.detail.clone().unwrap_or_default(),
                result,
            ]
        })
        .collect();
    output::table(&["WHEN", "CLOUD", "MACHINE", "ACTION", "DETAIL", "RESULT"], rows);
    Ok(())
}
