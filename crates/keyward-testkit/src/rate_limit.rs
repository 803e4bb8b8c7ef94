//! Sources of requests for the failure limiter's tests, and the explicit opt-out for tests whose
//! point is to fail authentication many times from one address.

use std::net::IpAddr;

use keyward_server::Config;

/// A client whose connections leave from `ip`. Linux routes all of 127.0.0.0/8 to the loopback
/// interface, so `client_from("127.0.0.2")` reaches a server listening on 127.0.0.1 as another
/// source address.
pub fn client_from(ip: &str) -> reqwest::Client {
    let ip: IpAddr = ip.parse().unwrap();
    reqwest::Client::builder().local_address(ip).build().unwrap()
}

/// The burst a test sets when it fails authentication on purpose more often than the default
/// allows from one address (floods of replays or unknown `kid`s): the limiter stays on, it just
/// never empties within such a test.
pub const MANY_AUTH_FAILURES: u32 = 1_000_000;

/// For [`crate::server::TestServer::start_with`]: see [`MANY_AUTH_FAILURES`].
pub fn allow_many_auth_failures(config: &mut Config) {
    config.auth_failure_burst = MANY_AUTH_FAILURES;
}

/// The same for a `keyward serve` process: its variable and value.
pub const MANY_AUTH_FAILURES_ENV: (&str, &str) = ("KEYWARD_AUTH_FAILURE_BURST", "1000000");
