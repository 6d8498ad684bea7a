//! Human tables and `--json` output.

use skydeck_core::model::{CloudView, Machine};
use skydeck_core::provider::ProviderSpec;
use skydeck_core::text::inert;
use skydeck_core::Error;
use std::collections::HashMap;

pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> Result<(), Error> {
    println!("{}", serde_json::to_string_pretty(v).expect("serializable"));
    Ok(())
}

/// Prints rows as aligned columns (the last column is not padded). Cells come from clouds:
/// each is made inert first (no terminal escapes, line breaks or bidi overrides), so a
/// machine name can neither rewrite the terminal nor forge a row.
pub(crate) fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let rows: Vec<Vec<String>> = rows.into_iter().map(|r| r.into_iter().map(|c| inert(&c).into_owned()).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let n = cells.len();
        let s: Vec<String> = cells
            .into_iter()
            .enumerate()
            .map(|(i, c)| if i + 1 == n { c } else { format!("{c:<w$}", w = widths[i]) })
            .collect();
        println!("{}", s.join("  ").trim_end());
    };
    line(header.iter().map(|s| s.to_string()).collect());
    for r in rows {
        line(r);
    }
}

pub fn providers(specs: &[&ProviderSpec], json: bool) -> Result<(), Error> {
    if json {
        return print_json(&specs);
    }
    for p in specs {
        println!("{}  {}{}", p.id, p.title, if p.legacy { "  (legacy API)" } else { "" });
        for f in p.fields {
            let mut notes = vec![format!("{:?}", f.kind).to_lowercase()];
            if !f.required {
                notes.push("optional".into());
            }
            if f.advanced {
                notes.push("advanced".into());
            }
            println!("    --field {}=…  {} ({}){}", f.key, f.label, notes.join(", "), if f.help.is_empty() { String::new() } else { format!(" — {}", f.help) });
        }
    }
    Ok(())
}

pub fn clouds(clouds: &[CloudView], json: bool) -> Result<(), Error> {
    if json {
        return print_json(&clouds);
    }
    if clouds.is_empty() {
        println!("No clouds yet. Add one with `skydeck-cli cloud add <provider> --title <title> --field key=value`.");
        return Ok(());
    }
    let rows = clouds
        .iter()
        .map(|c| {
            let status = match (&c.status.error, c.cloud.enabled) {
                (_, false) => "disabled".to_string(),
                (Some(e), _) => format!("{}: {}", e.code, e.message),
                (None, _) if c.status.last_ok.is_some() => "ok".into(),
                (None, _) => "not refreshed yet".into(),
            };
            vec![c.cloud.id.clone(), c.cloud.title.clone(), c.cloud.provider.clone(), c.status.machine_count.to_string(), status]
        })
        .collect();
    table(&["ID", "TITLE", "PROVIDER", "MACHINES", "STATUS"], rows);
    Ok(())
}

pub fn machines(machines: &[Machine], clouds: &[CloudView], json: bool) -> Result<(), Error> {
    if json {
        return print_json(&machines);
    }
    if machines.is_empty() {
        println!("No machines.");
        return Ok(());
    }
    let titles: HashMap<&str, &str> = clouds.iter().map(|c| (c.cloud.id.as_str(), c.cloud.title.as_str())).collect();
    let rows = machines
        .iter()
        .map(|m| {
            vec![
                m.id.clone(),
                format!("{}{}", m.state, if m.stale { " (stale)" } else { "" }),
                m.name.clone(),
                titles.get(m.cloud_id.as_str()).unwrap_or(&"?").to_string(),
                m.location.clone(),
                m.size.clone(),
                m.public_ips.first().or(m.private_ips.first()).cloned().unwrap_or_default(),
            ]
        })
        .collect();
    table(&["ID", "STATE", "NAME", "CLOUD", "LOCATION", "SIZE", "IP"], rows);
    Ok(())
}
