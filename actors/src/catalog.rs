//! The catalog protocol, small enough to model-check: one atomically swapped snapshot of "what
//! data exists" ([`VersionCell`]) and reference-counted files ([`FileRef`]) that are deleted only
//! once they are obsolete *and* no snapshot references them any more.
//!
//! * Readers call [`VersionCell::current`] and get an `Arc<V>`: an immutable snapshot they may hold
//!   for as long as a query runs.
//! * Editors (memtable freeze, flush, compaction) go through [`VersionCell::edit`], which is
//!   serialized by a mutex: build the next version from the current one, publish it in one swap.
//! * A file replaced by an edit is [`FileRef::mark_obsolete`]d by the editor; it is handed to the
//!   [`Deleter`] when the last `FileRef` to it drops, i.e. when the last version naming it is gone.
//!
//! The flush hand-off ([`VersionCell::install_flush`]) is a single edit that removes the frozen
//! memtable and adds its table, so a reader sees every point exactly once at every instant.

use std::ops::Deref;

use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{self, Arc, Mutex};

/// A published, swappable snapshot. Edits are serialized; reads never wait for an edit to finish
/// building its version (only for the pointer swap).
pub struct VersionCell<V> {
    current: Mutex<Arc<V>>,
    edits: Mutex<()>,
}

impl<V> VersionCell<V> {
    /// A cell publishing `initial`.
    pub fn new(initial: V) -> Self {
        VersionCell {
            current: Mutex::new(Arc::new(initial)),
            edits: Mutex::new(()),
        }
    }

    /// The current snapshot; it stays valid (and keeps its files alive) while held.
    pub fn current(&self) -> Arc<V> {
        sync::lock(&self.current).clone()
    }

    /// Serialized read-modify-publish: `f` gets the current version and returns the next one
    /// (published in one swap) and a value handed back to the caller (e.g. the files it removed,
    /// for the caller to [`FileRef::mark_obsolete`]).
    pub fn edit<R>(&self, f: impl FnOnce(&V) -> (V, R)) -> R {
        #[cfg(not(strata_loom_mutant = "edit_lost_update"))]
        let _serial = sync::lock(&self.edits);
        // Planted bug: edits are not serialized, so two concurrent edits both build on the same
        // base and the second publish silently discards the first.
        #[cfg(strata_loom_mutant = "edit_lost_update")]
        let _serial = ();
        let base = self.current();
        let (next, out) = f(&base);
        let old = std::mem::replace(&mut *sync::lock(&self.current), Arc::new(next));
        // Dropped outside the pointer lock: this may be the last reference to obsolete files.
        drop(old);
        drop(base);
        out
    }

    /// Replace the version outright (serialized with edits).
    pub fn publish(&self, next: V) {
        self.edit(|_| (next, ()));
    }
}

/// The two halves of a flush as version edits, so [`VersionCell::install_flush`] can apply them in
/// one publish.
pub trait FlushEdit: Sized {
    /// Names a frozen memtable inside a version.
    type FrozenId;
    /// A flushed table as the version holds it (typically a [`FileRef`]).
    type Table;
    /// This version without the frozen memtable `id`.
    fn without_frozen(&self, id: &Self::FrozenId) -> Self;
    /// This version with `table` added to the first layer.
    fn with_table(&self, table: Self::Table) -> Self;
}

impl<V: FlushEdit> VersionCell<V> {
    /// The flush hand-off: publish a version that has the table and no longer has the frozen
    /// memtable, in one swap. A reader sees the data in the frozen memtable or in the table,
    /// never in neither and never in both. `table` is `None` when the memtable held nothing.
    pub fn install_flush(&self, frozen: &V::FrozenId, table: Option<V::Table>) {
        #[cfg(not(strata_loom_mutant = "flush_drop_before_install"))]
        self.edit(|v| {
            let next = v.without_frozen(frozen);
            let next = match table {
                Some(t) => next.with_table(t),
                None => next,
            };
            (next, ())
        });
        // Planted bug: the frozen memtable leaves the published version before the table enters
        // it, so a reader between the two publishes sees neither.
        #[cfg(strata_loom_mutant = "flush_drop_before_install")]
        {
            self.edit(|v| (v.without_frozen(frozen), ()));
            if let Some(t) = table {
                self.edit(|v| (v.with_table(t), ()));
            }
        }
    }
}

