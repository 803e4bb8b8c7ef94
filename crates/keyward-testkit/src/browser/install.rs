//! Installing Debian's Chromium and its WebDriver server when a machine lacks them.

use std::{
    fs::{File, OpenOptions},
    path::Path,
    process::{Command, Stdio},
    sync::OnceLock,
};

use rustix::{
    fs::{flock, FlockOperation},
    process::geteuid,
};

use super::{APT_PACKAGES, CHROMEDRIVER, CHROMIUM};
use crate::tools::output_text;

/// Makes sure [`CHROMIUM`] and [`CHROMEDRIVER`] exist, installing [`APT_PACKAGES`] with apt
/// first if need be (as root, or through `sudo -n` otherwise). Test binaries running at the same
/// time wait on one lock file, so the install runs once. Panics, naming the packages to install
/// by hand, when they cannot be installed.
pub fn ensure_chromium() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if installed() {
            return;
        }
        // apt is machine-wide, so the lock is too: the system temp dir, not the target dir.
        let lock_path = std::env::temp_dir().join("keyward-test-chromium-install.lock");
        // Another user's lock file is opened read-only: flock(2) does not need write access.
        let lock = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&lock_path)
            .or_else(|_| File::open(&lock_path))
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
        flock(&lock, FlockOperation::LockExclusive)
            .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));
        // Another test binary may have installed them while this one waited.
        if !installed() {
            install();
        }
    });
}

fn installed() -> bool {
    Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file()
}

fn how_to_install_by_hand() -> String {
    format!(
        "the browser tests need {CHROMIUM} and {CHROMEDRIVER}: install them by hand, on Debian or \
         Ubuntu with `sudo apt-get install {}` (elsewhere: Chromium and the matching chromedriver, \
         at those paths)",
        APT_PACKAGES.join(" ")
    )
}

/// `apt-get ARGS`, directly as root, through `sudo -n` (never prompting) otherwise.
fn apt_get(args: &[&str]) -> Result<(), String> {
    let as_root = geteuid().is_root();
    let mut cmd = if as_root {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "apt-get"]);
        sudo
    };
    // Wait for a package manager that another process is running instead of failing at once.
    cmd.args(["-o", "DPkg::Lock::Timeout=300"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null());
    let sudo = if as_root { "" } else { "sudo -n " };
    let shown = format!("{sudo}apt-get {}", args.join(" "));
    match cmd.output() {
        Err(e) => Err(format!("cannot run {shown}: {e}")),
        Ok(out) if !out.status.success() => Err(format!("{shown} failed: {}", output_text(&out))),
        Ok(_) => Ok(()),
    }
}

fn install() {
    let mut install_args = vec!["install", "-y", "--no-install-recommends"];
    install_args.extend(APT_PACKAGES);
    // A fresh machine may have no package lists yet, or stale ones: update once, then retry.
    let result = apt_get(&install_args).or_else(|first| {
        apt_get(&["update"])
            .and_then(|()| apt_get(&install_args))
            .map_err(|second| format!("{first}\n\nafter apt-get update:\n{second}"))
    });
    match result {
        Ok(()) if installed() => {}
        Ok(()) => panic!(
            "apt-get installed {} but {CHROMIUM} or {CHROMEDRIVER} is still missing; {}",
            APT_PACKAGES.join(" "),
            how_to_install_by_hand()
        ),
        Err(why) => panic!("{}.\n\nInstalling them failed:\n{why}", how_to_install_by_hand()),
    }
}
