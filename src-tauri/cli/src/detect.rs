//! `cloud detect [--add] [--json]`: the hosts found on this machine (Docker/Podman sockets,
//! libvirt), optionally added as clouds; with nothing found and no clouds, the demo.

use serde::Serialize;
use skydeck_core::text::inert;
use skydeck_core::model::Cloud;
use skydeck_core::provider::DetectedHost;
use skydeck_core::{Error, ErrorBody, Skydeck};

#[derive(Serialize)]
struct Failed {
    host: DetectedHost,
    error: ErrorBody,
}

#[derive(Serialize)]
struct Report {
    detected: Vec<DetectedHost>,
    added: Vec<Cloud>,
    failed: Vec<Failed>,
    /// Offered only when nothing was detected and no cloud exists yet.
    demo: Option<DetectedHost>,
}

pub async fn run(deck: &Skydeck, add: bool, json: bool) -> Result<(), Error> {
    let detected = deck.detect_local_hosts().await?;
    let demo = if detected.is_empty() && deck.list_clouds()?.is_empty() { deck.demo_cloud()? } else { None };
    let mut report = Report { detected, added: Vec::new(), failed: Vec::new(), demo };
    if add {
        for host in &report.detected {
            match deck.add_detected(host.clone()).await {
                Ok(cloud) => report.added.push(cloud),
                Err(e) => report.failed.push(Failed { host: host.clone(), error: ErrorBody::from(&e) }),
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&report).expect("serializable"));
    } else {
        print_human(&report, add);
    }
    // Exit non-zero when an add failed, after printing what did work.
    match report.failed.first() {
        Some(f) => Err(Error::Unavailable(format!("could not add '{}': {}", f.host.title, f.error.message))),
        None => Ok(()),
    }
}

fn fields_text(h: &DetectedHost) -> String {
    h.fields.iter().map(|(k, v)| format!("{}={}", inert(k), inert(v))).collect::<Vec<_>>().join(" ")
}

fn print_human(r: &Report, add: bool) {
    if r.detected.is_empty() {
        println!("No local Docker, Podman or libvirt host found (or all are added already).");
        if let Some(demo) = &r.demo {
            let fields: Vec<String> = demo.fields.iter().map(|(k, v)| format!("--field {k}={v}")).collect();
            println!(
                "Try the demo: skydeck-cli cloud add {} --title '{}' {}",
                demo.provider,
                demo.title,
                fields.join(" ")
            );
        }
        return;
    }
    for h in &r.detected {
        println!("{}\t{}\t{}", h.provider, inert(&h.title), fields_text(h));
    }
    if add {
        for c in &r.added {
            eprintln!("added cloud '{}' ({})", inert(&c.title), c.id);
        }
    } else {
        eprintln!("Add them all with `skydeck-cli cloud detect --add`.");
    }
}
