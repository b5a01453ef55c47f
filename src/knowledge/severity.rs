//! Severity and priority vocabularies (OpenCTI `incident_severity_ov`, `case_severity_ov`,
//! `case_priority_ov`).

/// Incident/case severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Case priority for this severity (P1 = most urgent).
    pub fn priority(self) -> &'static str {
        match self {
            Severity::Critical => "P1",
            Severity::High => "P2",
            Severity::Medium => "P3",
            Severity::Low => "P4",
        }
    }

    /// Wazuh rule level → severity, without gaps (the reference mapped 10, 13 and 15 to "low").
    ///
    /// | level | severity |
    /// |---|---|
    /// | 0–6 | low |
    /// | 7–10 | medium |
    /// | 11–13 | high |
    /// | 14–16 | critical |
    ///
    /// Wazuh documents levels 7–10 as "bad word"/"first time seen"/"multiple failures", 11–13
    /// as integrity, high-importance and unusual events, 14–15 as severe attacks.
    pub fn from_rule_level(level: u8) -> Severity {
        match level {
            0..=6 => Severity::Low,
            7..=10 => Severity::Medium,
            11..=13 => Severity::High,
            _ => Severity::Critical,
        }
    }

    /// CVSS v3 base score → severity (the CVSS v3 qualitative scale; 0.0 "none" counts as low).
    pub fn from_cvss(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }
}

/// CVSS v3 qualitative severity → a representative score (as the reference, for the incident
/// threshold when only the severity is known).
pub fn cvss3_severity_to_score(severity: &str) -> Option<f64> {
    match severity.trim().to_ascii_lowercase().as_str() {
        "critical" => Some(9.5),
        "high" => Some(7.95),
        "medium" => Some(5.45),
        "low" => Some(2.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_has_a_severity_and_it_never_decreases() {
        let mut prev = Severity::Low;
        for level in 0..=16u8 {
            let s = Severity::from_rule_level(level);
            assert!(s >= prev, "level {level}");
            prev = s;
        }
        assert_eq!(Severity::from_rule_level(10), Severity::Medium);
        assert_eq!(Severity::from_rule_level(13), Severity::High);
        assert_eq!(Severity::from_rule_level(15), Severity::Critical);
    }

    #[test]
    fn cvss() {
        assert_eq!(Severity::from_cvss(10.0), Severity::Critical);
        assert_eq!(Severity::from_cvss(7.0), Severity::High);
        assert_eq!(Severity::from_cvss(6.9), Severity::Medium);
        assert_eq!(Severity::from_cvss(0.0), Severity::Low);
        assert_eq!(cvss3_severity_to_score("HIGH"), Some(7.95));
    }
}
