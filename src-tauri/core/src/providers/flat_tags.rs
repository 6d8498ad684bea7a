//! Tags for providers whose tags are plain strings (Linode, Vultr): Skydeck's key/value pairs
//! are written `key:value`, and a bare `foo` is {foo: ""}. Each provider checks its own limits
//! (length, characters) on the strings this produces.

use crate::error::{Error, Result};
use crate::model::Tags;

/// The pair a tag string stands for: split at the first `:`.
pub fn pair(raw: &str) -> (&str, &str) {
    match raw.split_once(':') {
        Some((k, v)) if !k.is_empty() => (k, v),
        _ => (raw, ""),
    }
}

/// Tag strings → Skydeck tags. When two strings share a key (`env:prod`, `env:stage`), the
/// later ones are kept whole as bare keys so no tag is lost on the way back.
pub fn from_flat(raw: &[String]) -> Tags {
    let mut tags = Tags::new();
    for r in raw {
        let (k, v) = pair(r);
        if tags.contains_key(k) {
            tags.insert(r.clone(), String::new());
        } else {
            tags.insert(k.to_string(), v.to_string());
        }
    }
    tags
}

/// One Skydeck tag → its tag string, refusing what would not read back as the same pair.
/// `provider` names the cloud in messages; providers add their own limits on the result.
pub fn to_flat_one(key: &str, value: &str, provider: &str) -> Result<String> {
    if key.trim().is_empty() {
        return Err(Error::invalid("tags", format!("a {provider} tag needs a key; remove the tag with an empty key.")));
    }
    if !value.is_empty() && key.contains(':') {
        return Err(Error::invalid(
            "tags",
            format!("the tag key '{key}' contains ':', which separates key and value in {provider} tags; remove the ':' or the value."),
        ));
    }
    Ok(if value.is_empty() { key.to_string() } else { format!("{key}:{value}") })
}

/// Skydeck tags → tag strings (the first unrepresentable tag is the error).
pub fn to_flat(tags: &Tags, provider: &str) -> Result<Vec<String>> {
    tags.iter().map(|(k, v)| to_flat_one(k, v, provider)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn round_trips() {
        let raw: Vec<String> = ["web", "env:prod", "url:a:b", "a tag"].map(String::from).into();
        let t = from_flat(&raw);
        assert_eq!(t, tags(&[("web", ""), ("env", "prod"), ("url", "a:b"), ("a tag", "")]));
        let mut back = to_flat(&t, "X").unwrap();
        back.sort();
        assert_eq!(back, ["a tag", "env:prod", "url:a:b", "web"]);
    }

    #[test]
    fn keeps_strings_sharing_a_key() {
        let raw: Vec<String> = ["env:prod", "env:stage"].map(String::from).into();
        let t = from_flat(&raw);
        assert_eq!(t, tags(&[("env", "prod"), ("env:stage", "")]));
        let mut back = to_flat(&t, "X").unwrap();
        back.sort();
        assert_eq!(back, raw);
    }

    #[test]
    fn refuses_ambiguous_pairs() {
        for (k, v) in [("", "x"), (" ", ""), ("a:b", "c")] {
            let e = to_flat(&tags(&[(k, v)]), "X").unwrap_err();
            assert_eq!((e.code(), e.field()), ("invalid_input", Some("tags")), "{k}={v}");
        }
    }
}
