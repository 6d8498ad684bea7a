//! DigitalOcean tags are plain strings; Skydeck's are key/value pairs. `k:v` ↔ {k: v} and a
//! bare `foo` ↔ {foo: ""}. Tag names may hold only letters, digits, `-`, `_` and `:` and at
//! most 255 characters, so some Skydeck tags cannot be stored: those are refused up front
//! with `InvalidInput { field: "tags" }` instead of failing half-way through.

use crate::error::{Error, Result};
use crate::model::Tags;
use crate::providers::flat_tags;
use crate::providers::flat_tags::pair;

pub const MAX_LEN: usize = 255;

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':')
}

/// DO tag names → Skydeck tags (the shared `key:value` convention of flat-tag providers).
pub fn from_do(raw: &[String]) -> Tags {
    flat_tags::from_flat(raw)
}

/// One Skydeck tag → a DO tag name, or why it cannot be one.
pub fn to_do(key: &str, value: &str) -> Result<String> {
    let bad = |why: String| Err(Error::invalid("tags", why));
    let name = flat_tags::to_flat_one(key, value, "DigitalOcean")?;
    if !name.chars().all(allowed) {
        return bad(format!(
            "DigitalOcean tags may contain only letters, digits, '-', '_' and ':'; change '{name}' (e.g. spaces to '-')."
        ));
    }
    if name.len() > MAX_LEN {
        return bad(format!(
            "DigitalOcean tags are at most {MAX_LEN} characters; shorten the tag starting '{}'.",
            &name[..32]
        ));
    }
    Ok(name)
}

/// All tags → DO names (the first unrepresentable tag is the error).
pub fn to_do_all(tags: &Tags) -> Result<Vec<String>> {
    tags.iter().map(|(k, v)| to_do(k, v)).collect()
}

/// What to change so a droplet carrying the `current` DO names ends up with exactly `desired`:
/// (names to add, names to remove). A current name that means the same pair as a desired
/// one (e.g. `foo:` for {foo: ""}) is kept as it is.
pub fn diff(current: &[String], desired: &Tags) -> Result<(Vec<String>, Vec<String>)> {
    let want = to_do_all(desired)?;
    let canonical = |raw: &str| {
        let (k, v) = pair(raw);
        to_do(k, v).ok()
    };
    let covered = |c: &str| want.iter().any(|w| w == c || canonical(c).as_deref() == Some(w.as_str()));
    let remove: Vec<String> = current.iter().filter(|c| !covered(c)).cloned().collect();
    let add: Vec<String> = want
        .iter()
        .filter(|w| !current.iter().any(|c| c == *w || canonical(c).as_deref() == Some(w.as_str())))
        .cloned()
        .collect();
    Ok((add, remove))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }
    fn raw(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn maps_both_ways() {
        let t = from_do(&raw(&["web", "env:prod", "url:a:b"]));
        assert_eq!(t, tags(&[("web", ""), ("env", "prod"), ("url", "a:b")]));
        let mut back = to_do_all(&t).unwrap();
        back.sort();
        assert_eq!(back, raw(&["env:prod", "url:a:b", "web"]));
    }

    #[test]
    fn keeps_names_sharing_a_key() {
        let r = raw(&["env:prod", "env:stage"]);
        let t = from_do(&r);
        assert_eq!(t, tags(&[("env", "prod"), ("env:stage", "")]));
        assert_eq!(diff(&r, &t).unwrap(), (vec![], vec![]));
    }

    #[test]
    fn refuses_unrepresentable_tags() {
        for (k, v) in [("", "x"), ("has space", ""), ("a:b", "c"), ("ok", "ünïcode"), ("k", "a/b")] {
            let e = to_do(k, v).unwrap_err();
            assert_eq!((e.code(), e.field()), ("invalid_input", Some("tags")), "{k}={v}");
        }
        let long = "x".repeat(MAX_LEN + 1);
        assert_eq!(to_do(&long, "").unwrap_err().field(), Some("tags"));
        assert_eq!(to_do(&"x".repeat(MAX_LEN), "").unwrap().len(), MAX_LEN);
    }

    #[test]
    fn diff_adds_and_removes() {
        let current = raw(&["web", "env:prod", "foo:"]);
        let desired = tags(&[("env", "stage"), ("foo", ""), ("new", "1")]);
        let (add, remove) = diff(&current, &desired).unwrap();
        assert_eq!(add, raw(&["env:stage", "new:1"]));
        assert_eq!(remove, raw(&["web", "env:prod"]));
    }
}
