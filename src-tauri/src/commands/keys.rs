//! The keys view's commands. The private half of a key never crosses IPC: export asks the user
//! where to save it with the native save dialog (opened from Rust) and writes the file here,
//! readable only by the user (0600). The UI only ever learns the path it was saved to.

use crate::error::{ipc, CmdResult};
use crate::state::AppState;
use skydeck_core::secrets::Sensitive;
use skydeck_core::{Error, ErrorBody, ImportKey, SshKey};
use std::path::Path;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;

/// All keys, public data only.
#[tauri::command(rename_all = "snake_case")]
pub async fn list_keys(state: State<'_, AppState>) -> CmdResult<Vec<SshKey>> {
    ipc(state.skydeck.list_keys())
}

/// A new ed25519 key; the private half goes straight to the keychain.
#[tauri::command(rename_all = "snake_case")]
pub async fn generate_key(state: State<'_, AppState>, name: String) -> CmdResult<SshKey> {
    ipc(state.skydeck.generate_key(&name).await)
}

/// An OpenSSH public key line or private key (with its passphrase when it has one).
#[tauri::command(rename_all = "snake_case")]
pub async fn import_key(state: State<'_, AppState>, key: ImportKey) -> CmdResult<SshKey> {
    ipc(state.skydeck.import_key(key).await)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_default_key(state: State<'_, AppState>, id: String) -> CmdResult<SshKey> {
    ipc(state.skydeck.set_default_key(&id))
}

#[tauri::command(rename_all = "snake_case")]
pub async fn rename_key(state: State<'_, AppState>, id: String, name: String) -> CmdResult<SshKey> {
    ipc(state.skydeck.rename_key(&id, &name))
}

/// Deletes the key from Skydeck (keychain entry first). Copies registered at providers stay.
#[tauri::command(rename_all = "snake_case")]
pub async fn delete_key(state: State<'_, AppState>, id: String) -> CmdResult<SshKey> {
    ipc(state.skydeck.delete_key(&id).await)
}

/// Exports the private key (encrypted with `passphrase` when given) to a file the user picks
/// in the native save dialog. Returns the path, or `None` when the user cancelled the dialog.
/// The UI asks for confirmation before calling this.
#[tauri::command(rename_all = "snake_case")]
pub async fn export_private_key<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
    passphrase: Option<Sensitive<String>>,
) -> CmdResult<Option<String>> {
    let key = ipc(state.skydeck.find_key(&id))?;
    // Fails before any dialog when there is nothing to export or the passphrase is unusable.
    let private = ipc(state.skydeck.export_private_key(&key.id, passphrase).await)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(format!("Save the private key of '{}'", key.name))
        .set_file_name(file_name(&key.name))
        .save_file(move |picked| {
            let _ = tx.send(picked);
        });
    let Some(picked) = rx.await.ok().flatten() else { return Ok(None) };
    let path = picked.into_path().map_err(|e| {
        ErrorBody::from(Error::invalid("path", format!("this location cannot be written to ({e}); pick a folder on this computer")))
    })?;
    let target = path.clone();
    tokio::task::spawn_blocking(move || write_private_file(&target, private.expose()))
        .await
        .map_err(|e| ErrorBody::from(Error::Storage(format!("saving the key was interrupted ({e}); try again"))))??;
    Ok(Some(path.display().to_string()))
}

/// `id_<name>` with anything but letters, digits, '-', '_' and '.' replaced: a safe suggestion.
fn file_name(key_name: &str) -> String {
    let clean: String =
        key_name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    format!("id_{}", clean.trim_start_matches('.'))
}

/// Writes the key readable only by its owner: a new 0600 file renamed over `path`, so an
/// existing wider file or a symlink there is replaced, never written through (the same helper
/// as the CLI's `keys export --out`).
fn write_private_file(path: &Path, text: &str) -> CmdResult<()> {
    ipc(skydeck_core::private_file::write_private(path, text, "path"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_file_names_are_plain() {
        assert_eq!(file_name("laptop"), "id_laptop");
        assert_eq!(file_name("../../etc/passwd"), "id__.._etc_passwd", "no path separator survives");
        assert_eq!(file_name("my key ✓"), "id_my_key__");
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_readable_only_by_its_owner_even_when_it_existed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id_x");
        std::fs::write(&path, "old content that is longer than the key").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private_file(&path, "-----BEGIN OPENSSH PRIVATE KEY-----\n").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "-----BEGIN OPENSSH PRIVATE KEY-----\n");
        let fresh = dir.path().join("id_y");
        write_private_file(&fresh, "k").unwrap();
        assert_eq!(std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777, 0o600);
        // A symlink at the chosen path is replaced; the file it named keeps its content.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("id_link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_private_file(&link, "k").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::symlink_metadata(&link).unwrap().permissions().mode() & 0o777, 0o600);
        let err = write_private_file(&dir.path().join("missing/dir/id"), "k").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("path"));
    }
}
