//! Atomic file writes: checkpoints, logs and reports are never left half-written.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed to disk,
/// then renamed over `path`. A crash leaves either the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{} has no file name", path.display())))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp: PathBuf = match dir {
        Some(d) => d.join(tmp_name),
        None => PathBuf::from(tmp_name),
    };
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Whether `name` is a temporary file of [`write_atomic`] (`<file>.<pid>.tmp`), and of which
/// process.
fn temporary_owner(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".tmp")?;
    let (file, pid) = stem.rsplit_once('.')?;
    if file.is_empty() {
        return None;
    }
    pid.parse().ok()
}

/// Whether the process `pid` is running (on systems without `/proc`, every other process is
/// taken for gone).
fn process_alive(pid: u32) -> bool {
    pid == std::process::id()
        || (Path::new("/proc/self").exists() && Path::new(&format!("/proc/{pid}")).exists())
}

/// Removes the temporary files that [`write_atomic`] left in `dir` when its process was killed
/// mid-write (`<file>.<pid>.tmp` of a process that no longer runs); returns their paths. A
/// missing folder has none. Files of running processes are left alone.
pub fn remove_stale_temporaries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temporary_owner) else {
            continue;
        };
        if !process_alive(pid) && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed() {
        let dir = std::env::temp_dir().join(format!("tokengym-stale-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // No process has a pid this large (Linux caps pids at 2^22).
        let dead = dir.join("model.safetensors.4294967295.tmp");
        let mine = dir.join(format!("metrics.csv.{}.tmp", std::process::id()));
        for path in [&dead, &mine, &dir.join("notes.tmp"), &dir.join("a.b.tmp")] {
            std::fs::write(path, b"x").unwrap();
        }
        assert_eq!(remove_stale_temporaries(&dir).unwrap(), vec![dead.clone()]);
        assert!(!dead.exists() && mine.exists());
        assert!(dir.join("notes.tmp").exists() && dir.join("a.b.tmp").exists());
        assert!(
            remove_stale_temporaries(&dir.join("missing"))
                .unwrap()
                .is_empty()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = std::env::temp_dir().join(format!("tokengym-atomic-{}", std::process::id()));
        let path = dir.join("sub").join("f.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
        assert!(write_atomic(Path::new("/"), b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
