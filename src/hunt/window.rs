//! Where a hunter stands: its checkpoint (the end of the last window searched), kept in the
//! connector state the platform stores for the connector, and the windows of the next cycle.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::config::HuntSettings;

/// A window of alert time, `[from, to)`.
pub type Window = (DateTime<Utc>, DateTime<Utc>);

/// The windows `[from, to)` to search now, oldest first, and how much missed time was skipped
/// because it lies beyond `WAZUH_HUNT_CATCH_UP`.
///
/// The first cycle (no checkpoint) looks back one interval. Later cycles start `overlap` before
/// the checkpoint, because an alert is searchable only after the indexer refreshed: one written
/// just before the last window ended may have been invisible to it. Missed time (a hunter that
/// was down, or a cycle that failed) is caught up in windows of at most `max_window`, so that one
/// search never covers days of alerts.
pub fn windows(
    checkpoint: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    s: &HuntSettings,
) -> (Vec<Window>, Option<Duration>) {
    let d = |x: Duration| chrono::Duration::from_std(x).unwrap_or(chrono::Duration::MAX);
    let earliest = now - d(s.catch_up);
    let wanted = match checkpoint {
        Some(c) => c.min(now) - d(s.overlap),
        None => now - d(s.interval),
    };
    let (start, skipped) = if wanted < earliest {
        (earliest, (earliest - wanted).to_std().ok())
    } else {
        (wanted, None)
    };
    let mut out = Vec::new();
    let mut from = start;
    while from < now {
        let to = (from + d(s.max_window)).min(now);
        out.push((from, to));
        from = to;
    }
    (out, skipped)
}

/// The hunt checkpoint inside a connector state (`{"hunt": {"checkpoint": "…"}}`; other keys
/// are left alone).
pub fn checkpoint_of(state: Option<&str>) -> Option<DateTime<Utc>> {
    let v: Value = serde_json::from_str(state?).ok()?;
    let t = v.pointer("/hunt/checkpoint")?.as_str()?;
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `state` with the hunt checkpoint set to `at`.
pub fn with_checkpoint(state: Option<&str>, at: DateTime<Utc>) -> String {
    let mut v: Value = state
        .and_then(|s| serde_json::from_str(s).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    v["hunt"] = json!({"checkpoint": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)});
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> HuntSettings {
        HuntSettings::default()
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn first_cycle_looks_back_one_interval() {
        let now = t("2026-12-05T12:00:00Z");
        let (w, skipped) = windows(None, now, &settings());
        assert_eq!(w, vec![(t("2026-12-05T11:55:00Z"), now)]);
        assert!(skipped.is_none());
    }

    #[test]
    fn next_cycle_overlaps_the_last_window() {
        let now = t("2026-12-05T12:05:00Z");
        let (w, _) = windows(Some(t("2026-12-05T12:00:00Z")), now, &settings());
        assert_eq!(w, vec![(t("2026-12-05T11:59:00Z"), now)]);
    }

    #[test]
    fn downtime_is_caught_up_in_bounded_windows_and_old_time_skipped() {
        let now = t("2026-12-05T12:00:00Z");
        let (w, skipped) = windows(Some(t("2026-12-05T08:30:00Z")), now, &settings());
        assert_eq!(w.len(), 4, "{w:?}");
        assert_eq!(w[0].0, t("2026-12-05T08:29:00Z"));
        assert_eq!(w.last().unwrap().1, now);
        assert!(w.iter().all(|(a, b)| *b - *a <= chrono::Duration::hours(1)));
        let (w, skipped2) = windows(Some(t("2026-12-01T00:00:00Z")), now, &settings());
        assert!(skipped.is_none());
        assert_eq!(w[0].0, t("2026-12-04T12:00:00Z"));
        assert!(skipped2.unwrap() > Duration::from_secs(3 * 86_400));
    }

    #[test]
    fn checkpoint_round_trips_and_keeps_other_state() {
        let at = t("2026-12-05T12:00:00Z");
        let s = with_checkpoint(Some(r#"{"other": 1}"#), at);
        assert_eq!(checkpoint_of(Some(&s)), Some(at));
        assert!(s.contains("\"other\":1"));
        assert_eq!(checkpoint_of(Some("null")), None);
        assert_eq!(checkpoint_of(Some("not json")), None);
    }
}
