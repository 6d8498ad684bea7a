//! The data directory and the database hold the user's whole inventory (hosts, addresses,
//! tags, activity), so on unix they are readable by their owner only: the directory is created
//! 0700 and the database files 0600, whatever the umask.

use std::io;
use std::path::Path;

/// Creates `dir` (and missing parents) if needed; directories Skydeck creates are 0700. An
/// existing directory is left as it is: the user may have chosen a shared one on purpose.
pub(super) fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the database file 0600 before SQLite opens it (SQLite would create it 0644, and
/// copies the database's mode to its -wal and -shm files).
pub(super) fn create_db_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// Tightens the database files an older Skydeck left group/world-readable. Best effort: a
/// file owned by someone else stays as it is (its owner decided).
pub(super) fn restrict_db_files(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut names = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            names.push(p.into());
        }
        for p in names {
            if let Ok(meta) = std::fs::symlink_metadata(&p) {
                if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
                    let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
