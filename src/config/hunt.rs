//! Continuous hunting settings (`WAZUH_HUNT_*`): whether this daemon also looks, every interval,
//! for new alerts that match the platform's indicators, and how far it looks back.

use std::time::Duration;

use super::parse::{parse_bool, parse_duration, parse_int, Bad};
use super::resolve::{ConfigError, Resolver};

/// `wazuh.hunt.*`
#[derive(Debug, Clone, PartialEq)]
pub struct HuntSettings {
    /// `WAZUH_HUNT_ENABLED` (default false).
    pub enabled: bool,
    /// `WAZUH_HUNT_INTERVAL`: time between two cycles (default 5 min).
    pub interval: Duration,
    /// `WAZUH_HUNT_OVERLAP`: each window starts this much before the previous one ended, for
    /// alerts the indexer makes searchable late (default 1 min).
    pub overlap: Duration,
    /// `WAZUH_HUNT_MAX_WINDOW`: longest window one detection covers; missed time is caught up
    /// in windows of at most this length (default 1 h).
    pub max_window: Duration,
    /// `WAZUH_HUNT_CATCH_UP`: how far back a hunter resumes from an old checkpoint (default 24 h);
    /// older missed time is skipped with a warning.
    pub catch_up: Duration,
    /// `WAZUH_HUNT_MAX_INDICATORS`: most indicators hunted; more are refused loudly (default 200,000).
    pub max_indicators: usize,
}

impl Default for HuntSettings {
    fn default() -> Self {
        HuntSettings {
            enabled: false,
            interval: Duration::from_secs(300),
            overlap: Duration::from_secs(60),
            max_window: Duration::from_secs(3600),
            catch_up: Duration::from_secs(86_400),
            max_indicators: 200_000,
        }
    }
}

fn at_least(min: Duration) -> impl Fn(&str) -> Result<Duration, Bad> {
    move |s| {
        let d = parse_duration(s)?;
        if d < min {
            return Err(Bad::new(
                "is too short",
                format!("a duration of at least {}s", min.as_secs()),
            ));
        }
        Ok(d)
    }
}

pub(crate) fn build(r: &mut Resolver<'_>) -> Result<HuntSettings, ConfigError> {
    let s = HuntSettings {
        enabled: r.with("WAZUH_HUNT_ENABLED", parse_bool)?,
        interval: r.with("WAZUH_HUNT_INTERVAL", at_least(Duration::from_secs(1)))?,
        overlap: r.with("WAZUH_HUNT_OVERLAP", parse_duration)?,
        max_window: r.with("WAZUH_HUNT_MAX_WINDOW", at_least(Duration::from_secs(1)))?,
        catch_up: r.with("WAZUH_HUNT_CATCH_UP", parse_duration)?,
        max_indicators: r.with("WAZUH_HUNT_MAX_INDICATORS", |s| {
            parse_int(s, 1usize, 10_000_000)
        })?,
    };
    if s.overlap >= s.interval {
        return Err(Bad::new(
            "is not shorter than WAZUH_HUNT_INTERVAL",
            "an overlap shorter than the interval, such as 1m with a 5m interval",
        )
        .named("WAZUH_HUNT_OVERLAP", &format!("{}s", s.overlap.as_secs())));
    }
    Ok(s)
}
