//! Hetzner Cloud labels are key/value pairs, so Skydeck's tags map onto them one to one. Their
//! syntax is Kubernetes': checked here so a bad tag is refused up front with
//! `InvalidInput { field: "tags" }` instead of a 422 from the API.
//!
//! - value: empty, or ≤ 63 characters of `[a-zA-Z0-9._-]` beginning and ending alphanumeric;
//! - key: a name with the value's rule (but not empty), optionally prefixed by a DNS
//!   subdomain and `/` (≤ 253 characters); the `hetzner.cloud/` prefix is Hetzner's own.

use crate::error::{Error, Result};
use crate::model::Tags;

fn name_ok(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    s.len() <= 63
        && (s.is_empty()
            || (s.starts_with(alnum)
                && s.ends_with(alnum)
                && s.chars().all(|c| alnum(c) || matches!(c, '.' | '_' | '-'))))
}

fn prefix_ok(p: &str) -> bool {
    p.len() <= 253
        && p.split('.').all(|part| {
            !part.is_empty()
                && part.len() <= 63
                && part.starts_with(|c: char| c.is_ascii_alphanumeric())
                && part.ends_with(|c: char| c.is_ascii_alphanumeric())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn key_ok(k: &str) -> bool {
    match k.rsplit_once('/') {
        Some((prefix, name)) => prefix_ok(prefix) && !name.is_empty() && name_ok(name),
        None => !k.is_empty() && name_ok(k),
    }
}

/// Checks every tag against Hetzner's label syntax.
pub fn check(tags: &Tags) -> Result<()> {
    for (k, v) in tags {
        if k.starts_with("hetzner.cloud/") {
            return Err(Error::invalid(
                "tags",
                format!("the label key '{k}' uses Hetzner's reserved prefix 'hetzner.cloud/'; choose another key."),
            ));
        }
        if !key_ok(k) {
            return Err(Error::invalid(
                "tags",
                format!(
                    "'{k}' is not a valid Hetzner label key: use up to 63 letters, digits, '.', '_' or '-', starting \
                     and ending with a letter or digit, optionally after a domain and '/' (e.g. example.com/team)."
                ),
            ));
        }
        if !name_ok(v) {
            return Err(Error::invalid(
                "tags",
                format!(
                    "'{v}' (label '{k}') is not a valid Hetzner label value: leave it empty or use up to 63 letters, \
                     digits, '.', '_' or '-', starting and ending with a letter or digit (e.g. spaces to '-')."
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn accepts_the_spec_examples() {
        check(&tags(&[("environment", "prod"), ("example.com/my", "label"), ("just-a-key", "")])).unwrap();
    }

    #[test]
    fn refuses_what_hetzner_refuses() {
        for (k, v) in [
            ("", "x"),
            ("has space", ""),
            ("-lead", ""),
            ("k", "Jane Doe"),
            ("k", "trail-"),
            ("bad_prefix!/k", "v"),
            ("example.com/", "v"),
            ("hetzner.cloud/x", "v"),
        ] {
            let e = check(&tags(&[(k, v)])).unwrap_err();
            assert_eq!((e.code(), e.field()), ("invalid_input", Some("tags")), "{k}={v}");
        }
        assert!(check(&tags(&[(&"k".repeat(64), "")])).is_err());
        assert!(check(&tags(&[("k", &"v".repeat(64))])).is_err());
        check(&tags(&[(&"k".repeat(63), &"v".repeat(63))])).unwrap();
    }
}
