//! Attachment bytes, kept out of the JSON snapshot: in memory while the emulator runs, written
//! beside the snapshot (`emulator-files/<id>`) by the snapshotter, read back from there after a
//! restart. Without a state file they live in memory only.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use axum::body::Bytes;

#[derive(Debug, Default)]
pub struct Files {
    dir: Option<PathBuf>,
    mem: HashMap<u64, Bytes>,
    unsaved: HashSet<u64>,
    removed: HashSet<u64>,
}

/// What the snapshotter has to write and delete, taken under the world's lock and done outside it.
pub struct Pending {
    dir: PathBuf,
    write: Vec<(u64, Bytes)>,
    delete: Vec<u64>,
}

impl Files {
    /// Keeps the bytes in `dir` from now on (the folder beside the state file).
    pub fn set_dir(&mut self, dir: Option<PathBuf>) {
        self.dir = dir;
    }

    pub fn dir(&self) -> Option<PathBuf> {
        self.dir.clone()
    }

    pub fn put(&mut self, id: u64, bytes: Bytes) {
        self.removed.remove(&id);
        self.unsaved.insert(id);
        self.mem.insert(id, bytes);
    }

    /// The bytes of attachment `id`, from memory or from the folder.
    pub fn get(&self, id: u64) -> Option<Bytes> {
        if let Some(b) = self.mem.get(&id) {
            return Some(b.clone());
        }
        if self.removed.contains(&id) {
            return None;
        }
        let path = self.dir.as_ref()?.join(id.to_string());
        std::fs::read(path).ok().map(Bytes::from)
    }

    pub fn remove(&mut self, id: u64) {
        self.mem.remove(&id);
        self.unsaved.remove(&id);
        self.removed.insert(id);
    }

    /// What must reach the folder; `None` without one.
    pub fn take_pending(&mut self) -> Option<Pending> {
        let dir = self.dir.clone()?;
        if self.unsaved.is_empty() && self.removed.is_empty() {
            return None;
        }
        let write = self
            .unsaved
            .drain()
            .filter_map(|id| self.mem.get(&id).map(|b| (id, b.clone())))
            .collect();
        let delete = self.removed.drain().collect();
        Some(Pending { dir, write, delete })
    }
}

impl Pending {
    /// Writes and deletes the files (owner-only, as the snapshot is).
    pub fn apply(self) -> std::io::Result<()> {
        create_private_dir(&self.dir)?;
        for (id, bytes) in self.write {
            let path = self.dir.join(id.to_string());
            std::fs::write(&path, &bytes)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
        for id in self.delete {
            let _ = std::fs::remove_file(self.dir.join(id.to_string()));
        }
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_survive_a_restart_through_the_folder_and_removal_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut files = Files::default();
        files.set_dir(Some(dir.path().join("emulator-files")));
        files.put(7, Bytes::from_static(b"hello"));
        files
            .take_pending()
            .expect("pending")
            .apply()
            .expect("written");
        assert!(files.take_pending().is_none(), "nothing left to write");

        let mut after = Files::default();
        after.set_dir(Some(dir.path().join("emulator-files")));
        assert_eq!(after.get(7).as_deref(), Some(&b"hello"[..]));
        after.remove(7);
        assert_eq!(after.get(7), None);
        after
            .take_pending()
            .expect("pending")
            .apply()
            .expect("deleted");
        assert!(!dir.path().join("emulator-files/7").exists());
    }
}
