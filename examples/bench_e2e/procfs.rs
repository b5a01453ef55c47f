//! Process figures from `/proc`: CPU time and peak resident set (the benchmarks' own harness
//! measures the daemon and the indexer with them).

pub fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// User + system CPU time of a process (all its threads, live and exited), in ms.
pub fn cpu_ms(pid: u32, tck: f64) -> f64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    let Some(rest) = s.rfind(')').map(|i| &s[i + 2..]) else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) as f64 * 1000.0 / tck
}

/// A `kB` field of `/proc/<pid>/status` in MB (NaN when unreadable).
fn status_mb(status: &str, name: &str) -> f64 {
    status
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn status(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default()
}

/// `VmHWM` (peak resident set) in MB.
pub fn peak_rss_mb(pid: u32) -> f64 {
    status_mb(&status(pid), "VmHWM:")
}

/// Current `RssAnon` and `RssFile` (heap and stacks vs. mapped program code) in MB.
#[allow(dead_code)] // bench_hunt shares this file and does not sample them
pub fn rss_split_mb(pid: u32) -> (f64, f64) {
    let s = status(pid);
    (status_mb(&s, "RssAnon:"), status_mb(&s, "RssFile:"))
}
