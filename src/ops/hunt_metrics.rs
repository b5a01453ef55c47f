//! The continuous hunting series (`hunt_*`), registered with the other metrics and documented in
//! docs/metrics.md.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CycleLabels {
    pub outcome: String,
}

/// The hunter's series.
#[derive(Clone, Debug, Default)]
pub struct HuntMetrics {
    /// 1 while this process holds the hunting token (one replica at a time).
    pub active: Gauge,
    pub cycles: Family<CycleLabels, Counter>,
    /// Duration of the last cycle, milliseconds.
    pub cycle_ms: Gauge,
    pub indicators: Gauge,
    pub values: Family<KindLabels, Gauge>,
    pub searches: Counter,
    pub indicators_hit: Counter,
    /// Seconds between now and the end of the last window searched.
    pub lag_seconds: Gauge,
}

impl HuntMetrics {
    pub fn register(r: &mut Registry) -> HuntMetrics {
        let m = HuntMetrics::default();
        let gauges: [(&str, &str, &Gauge); 4] = [
            (
                "hunt_active",
                "1 while this replica is the hunter (holds the hunting token)",
                &m.active,
            ),
            (
                "hunt_cycle_milliseconds",
                "Duration of the last hunting cycle",
                &m.cycle_ms,
            ),
            ("hunt_indicators", "Indicators hunted", &m.indicators),
            (
                "hunt_lag_seconds",
                "Seconds between now and the end of the last window hunted",
                &m.lag_seconds,
            ),
        ];
        for (name, help, g) in gauges {
            r.register(name, help, g.clone());
        }
        let counters: [(&str, &str, &Counter); 2] = [
            (
                "hunt_searches",
                "Indexer searches made by hunting cycles",
                &m.searches,
            ),
            (
                "hunt_indicators_hit",
                "Indicators with new hits (each enriched once per cycle)",
                &m.indicators_hit,
            ),
        ];
        for (name, help, c) in counters {
            r.register(name, help, c.clone());
        }
        r.register(
            "hunt_cycles",
            "Hunting cycles by outcome (ok, failed)",
            m.cycles.clone(),
        );
        r.register(
            "hunt_values",
            "Atomic indicator values hunted, by value kind",
            m.values.clone(),
        );
        for o in ["ok", "failed"] {
            m.cycles
                .get_or_create(&CycleLabels { outcome: o.into() })
                .inc_by(0);
        }
        m
    }
}
