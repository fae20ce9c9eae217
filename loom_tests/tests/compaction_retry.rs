//! A failing compaction (`run_compactor` over an I/O whose first two runs fail, as on a full
//! disk): the failure poisons nothing, a barrier that meets it is answered with it instead of
//! being held, the compactor tries again by itself, and once a run succeeds every point reaches
//! the next layer, visible exactly once throughout.
//!
//! Killed by: `compaction_failure_poisons`.

use strata_actors::catalog::VersionCell;
use strata_actors::compactor::{run_compactor, CompactIo, CompactMsg, Installed};
use strata_actors::mailbox::{FacadeMailbox, FacadeSender, Mailbox, Sender};
use strata_actors::oneshot::oneshot;
use strata_actors::sync::{thread, Arc};
use strata_actors::Health;
use strata_loom_tests::fakes::{assert_each_visible_once, LayerIo, LsmVersion, Table};
use strata_loom_tests::model;

/// [`LayerIo`] whose first `failures_left` runs fail with an I/O error that passes.
struct Failing {
    inner: LayerIo,
    failures_left: usize,
}

impl CompactIo for Failing {
    type Job = Vec<Arc<Table>>;
    type Output = Arc<Table>;
    type Error = String;
    fn plan(&mut self, force: bool) -> Result<Option<Self::Job>, String> {
        self.inner.plan(force)
    }
    fn run(&mut self, job: &Self::Job) -> Result<Self::Output, String> {
        if self.failures_left > 0 {
            self.failures_left -= 1;
            return Err("injected ENOSPC".to_string());
        }
        self.inner.run(job)
    }
    fn install(&mut self, job: Self::Job, out: Self::Output) -> Result<Installed, String> {
        self.inner.install(job, out)
    }
    fn retry_after(&mut self, _failures: u32, _error: &String) -> Option<std::time::Duration> {
        Some(std::time::Duration::ZERO)
    }
}

#[test]
fn a_failing_compaction_is_retried_without_poisoning() {
    model(|| {
        let mut v = LsmVersion::empty();
        v.tables = vec![
            Arc::new(Table {
                points: vec![1],
                layer: 0,
            }),
            Arc::new(Table {
                points: vec![2],
                layer: 0,
            }),
        ];
        let cell = Arc::new(VersionCell::new(v));
        let health = Health::new();
        let (tx, rx) = FacadeMailbox::bounded::<CompactMsg<String>>(1);
        assert!(tx.try_send(CompactMsg::Nudge).is_ok());
        let io = Failing {
            inner: LayerIo {
                cell: cell.clone(),
                layer: 0,
                limit: 0,
            },
            failures_left: 2,
        };
        let h = health.clone();
        let c0 = thread::spawn(move || {
            run_compactor::<_, _, FacadeSender<CompactMsg<String>>>(io, rx, None, h, None)
        });

        // A barrier may meet the failure (and is answered with it) or the retry's success.
        let (done, answer) = oneshot();
        assert!(tx.send(CompactMsg::Barrier(done)).is_ok());
        match answer.recv() {
            Some(Ok(())) => {}
            Some(Err(e)) => assert_eq!(
                e,
                strata_actors::ActorError::Compaction("injected ENOSPC".to_string())
            ),
            None => panic!("the barrier was dropped"),
        }
        assert_each_visible_once(&cell, &[1, 2]);
        // By the next barrier a run has succeeded.
        let (done, answer) = oneshot();
        assert!(tx.send(CompactMsg::Barrier(done)).is_ok());
        assert_eq!(answer.recv(), Some(Ok(())));
        assert!(
            health.check().is_ok(),
            "a failure that passes poisons nothing"
        );

        drop(tx);
        c0.join().expect("C0");
        assert_each_visible_once(&cell, &[1, 2]);
        let v = cell.current();
        assert!(
            v.tables.iter().all(|t| t.layer == 1),
            "the retry never moved the tables: layers {:?}",
            v.tables.iter().map(|t| t.layer).collect::<Vec<_>>()
        );
    });
}
