//! `check` with continuous hunting on: the indicator listing works with the connector's user,
//! how many indicators would be hunted, and how the detection plan covers them.

use chrono::Utc;

use super::check::Line;
use crate::config::Settings;
use crate::hunt::detect::{DetectionPlan, Huntable};
use crate::hunt::indicators::{self, IndicatorSet};
use crate::opencti::OpenCtiClient;
use crate::runtime::hunt::list_indicators;

/// The hunting lines (none when hunting is off).
pub async fn lines(settings: &Settings) -> Vec<Line> {
    let h = &settings.hunt;
    if !h.enabled {
        return Vec::new();
    }
    let secs = |d: std::time::Duration| format!("{}s", d.as_secs());
    let mut out = vec![Line::ok(
        "hunting",
        format!(
            "on: every {}, overlap {}, windows of at most {}, catch-up {}",
            secs(h.interval),
            secs(h.overlap),
            secs(h.max_window),
            secs(h.catch_up)
        ),
    )];
    let client = match OpenCtiClient::new(&settings.opencti) {
        Ok(c) => c,
        Err(_) => return out,
    };
    let now = Utc::now();
    let filters = indicators::filters(None, &settings.knowledge, now);
    let listed = match list_indicators(&client, &filters, h.max_indicators.saturating_mul(2)).await
    {
        Ok(l) => l,
        Err(e) => {
            out.push(Line::fail(
                "hunted indicators",
                format!("cannot list indicators: {e}"),
                "the connector's user must be able to read indicators (KNOWLEDGE capability)",
            ));
            return out;
        }
    };
    let n = listed.len();
    let mut set = IndicatorSet::default();
    set.apply(listed, &settings.knowledge, now);
    let hunted = set.hunted.len();
    out.push(if hunted > h.max_indicators {
        Line::fail(
            "hunted indicators",
            format!("{hunted} exceed WAZUH_HUNT_MAX_INDICATORS={}", h.max_indicators),
            "raise the limit or narrow the gates (WAZUH_MAX_TLP, WAZUH_INDICATOR_SCORE_THRESHOLD, WAZUH_REQUIRE_INDICATOR_DETECTION)",
        )
    } else {
        Line::ok(
            "hunted indicators",
            format!("{hunted} of {n} listed (the others fail the TLP, score or detection gates)"),
        )
    });
    let huntable: Vec<Huntable> = set
        .hunted
        .values()
        .map(|i| Huntable {
            id: i.id.clone(),
            pattern: i.pattern.clone(),
            pattern_type: i.pattern_type.clone(),
        })
        .collect();
    let s = DetectionPlan::new(&huntable, &settings.search).summary();
    let atoms: Vec<String> = s
        .atoms_by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let detail = format!(
        "values: {}; {} other patterns; {} cannot be hunted",
        if atoms.is_empty() {
            "none".into()
        } else {
            atoms.join(", ")
        },
        s.complex,
        s.skipped.len()
    );
    out.push(match s.skipped.first() {
        Some((id, why)) => Line::warn("hunting plan", detail, format!("e.g. {id}: {why}")),
        None => Line::ok("hunting plan", detail),
    });
    out
}
