//! The window's own preferences (columns, sort, filter chips, sidebar width), kept with
//! tauri-plugin-store in one fixed file, `ui-prefs.json` of the app-data dir. Never secrets.
//!
//! The webview reaches them only through [`get_ui_prefs`]/[`set_ui_pref`]: it has no store
//! permission, because the plugin resolves the path it is given with `PathBuf::push` (an
//! absolute path or `..` would read or write any JSON file the user can). Here the file name is
//! fixed, the keys come from an allowlist and every value has a checked shape and size, so a
//! compromised page can at worst scramble its own column order.

use serde_json::{Map, Value};
use skydeck_core::Error;
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

/// The one file UI preferences live in (the name the UI used before, so they carry over).
pub const STORE_FILE: &str = "ui-prefs.json";

/// The most bytes one value may take as JSON: the largest legitimate value (a few dozen
/// cloud ids of chips) is far below.
const MAX_VALUE_BYTES: usize = 16 * 1024;
const MAX_LIST_ITEMS: usize = 256;
const MAX_STRING_CHARS: usize = 128;

/// The keys the UI may keep, each with the shape its value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A list of short strings (column keys, state names, cloud ids).
    Strings,
    /// `{key: string, dir: "asc" | "desc"}`.
    Sort,
    /// Whole CSS pixels.
    Pixels,
}

const KEYS: [(&str, Shape); 5] = [
    ("columns", Shape::Strings),
    ("sort", Shape::Sort),
    ("stateChips", Shape::Strings),
    ("cloudChips", Shape::Strings),
    ("sidebarWidth", Shape::Pixels),
];

fn shape_of(key: &str) -> Option<Shape> {
    KEYS.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
}

fn short_string(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.chars().count() <= MAX_STRING_CHARS && !s.chars().any(char::is_control))
}

/// Checks `value` against the shape `key` must have; the error names the field and what to do.
pub fn validate(key: &str, value: &Value) -> skydeck_core::Result<()> {
    let Some(shape) = shape_of(key) else {
        let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
        return Err(Error::invalid("key", format!("'{}' is not a UI preference; known: {}", key.escape_debug(), known.join(", "))));
    };
    let size = serde_json::to_vec(value).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_VALUE_BYTES {
        return Err(Error::invalid("value", format!("the value of '{key}' is {size} bytes; at most {MAX_VALUE_BYTES} are kept")));
    }
    let ok = match shape {
        Shape::Strings => value.as_array().is_some_and(|a| a.len() <= MAX_LIST_ITEMS && a.iter().all(short_string)),
        Shape::Sort => value.as_object().is_some_and(|o| {
            o.len() == 2 && o.get("key").is_some_and(short_string) && matches!(o.get("dir").and_then(Value::as_str), Some("asc" | "desc"))
        }),
        Shape::Pixels => value.as_u64().is_some_and(|px| (1..=10_000).contains(&px)),
    };
    if ok {
        Ok(())
    } else {
        let want = match shape {
            Shape::Strings => format!("a list of at most {MAX_LIST_ITEMS} strings of at most {MAX_STRING_CHARS} characters"),
            Shape::Sort => "{\"key\": <column>, \"dir\": \"asc\" | \"desc\"}".to_string(),
            Shape::Pixels => "a whole number of pixels from 1 to 10000".to_string(),
        };
        Err(Error::invalid("value", format!("'{key}' must be {want}")))
    }
}

/// Only the allowed keys with well-formed values: a hand-edited or damaged file cannot feed
/// the UI anything else.
pub fn sanitize(entries: impl IntoIterator<Item = (String, Value)>) -> Map<String, Value> {
    entries.into_iter().filter(|(k, v)| validate(k, v).is_ok()).collect()
}

/// The saved preferences (an empty map when the file is missing or unreadable: preferences
/// must never keep the window from opening).
pub fn load<R: Runtime>(app: &AppHandle<R>) -> Map<String, Value> {
    match app.store(STORE_FILE) {
        Ok(store) => sanitize(store.entries()),
        Err(e) => {
            tracing::warn!("UI preferences unavailable, using defaults: {e}");
            Map::new()
        }
    }
}