/// A compaction (or delete rewrite) as a version edit: tables out, tables in.
pub trait ReplaceEdit: Sized {
    /// A table as the version holds it (typically a [`FileRef`]).
    type Table;
    /// Whether `table` is in this version.
    fn contains(&self, table: &Self::Table) -> bool;
    /// This version without `removed` and with `added`.
    fn replaced(&self, removed: &[Self::Table], added: Vec<Self::Table>) -> Self;
}

impl<V: ReplaceEdit> VersionCell<V> {
    /// The compaction install: if every one of `removed` is still in the current version,
    /// publish, in one swap, a version with `added` instead, and return `true`; otherwise change
    /// nothing and return `false` (a concurrent edit already replaced one of them: the caller
    /// discards its output and plans again). A reader sees every point in the inputs or in the
    /// outputs, never in neither and never in both.
    pub fn replace(&self, removed: &[V::Table], added: Vec<V::Table>) -> bool {
        #[cfg(not(strata_loom_mutant = "compaction_install_two_steps"))]
        return self.edit(|v| {
            #[cfg(not(strata_loom_mutant = "compaction_no_conflict_check"))]
            if !removed.iter().all(|t| v.contains(t)) {
                return (v.replaced(&[], Vec::new()), false);
            }
            (v.replaced(removed, added), true)
        });
        // Planted bug: the outputs are published before the inputs leave, so a reader between
        // the two publishes sees their points twice.
        #[cfg(strata_loom_mutant = "compaction_install_two_steps")]
        {
            let ok = self.edit(|v| {
                if !removed.iter().all(|t| v.contains(t)) {
                    return (v.replaced(&[], Vec::new()), false);
                }
                (v.replaced(&[], added), true)
            });
            if ok {
                self.edit(|v| (v.replaced(removed, Vec::new()), ()));
            }
            ok
        }
    }
}

/// Deletes a file once nothing references it (a real unlink, or a fake under loom).
pub trait Deleter<T>: Send + Sync + 'static {
    /// Delete `file`: called once, when the last reference to an obsolete file drops.
    fn delete(&self, file: &T);
}

struct FileInner<T, D: Deleter<T>> {
    file: T,
    obsolete: AtomicBool,
    deleter: Arc<D>,
}

impl<T, D: Deleter<T>> Drop for FileInner<T, D> {
    fn drop(&mut self) {
        if self.obsolete.load(Ordering::Acquire) {
            self.deleter.delete(&self.file);
        }
    }
}

/// A shared reference to one immutable file. Every version that names the file holds a clone;
/// the file is deleted when it has been marked obsolete and the last clone drops.
pub struct FileRef<T, D: Deleter<T>> {
    inner: Arc<FileInner<T, D>>,
}

impl<T, D: Deleter<T>> Clone for FileRef<T, D> {
    fn clone(&self) -> Self {
        FileRef {
            inner: self.inner.clone(),
        }
    }
}

impl<T, D: Deleter<T>> FileRef<T, D> {
    /// The first reference to a live `file`; `deleter` deletes it once it is obsolete and the
    /// last reference drops.
    pub fn new(file: T, deleter: Arc<D>) -> Self {
        FileRef {
            inner: Arc::new(FileInner {
                file,
                obsolete: AtomicBool::new(false),
                deleter,
            }),
        }
    }

    /// The file is no longer part of the current version (an edit replaced it): delete it once
    /// the last reference drops. Call it while still holding a reference, after publishing the
    /// version that no longer names the file.
    pub fn mark_obsolete(&self) {
        #[cfg(not(strata_loom_mutant = "delete_while_referenced"))]
        self.inner.obsolete.store(true, Ordering::Release);
        // Planted bug: delete at once, ignoring the readers whose versions still name the file.
        #[cfg(strata_loom_mutant = "delete_while_referenced")]
        self.inner.deleter.delete(&self.inner.file);
    }

