//! What the Python and Node.js environments of the interop tests share.

use std::{path::PathBuf, process::Output};

/// `target/`: the running test is `target/<profile>/deps/<name>`.
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .find(|p| p.ends_with("deps"))
        .and_then(|deps| deps.parent()?.parent())
        .unwrap_or_else(|| panic!("{} is not under target/<profile>/deps", exe.display()))
        .to_owned()
}

/// A finished command's status and output, for a panic message.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}\n--- stdout:\n{}\n--- stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
