//! The Python that the interop tests drive keyward with: a virtual environment under the target
//! directory with pinned versions of the client libraries, made by the first test that needs it
//! and reused by every later run. A lock file keeps tests running in parallel from making it
//! twice. Making it needs `python3` (with `venv`) and PyPI; without either the test fails and
//! says which.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::Command,
};

use rustix::fs::{flock, FlockOperation};

use crate::tools::{output_text, target_dir};

/// What the interop scripts import, pinned so that every machine tests the same versions
/// (`joserfc` is Authlib's JOSE library; the script reads its keys with it).
pub const REQUIREMENTS: [&str; 3] = ["authlib==1.9.10", "joserfc==1.8.0", "requests==2.34.2"];

/// The interpreter of the environment with [`REQUIREMENTS`], made first if need be.
pub fn interop_python() -> PathBuf {
    let target = target_dir();
    let venv = target.join("keyward-test-python");
    let python = venv.join("bin").join("python");
    let ready = venv.join("keyward-requirements.txt");
    let wanted = REQUIREMENTS.join("\n");
    let lock_path = target.join("keyward-test-python.lock");
    let lock =
        File::create(&lock_path).unwrap_or_else(|e| panic!("cannot create {}: {e}", lock_path.display()));
    flock(&lock, FlockOperation::LockExclusive)
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));
    if std::fs::read_to_string(&ready).is_ok_and(|have| have == wanted) {
        return python;
    }
    make_venv(&venv, &python);
    // Written last: an environment whose install was cut short is made again.
    std::fs::write(&ready, wanted).unwrap();
    python
}

fn make_venv(venv: &Path, python: &Path) {
    if venv.exists() {
        std::fs::remove_dir_all(venv).unwrap();
    }
    let made = Command::new("python3").arg("-m").arg("venv").arg(venv).output();
    match made {
        Err(e) => panic!(
            "the interop tests need python3 on PATH to make {}: {e}",
            venv.display()
        ),
        Ok(out) if !out.status.success() => panic!(
            "python3 -m venv {} failed (is the venv module installed?):\n{}",
            venv.display(),
            output_text(&out)
        ),
        Ok(_) => {}
    }
    let installed = Command::new(python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--quiet"])
        .args(["--timeout", "30", "--retries", "2"])
        .args(REQUIREMENTS)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        installed.status.success(),
        "could not install {} from PyPI into {}: the interop tests need PyPI (https://pypi.org, \
         or the index pip is configured with) to be reachable once, to make this environment.\n{}",
        REQUIREMENTS.join(" "),
        venv.display(),
        output_text(&installed)
    );
}