    /// Whether [`FileRef::mark_obsolete`] was called (the file goes with its last reference).
    pub fn is_obsolete(&self) -> bool {
        self.inner.obsolete.load(Ordering::Acquire)
    }

    /// The file this reference keeps alive.
    pub fn file(&self) -> &T {
        &self.inner.file
    }
}

impl<T, D: Deleter<T>> Deref for FileRef<T, D> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner.file
    }
}

#[cfg(all(test, not(strata_loom)))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    #[derive(Default)]
    struct Bin(StdMutex<Vec<u32>>);
    impl Deleter<u32> for Bin {
        fn delete(&self, file: &u32) {
            self.0.lock().unwrap().push(*file);
        }
    }

    type F = FileRef<u32, Bin>;

    #[derive(Clone)]
    struct V {
        files: Vec<F>,
        frozen: Vec<u32>,
    }

    impl FlushEdit for V {
        type FrozenId = u32;
        type Table = F;
        fn without_frozen(&self, id: &u32) -> V {
            V {
                files: self.files.clone(),
                frozen: self.frozen.iter().copied().filter(|f| f != id).collect(),
            }
        }
        fn with_table(&self, t: F) -> V {
            let mut files = self.files.clone();
            files.push(t);
            V {
                files,
                frozen: self.frozen.clone(),
            }
        }
    }

    fn ids(v: &V) -> Vec<u32> {
        v.files.iter().map(|f| **f).collect()
    }

    #[test]
    fn obsolete_file_is_deleted_when_the_last_reader_lets_go() {
        let bin = Arc::new(Bin::default());
        let cell = VersionCell::new(V {
            files: vec![FileRef::new(1, bin.clone())],
            frozen: vec![],
        });
        let reader = cell.current();
        let new = FileRef::new(2, bin.clone());
        let removed = cell.edit(|v| {
            (
                V {
                    files: vec![new],
                    frozen: vec![],
                },
                v.files.clone(),
            )
        });
        for f in &removed {
            f.mark_obsolete();
        }
        drop(removed);
        assert!(
            bin.0.lock().unwrap().is_empty(),
            "a reader still holds file 1"
        );
        assert_eq!(ids(&reader), vec![1]);
        drop(reader);
        assert_eq!(*bin.0.lock().unwrap(), vec![1]);
        assert_eq!(ids(&cell.current()), vec![2]);
    }

    #[test]
    fn live_files_are_never_deleted() {
        let bin = Arc::new(Bin::default());
        let cell = VersionCell::new(V {
            files: vec![FileRef::new(1, bin.clone())],
            frozen: vec![],
        });
        cell.publish(V {
            files: vec![],
            frozen: vec![],
        });
        assert!(bin.0.lock().unwrap().is_empty(), "not marked obsolete");
    }

    #[test]
    fn install_flush_swaps_frozen_for_table_in_one_edit() {
        let bin = Arc::new(Bin::default());
        let cell = VersionCell::new(V {
            files: vec![],
            frozen: vec![7],
        });
        cell.install_flush(&7, Some(FileRef::new(3, bin.clone())));
        let v = cell.current();
        assert!(v.frozen.is_empty());
        assert_eq!(ids(&v), vec![3]);
        let cell = VersionCell::new(V {
            files: vec![],
            frozen: vec![8],
        });
        cell.install_flush(&8, None);
        assert!(cell.current().frozen.is_empty());
    }

    #[test]
    fn concurrent_edits_are_not_lost() {
        let cell = Arc::new(VersionCell::new(Vec::<u32>::new()));
        let hs: Vec<_> = (0..4)
            .map(|t| {
                let cell = cell.clone();
                std::thread::spawn(move || {
                    for i in 0..100 {
                        cell.edit(|v| {
                            let mut n = v.clone();
                            n.push(t * 1000 + i);
                            (n, ())
                        });
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(cell.current().len(), 400);
    }
}
