//! Helpers for the vq scenarios: run `strata vq` on a file or on standard input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one `strata vq` process did.
#[derive(Debug)]
pub struct VqRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `strata vq ARGS…` with `stdin` (empty when `None`).
pub fn vq(args: &[&std::ffi::OsStr], stdin: Option<&str>) -> VqRun {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("vq")
        .args(args)
        .env("STRATA_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run strata vq");
    if let Some(input) = stdin {
        // A process that stops before reading (a refused open) closes the pipe: not an error.
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes());
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait for strata vq");
    VqRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The data directory under a test's root.
pub fn data_dir(root: &Path) -> PathBuf {
    root.join("data")
}

/// Write `source` to `ROOT/NAME` and run it: `strata vq ROOT/NAME --data-dir ROOT/data`.
pub fn vq_file_named(root: &Path, name: &str, source: &str) -> VqRun {
    let path = root.join(name);
    std::fs::write(&path, source).expect("write the vq file");
    let data = data_dir(root);
    vq(
        &[path.as_os_str(), "--data-dir".as_ref(), data.as_os_str()],
        None,
    )
}

/// [`vq_file_named`] as `script.vq`.
pub fn vq_file(root: &Path, source: &str) -> VqRun {
    vq_file_named(root, "script.vq", source)
}

/// Run `source` and expect exit 0, nothing on stderr; its stdout.
pub fn vq_ok(root: &Path, source: &str) -> String {
    let run = vq_file(root, source);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, ""),
        "{source}\n{run:?}"
    );
    run.stdout
}
