//! `keyward serve` with settings beyond what keyward accepts: it refuses to start with one line
//! on stderr naming the key and its range, exits with status 1 (not a panic, which the release
//! profile turns into an abort), and creates nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keyward_testkit::process::*;

/// Runs `cmd` to its exit and asserts the one-line refusal starting with `expected`.
fn assert_refused_in_one_line(cmd: std::process::Command, dir: &std::path::Path, expected: &str) {
    let mut proc = Proc::spawn(cmd);
    let status = proc.wait_exit(START_TIMEOUT);
    let lines = proc.stderr_lines();
    assert_eq!(
        status.code(),
        Some(1),
        "{status}\n--- stderr:\n{}",
        proc.stderr_text()
    );
    assert_eq!(lines.len(), 1, "one line on stderr:\n{}", proc.stderr_text());
    assert!(lines[0].starts_with(expected), "{}", lines[0]);
    assert!(
        !lines[0].contains("panic"),
        "a refusal, not a crash: {}",
        lines[0]
    );
    assert!(
        !dir.join("keyward-data").exists(),
        "nothing is created before the configuration is accepted"
    );
}

#[test]
fn serve_refuses_a_huge_max_secret_grace_period_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = serve(dir.path());
    cmd.env("KEYWARD_MAX_SECRET_GRACE_PERIOD", "18446744073709551615");
    assert_refused_in_one_line(
        cmd,
        dir.path(),
        "keyward: configuration: max_secret_grace_period is 18446744073709551615 seconds; it must \
         be between 0 and 31536000 seconds (set in keyward.toml or as KEYWARD_MAX_SECRET_GRACE_PERIOD)",
    );
}

#[test]
fn serve_refuses_a_huge_max_secret_grace_period_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keyward.toml"),
        "max_secret_grace_period = 9223372036854775807\n",
    )
    .unwrap();
    let mut cmd = keyward(dir.path());
    cmd.args(["--config", "keyward.toml", "serve"]);
    assert_refused_in_one_line(
        cmd,
        dir.path(),
        "keyward: configuration: max_secret_grace_period is 9223372036854775807 seconds",
    );
}

#[test]
fn serve_refuses_every_out_of_range_duration_naming_it() {
    for (variable, value, key) in [
        (
            "KEYWARD_MAX_ACCESS_TOKEN_LIFETIME",
            "4294967295",
            "max_access_token_lifetime",
        ),
        ("KEYWARD_CLOCK_SKEW", "4294967295", "clock_skew"),
        ("KEYWARD_JWKS_MAX_STALENESS", "4294967295", "jwks_max_staleness"),
        (
            "KEYWARD_DATABASE_ACQUIRE_TIMEOUT_MS",
            "18446744073709551615",
            "database_acquire_timeout_ms",
        ),
        ("KEYWARD_JWKS_TIMEOUT_MS", "0", "jwks_timeout_ms"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = serve(dir.path());
        cmd.env(variable, value);
        assert_refused_in_one_line(
            cmd,
            dir.path(),
            &format!("keyward: configuration: {key} is {value} "),
        );
    }
}

#[test]
fn serve_refuses_rate_limit_settings_out_of_range_naming_them() {
    for (variable, value, key) in [
        ("KEYWARD_AUTH_FAILURE_BURST", "0", "auth_failure_burst"),
        ("KEYWARD_AUTH_FAILURE_PER_MINUTE", "0", "auth_failure_per_minute"),
        (
            "KEYWARD_AUTH_FAILURE_MAX_ADDRESSES",
            "18446744073709551615",
            "auth_failure_max_addresses",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = serve(dir.path());
        cmd.env(variable, value);
        assert_refused_in_one_line(
            cmd,
            dir.path(),
            &format!("keyward: configuration: {key} is {value} "),
        );
    }
}

#[test]
fn serve_refuses_a_trusted_proxy_that_is_not_an_address_or_range() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = serve(dir.path());
    cmd.env("KEYWARD_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal");
    assert_refused_in_one_line(
        cmd,
        dir.path(),
        "keyward: configuration: trusted_proxies entry \"proxy.internal\" is not an IP address or CIDR range",
    );
}

#[test]
fn serve_refuses_an_unknown_trusted_proxy_header_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keyward.toml"),
        "trusted_proxy_header = \"x-real-ip\"\n",
    )
    .unwrap();
    let mut cmd = keyward(dir.path());
    cmd.args(["--config", "keyward.toml", "serve"]);
    let mut proc = Proc::spawn(cmd);
    let status = proc.wait_exit(START_TIMEOUT);
    assert_eq!(status.code(), Some(1), "{}", proc.stderr_text());
    let text = proc.stderr_text();
    assert!(text.contains("trusted_proxy_header"), "{text}");
    assert!(!dir.path().join("keyward-data").exists());
}
