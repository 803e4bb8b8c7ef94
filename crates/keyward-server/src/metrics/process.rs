//! The process metrics Prometheus' own clients export (`process_*`), read from `/proc/self` at
//! scrape time, so an operator sees memory, CPU and descriptors next to keyward's own numbers.
//! Linux only: elsewhere they are absent. A value that cannot be read is left out, never made up.

use std::fmt::Write;

/// Appends the process metrics that can be read now to `text`.
pub(super) fn render(text: &mut String) {
    #[cfg(target_os = "linux")]
    linux::render(text);
    #[cfg(not(target_os = "linux"))]
    let _ = text;
}

/// One metric in the text format, with its HELP and TYPE lines.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn write_metric(text: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} {kind}");
    let _ = writeln!(text, "{name} {value}");
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs;

    use super::write_metric;

    /// `/proc` counts CPU time in USER_HZ ticks, which the kernel's ABI fixes at 100 on every
    /// architecture Linux runs keyward on (Prometheus' procfs reader makes the same assumption).
    const USER_HZ: f64 = 100.0;

    pub(super) fn render(text: &mut String) {
        if let Some(bytes) = resident_memory_bytes() {
            write_metric(
                text,
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes",
                bytes,
            );
        }
        let stat = fs::read_to_string("/proc/self/stat").ok();
        let stat = stat.as_deref().and_then(Stat::parse);
        if let Some(stat) = &stat {
            write_metric(
                text,
                "process_cpu_seconds_total",
                "counter",
                "Total user and system CPU time spent in seconds",
                (stat.utime + stat.stime) / USER_HZ,
            );
        }
        if let Some(n) = open_fds() {
            write_metric(
                text,
                "process_open_fds",
                "gauge",
                "Number of open file descriptors",
                n,
            );
        }
        if let Some(n) = max_fds() {
            write_metric(
                text,
                "process_max_fds",
                "gauge",
                "Maximum number of open file descriptors (soft limit)",
                n,
            );
        }
        if let Some(start) = stat.and_then(|s| Some(boot_time()? + s.starttime / USER_HZ)) {
            write_metric(
                text,
                "process_start_time_seconds",
                "gauge",
                "Start time of the process since the Unix epoch in seconds",
                start,
            );
        }
    }

    /// The fields of `/proc/self/stat` used here, in ticks.
    struct Stat {
        utime: f64,
        stime: f64,
        starttime: f64,
    }

    impl Stat {
        /// The command name (field 2) is in parentheses and may itself hold spaces or `)`, so
        /// the fields are counted from the last `)`: state is field 3, utime 14, stime 15,
        /// starttime 22 (proc(5)).
        fn parse(text: &str) -> Option<Self> {
            let (_, rest) = text.rsplit_once(')')?;
            let mut fields = rest.split_whitespace();
            let mut field = |skip: usize| fields.nth(skip)?.parse::<f64>().ok();
            let utime = field(11)?;
            let stime = field(0)?;
            let starttime = field(6)?;
            Some(Self {
                utime,
                stime,
                starttime,
            })
        }
    }

    /// `VmRSS:   12345 kB` in `/proc/self/status`.
    fn resident_memory_bytes() -> Option<f64> {
        let status = fs::read_to_string("/proc/self/status").ok()?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse::<f64>()
            .ok()?;
        Some(kib * 1024.0)
    }

    /// Entries of `/proc/self/fd`; the handle reading it is one of them and is not counted.
    fn open_fds() -> Option<f64> {
        let n = fs::read_dir("/proc/self/fd").ok()?.count();
        Some(n.saturating_sub(1) as f64)
    }

    /// The soft limit on the `Max open files` line of `/proc/self/limits`.
    fn max_fds() -> Option<f64> {
        let limits = fs::read_to_string("/proc/self/limits").ok()?;
        let line = limits.lines().find_map(|l| l.strip_prefix("Max open files"))?;
        line.split_whitespace().next()?.parse::<f64>().ok()
    }

    /// `btime` in `/proc/stat`: when the system booted, in seconds since the Unix epoch.
    fn boot_time() -> Option<f64> {
        let stat = fs::read_to_string("/proc/stat").ok()?;
        stat.lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse::<f64>()
            .ok()
    }

    #[cfg(test)]
    mod tests {
        use super::Stat;

        #[test]
        fn stat_fields_are_counted_from_the_last_parenthesis() {
            let line = "42 (a b) c)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 1234 0 0";
            let stat = Stat::parse(line).unwrap();
            assert_eq!((stat.utime, stat.stime, stat.starttime), (250.0, 50.0, 1234.0));
        }
    }
}
