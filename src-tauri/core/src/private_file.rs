//! Writing a file only its owner may read (an exported private key), the one way the CLI's
//! `keys export --out` and the window's save-dialog export both use.
//!
//! Opening the target with `O_CREAT|O_TRUNC` and mode 0600 is not enough: an existing file keeps
//! its old mode (0644 stays world-readable), and a symlink at the target is followed, so the key
//! lands in whatever file the link names. Instead the text goes to a new temporary file created
//! 0600 (`O_EXCL`) in the target's directory, is synced, and is renamed over the target. A
//! rename never follows a symlink at the destination: **a symlink at the target is replaced by
//! the key file, and the file it pointed to is left untouched.** The same holds for an existing
//! file: it is replaced, not rewritten, so its old permissions and hard links do not carry over.

use crate::Error;
use std::io::Write;
use std::path::Path;

/// Writes `text` to `path` readable and writable by the owner only (0600 on unix), replacing
/// (never following) whatever is at `path`. `field` names the input the path came from, for
/// the error.
pub fn write_private(path: &Path, text: &str, field: &str) -> Result<(), Error> {
    let fail = |e: std::io::Error| {
        Error::invalid(field, format!("cannot write {} ({e}); pick a folder you can write to", path.display()))
    };
    if path.file_name().is_none() {
        return Err(Error::invalid(field, format!("{} is not a file name; give the path of the file to write", path.display())));
    }
    // `Path::parent` of a bare file name is "": the current directory.
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(Error::invalid(field, format!("{} is a directory; give the path of the file to write", path.display())));
    }
    // tempfile creates it with O_EXCL and mode 0600 on unix; it is removed if anything fails.
    let mut tmp = tempfile::Builder::new().prefix(".skydeck-key-").tempfile_in(dir).map_err(fail)?;
    tmp.write_all(text.as_bytes()).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n-----END OPENSSH PRIVATE KEY-----\n";

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_existing_world_readable_file_becomes_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id_x");
        std::fs::write(&path, "old content that is longer than the key, and then some more").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, KEY, "out").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), KEY);
        let fresh = dir.path().join("id_y");
        write_private(&fresh, KEY, "out").unwrap();
        assert_eq!(mode(&fresh), 0o600);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 2, "no temporary file is left behind: {left:?}");
    }

    #[test]
    fn a_symlink_is_replaced_and_its_target_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("bashrc");
        std::fs::write(&victim, "export PS1=x\n").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = dir.path().join("id_link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_private(&link, KEY, "out").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "export PS1=x\n", "the link's target is untouched");
        assert_eq!(mode(&victim), 0o644);
        assert!(!std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link itself was replaced");
        assert_eq!(mode(&link), 0o600);
        assert_eq!(std::fs::read_to_string(&link).unwrap(), KEY);
    }

    #[test]
    fn unusable_targets_are_refused_at_the_field() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [dir.path().join("missing/dir/id"), dir.path().to_path_buf()] {
            let e = crate::ErrorBody::from(write_private(&bad, KEY, "out").unwrap_err());
            assert_eq!((e.code.as_str(), e.field.as_deref()), ("invalid_input", Some("out")), "{}", e.message);
            assert!(!e.message.contains("secret"), "the key never appears in the error");
        }
    }
}
