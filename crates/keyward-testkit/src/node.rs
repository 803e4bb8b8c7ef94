//! The Node.js that the interop tests drive keyward with: a directory under the target directory
//! with pinned versions of the client libraries in `node_modules`, installed by the first test
//! that needs it and reused by every later run. A lock file keeps tests running in parallel from
//! installing twice, and a marker written last makes a cut-short install run again. Installing
//! needs `node` and `npm` on PATH and the npm registry; without either the test fails and says
//! which.
//!
//! Node resolves a bare `import` from the importing file's directory, not from the working
//! directory, so [`node_script`] runs a copy of the script placed next to `node_modules`.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::Command,
};

use rustix::fs::{flock, FlockOperation};

use crate::tools::{output_text, target_dir};

/// The `openid-client` version the interop scripts import.
pub const OPENID_CLIENT: &str = "6.9.0";
/// The `oidc-provider` version the client library's interop test runs as a foreign server.
pub const OIDC_PROVIDER: &str = "9.13.3";

/// `package.json` of the install: `openid-client` and `oidc-provider` pinned exactly, and
/// the JOSE and OAuth libraries under them pinned through `overrides` so that every machine
/// tests the same code.
fn package_json() -> String {
    format!(
        r#"{{
  "name": "keyward-test-node",
  "private": true,
  "dependencies": {{
    "openid-client": "{OPENID_CLIENT}",
    "oidc-provider": "{OIDC_PROVIDER}"
  }},
  "overrides": {{
    "jose": "6.2.18",
    "oauth4webapi": "3.8.8"
  }}
}}
"#
    )
}

/// Holds the install's lock file locked until dropped.
struct Locked {
    _file: File,
}

fn lock() -> Locked {
    let lock_path = target_dir().join("keyward-test-node.lock");
    let lock =
        File::create(&lock_path).unwrap_or_else(|e| panic!("cannot create {}: {e}", lock_path.display()));
    flock(&lock, FlockOperation::LockExclusive)
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));
    Locked { _file: lock }
}

/// The directory whose `node_modules` has the pinned packages, installed first if need be.
pub fn interop_node_dir() -> PathBuf {
    let _locked = lock();
    ensure_installed()
}

/// Must run under the lock.
fn ensure_installed() -> PathBuf {
    let dir = target_dir().join("keyward-test-node");
    let ready = dir.join("keyward-installed.json");
    let wanted = package_json();
    if std::fs::read_to_string(&ready).is_ok_and(|have| have == wanted) {
        return dir;
    }
    install(&dir, &wanted);
    // Written last: an install that was cut short is redone.
    std::fs::write(&ready, wanted).unwrap();
    dir
}

/// A `node` command that runs `script` with the pinned packages importable. The script is
/// copied next to `node_modules` (under the lock, renamed into place so a running copy is
/// never half-written); run it with the working directory and arguments the test needs.
pub fn node_script(script: &Path) -> Command {
    let _locked = lock();
    let dir = ensure_installed();
    let name = script
        .file_name()
        .unwrap_or_else(|| panic!("{} names no file", script.display()));
    let source = std::fs::read(script).unwrap_or_else(|e| panic!("cannot read {}: {e}", script.display()));
    let copy = dir.join(name);
    if std::fs::read(&copy).ok().as_deref() != Some(source.as_slice()) {
        let tmp = dir.join(format!("{}.tmp", name.to_string_lossy()));
        std::fs::write(&tmp, &source).unwrap();
        std::fs::rename(&tmp, &copy).unwrap();
    }
    let mut cmd = Command::new("node");
    cmd.arg(copy);
    cmd
}

fn install(dir: &Path, package_json: &str) {
    for tool in ["node", "npm"] {
        match Command::new(tool).arg("--version").output() {
            Err(e) => panic!(
                "the interop tests need {tool} on PATH to install openid-client and oidc-provider into {}: {e}",
                dir.display()
            ),
            Ok(out) if !out.status.success() => panic!(
                "{tool} --version failed; the interop tests need a working {tool}:\n{}",
                output_text(&out)
            ),
            Ok(_) => {}
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("package.json"), package_json).unwrap();
    let installed = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run npm in {}: {e}", dir.display()));
    assert!(
        installed.status.success(),
        "could not install openid-client {OPENID_CLIENT} and oidc-provider {OIDC_PROVIDER} into {}: the interop tests need the npm \
         registry (the one npm is configured with) to be reachable once, to make this \
         directory.\n{}",
        dir.display(),
        output_text(&installed)
    );
}