/// Validates and saves one preference.
pub fn set<R: Runtime>(app: &AppHandle<R>, key: &str, value: Value) -> skydeck_core::Result<()> {
    validate(key, &value)?;
    let store = app
        .store(STORE_FILE)
        .map_err(|e| Error::Storage(format!("cannot open the UI preferences ({e}); check the app-data directory's permissions")))?;
    store.set(key, value);
    store
        .save()
        .map_err(|e| Error::Storage(format!("cannot save the UI preferences ({e}); check the app-data directory's permissions")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_allowlisted_keys_with_their_shape_are_accepted() {
        for (k, v) in [
            ("columns", json!(["state", "name", "public_ips"])),
            ("sort", json!({"key": "name", "dir": "desc"})),
            ("stateChips", json!([])),
            ("cloudChips", json!(["6f1c2a9e-0d1b-4f5e-9a51-1c0b8f3c2d10"])),
            ("sidebarWidth", json!(240)),
        ] {
            validate(k, &v).unwrap_or_else(|e| panic!("{k}: {e}"));
        }
        for (k, v) in [
            ("../../.bashrc", json!("x")),
            ("/etc/passwd", json!([])),
            ("__proto__", json!({})),
            ("columns", json!("name")),
            ("columns", json!([1, 2])),
            ("columns", json!(["a\u{1b}]0;x\u{7}"])),
            ("columns", json!(vec!["x"; MAX_LIST_ITEMS + 1])),
            ("cloudChips", json!(["x".repeat(MAX_STRING_CHARS + 1)])),
            ("sort", json!({"key": "name", "dir": "sideways"})),
            ("sort", json!({"key": "name", "dir": "asc", "extra": 1})),
            ("sidebarWidth", json!(-5)),
            ("sidebarWidth", json!(1e9)),
            ("sidebarWidth", json!("240px")),
        ] {
            let e = skydeck_core::ErrorBody::from(validate(k, &v).unwrap_err());
            assert_eq!(e.code, "invalid_input", "{k} = {v}");
            assert!(matches!(e.field.as_deref(), Some("key" | "value")), "{e:?}");
        }
    }

    #[test]
    fn a_value_bigger_than_the_cap_is_refused() {
        let big = json!(vec!["y".repeat(MAX_STRING_CHARS); MAX_LIST_ITEMS]);
        let e = skydeck_core::ErrorBody::from(validate("cloudChips", &big).unwrap_err());
        assert!(e.message.contains("bytes"), "{}", e.message);
    }

    /// Through the real store plugin (mock runtime): saved in the one fixed file of the
    /// app-data dir, read back by a later start, a refused value leaves the file as it was.
    #[test]
    fn preferences_persist_in_the_one_fixed_file_across_starts() {
        use tauri::Manager;
        static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
        let d = DIR.get_or_init(|| tempfile::tempdir().unwrap());
        std::env::set_var("XDG_DATA_HOME", d.path().join("data"));
        std::env::set_var("XDG_CONFIG_HOME", d.path().join("config"));
        let app = || {
            tauri::test::mock_builder()
                .plugin(tauri_plugin_store::Builder::default().build())
                .build(tauri::test::mock_context(tauri::test::noop_assets()))
                .unwrap()
        };
        let first = app();
        set(first.handle(), "sort", json!({"key": "size", "dir": "desc"})).unwrap();
        set(first.handle(), "sidebarWidth", json!(300)).unwrap();
        assert!(set(first.handle(), "sidebarWidth", json!("300; rm -rf ~")).is_err());
        let file = first.path().app_data_dir().unwrap().join(STORE_FILE);
        drop(first);
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(saved, json!({"sort": {"key": "size", "dir": "desc"}, "sidebarWidth": 300}));
        let again = app();
        assert_eq!(Value::Object(load(again.handle())), saved, "a later start reads them back");
    }

    #[test]
    fn a_tampered_file_yields_only_the_allowed_well_formed_entries() {
        let read = sanitize([
            ("sort".to_string(), json!({"key": "name", "dir": "asc"})),
            ("sidebarWidth".to_string(), json!("not a number")),
            ("settings".to_string(), json!({"close_to_tray": true})),
        ]);
        assert_eq!(Value::Object(read), json!({"sort": {"key": "name", "dir": "asc"}}));
    }
}
