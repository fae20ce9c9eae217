//! Version install vs readers (`catalog::VersionCell` + `FileRef`): no file is deleted while a
//! reader's version still references it, an obsolete file is deleted exactly once when the last
//! reference goes, and concurrent edits are serialized (none is lost).
//!
//! Killed by: `delete_while_referenced`, `edit_lost_update`.

use strata_actors::catalog::{Deleter, FileRef, VersionCell};
use strata_actors::sync::{self, thread, Arc, Mutex};
use strata_loom_tests::model;

/// A fake table store: which files exist and how often each was deleted.
struct Disk {
    deletes: Mutex<Vec<(u64, usize)>>,
}

impl Disk {
    fn new(ids: &[u64]) -> Arc<Disk> {
        Arc::new(Disk {
            deletes: Mutex::new(ids.iter().map(|&i| (i, 0)).collect()),
        })
    }
    fn deletes(&self, id: u64) -> usize {
        sync::lock(&self.deletes)
            .iter()
            .find(|f| f.0 == id)
            .map_or(0, |f| f.1)
    }
    /// A reader opening the file: it must still exist.
    fn read(&self, id: u64) {
        assert_eq!(
            self.deletes(id),
            0,
            "file {id} was deleted while a reader's version referenced it"
        );
    }
}

impl Deleter<u64> for Disk {
    fn delete(&self, id: &u64) {
        let mut d = sync::lock(&self.deletes);
        if let Some(f) = d.iter_mut().find(|f| f.0 == *id) {
            f.1 += 1;
        }
    }
}

type File = FileRef<u64, Disk>;

struct Catalog {
    files: Vec<File>,
}

fn ids(c: &Catalog) -> Vec<u64> {
    let mut v: Vec<u64> = c.files.iter().map(|f| **f).collect();
    v.sort_unstable();
    v
}

#[test]
fn no_file_deleted_while_a_reader_references_it() {
    model(|| {
        let disk = Disk::new(&[1, 2]);
        let cell = Arc::new(VersionCell::new(Catalog {
            files: vec![FileRef::new(1, disk.clone())],
        }));
        let (rcell, rdisk) = (cell.clone(), disk.clone());
        let reader = thread::spawn(move || {
            let v = rcell.current();
            for f in &v.files {
                rdisk.read(**f);
            }
            // A query reads its files more than once while it holds the version.
            for f in &v.files {
                rdisk.read(**f);
            }
        });
        // Compaction: file 1 is replaced by file 2.
        let new = FileRef::new(2, disk.clone());
        let removed = cell.edit(move |v| (Catalog { files: vec![new] }, v.files.clone()));
        for f in &removed {
            f.mark_obsolete();
        }
        drop(removed);
        reader.join().expect("reader");
        assert_eq!(ids(&cell.current()), vec![2]);
        assert_eq!(
            disk.deletes(1),
            1,
            "obsolete file 1 not deleted exactly once"
        );
        drop(cell);
        assert_eq!(disk.deletes(2), 0, "live file 2 was deleted");
    });
}

#[test]
fn concurrent_edits_are_serialized() {
    model(|| {
        let disk = Disk::new(&[1, 2]);
        let cell = Arc::new(VersionCell::new(Catalog { files: Vec::new() }));
        let add = |cell: &VersionCell<Catalog>, f: File| {
            cell.edit(move |v| {
                let mut files = v.files.clone();
                files.push(f);
                (Catalog { files }, ())
            })
        };
        let (c2, f2) = (cell.clone(), FileRef::new(2, disk.clone()));
        let other = thread::spawn(move || add(&c2, f2));
        add(&cell, FileRef::new(1, disk.clone()));
        other.join().expect("editor");
        assert_eq!(ids(&cell.current()), vec![1, 2], "an edit was lost");
    });
}
