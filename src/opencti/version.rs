//! OpenCTI platform versions as `about { version }` reports them, ordered.
//!
//! The 6.x line numbers its releases `6.9.17`; the 7.x line puts a date in the minor number
//! (`7.260224.0`) and marks long-term-support builds with a suffix (`7.260224.0-lts.1`). A
//! semantic-version reading would take that suffix for a pre-release and rank the LTS build below
//! the plain release it is built from — and a string comparison ranks `7.x` below `6.10`. Here an
//! `-lts.N` suffix is a release (the N-th LTS build of that release, after the plain one) and only
//! the real pre-releases (`-rc.1`, `-beta`, …) rank below their release.

use std::cmp::Ordering;

/// One part of a pre-release suffix; numbers rank below words, as in semantic versioning.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum PreId {
    Num(u64),
    Word(String),
}

/// Where a version stands relative to its `major.minor.patch`. Declaration order is rank order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// `-rc.1`, `-beta`, `-alpha.2`: before the release.
    Pre(Vec<PreId>),
    /// The release; `lts` is the LTS build number (`-lts.1`), `None` for the plain release.
    Release { lts: Option<u64> },
}

/// A platform version. Build metadata (`+…`) is ignored, as semantic versioning ignores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    stage: Stage,
}

/// The oldest platform version whose GraphQL schema the tests validate every operation against.
pub const OLDEST_TESTED: PlatformVersion = PlatformVersion::release(6, 4, 0);

impl PlatformVersion {
    /// The plain release `major.minor.patch`.
    pub const fn release(major: u64, minor: u64, patch: u64) -> Self {
        PlatformVersion {
            major,
            minor,
            patch,
            stage: Stage::Release { lts: None },
        }
    }

    /// Reads `6.9.17`, `7.260224.0`, `7.260224.0-lts.1`, `6.8.0-rc.2`, `v6.9.3`; a missing patch
    /// number is 0. `None` for anything else (`dev`, `6`, `6.x`).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let t = t.strip_prefix(['v', 'V']).unwrap_or(t);
        let t = t.split_once('+').map_or(t, |(v, _build)| v);
        let (core, suffix) = match t.split_once('-') {
            Some((core, suffix)) => (core, Some(suffix)),
            None => (t, None),
        };
        let mut numbers = core.split('.').map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<u64>().ok())
                .flatten()
        });
        let major = numbers.next()??;
        let minor = numbers.next()??;
        let patch = numbers.next().unwrap_or(Some(0))?;
        if numbers.next().is_some() {
            return None;
        }
        let stage = match suffix {
            None => Stage::Release { lts: None },
            Some(s) => stage(s)?,
        };
        Some(PlatformVersion {
            major,
            minor,
            patch,
            stage,
        })
    }

    /// An LTS build (`-lts.N`).
    pub fn is_lts(&self) -> bool {
        matches!(self.stage, Stage::Release { lts: Some(_) })
    }

    /// A pre-release (`-rc.1`, `-beta`): not a version anyone should run in production.
    pub fn is_prerelease(&self) -> bool {
        matches!(self.stage, Stage::Pre(_))
    }
}

/// The suffix after the first `-`: `lts` / `lts.N` is a release, anything else made of
/// dot-separated alphanumeric parts a pre-release.
fn stage(suffix: &str) -> Option<Stage> {
    let parts: Vec<&str> = suffix.split('.').collect();
    let valid =
        |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !parts.iter().all(valid) {
        return None;
    }
    match parts.as_slice() {
        [lts] if lts.eq_ignore_ascii_case("lts") => Some(Stage::Release { lts: Some(0) }),
        [lts, n] if lts.eq_ignore_ascii_case("lts") => {
            n.parse().ok().map(|n| Stage::Release { lts: Some(n) })
        }
        _ => Some(Stage::Pre(
            parts
                .iter()
                .map(|p| match p.parse::<u64>() {
                    Ok(n) if p.bytes().all(|b| b.is_ascii_digit()) => PreId::Num(n),
                    _ => PreId::Word(p.to_ascii_lowercase()),
                })
                .collect(),
        )),
    }
}

/// What is worth a warning about running against the platform that reports `text`, if anything:
/// (the problem, what to do). Shared by `connector-wazuh check` and the daemon's start-up log.
pub fn concern(text: &str) -> Option<(String, &'static str)> {
    match PlatformVersion::parse(text) {
        Some(v) if v < OLDEST_TESTED => Some((
            format!(
                "OpenCTI {text} is older than the oldest tested version ({}.{})",
                OLDEST_TESTED.major, OLDEST_TESTED.minor
            ),
            "upgrade the platform; registration and result delivery may fail",
        )),
        Some(v) if v.is_prerelease() => Some((
            format!("OpenCTI {text} is a pre-release"),
            "pre-releases are not tested; use a release or an LTS build",
        )),
        Some(_) => None,
        None => Some((
            format!("cannot read the version {text:?}"),
            "check that OPENCTI_URL points to an OpenCTI platform",
        )),
    }
}

impl Ord for PlatformVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch, &self.stage).cmp(&(
            other.major,
            other.minor,
            other.patch,
            &other.stage,
        ))
    }
}

impl PartialOrd for PlatformVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> PlatformVersion {
        PlatformVersion::parse(s).unwrap_or_else(|| panic!("{s} did not parse"))
    }

    #[test]
    fn versions_are_ordered_across_the_6_and_7_lines() {
        let ordered = [
            "6.3.2",
            "6.4.0-rc.1",
            "6.4.0",
            "6.9.3",
            "6.9.17",
            "6.10.0",
            "7.260224.0-beta",
            "7.260224.0-rc.1",
            "7.260224.0-rc.2",
            "7.260224.0-rc.10",
            "7.260224.0",
            "7.260224.0-lts",
            "7.260224.0-lts.1",
            "7.260224.0-lts.2",
            "7.260224.1-rc.1",
            "7.260224.1",
            "7.261026.0",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn lts_builds_are_releases_and_pre_releases_are_not() {
        let lts = v("7.260224.0-lts.1");
        assert!(lts.is_lts() && !lts.is_prerelease());
        assert_eq!((lts.major, lts.minor, lts.patch), (7, 260224, 0));
        assert!(v("7.260224.0-rc.1").is_prerelease());
        assert!(!v("6.9.17").is_prerelease() && !v("6.9.17").is_lts());
        assert!(v("7.260224.0-lts.1") > v("7.260224.0"));
        assert!(v("7.260224.0-LTS.1").is_lts());
    }

    #[test]
    fn forms_around_the_numbers() {
        assert_eq!(v("v6.9.3"), v("6.9.3"));
        assert_eq!(v(" 6.9.3\n"), v("6.9.3"));
        assert_eq!(v("6.9"), v("6.9.0"));
        assert_eq!(v("6.9.3+build.5").cmp(&v("6.9.3")), Ordering::Equal);
        assert!(v("6.4.0") >= OLDEST_TESTED);
        assert!(v("6.4.0-rc.1") < OLDEST_TESTED);
    }

    #[test]
    fn concerns() {
        assert_eq!(concern("6.9.17"), None);
        assert_eq!(concern("7.260224.0-lts.1"), None);
        let old = concern("6.3.2").unwrap().0;
        assert!(
            old.contains("older than the oldest tested version (6.4)"),
            "{old}"
        );
        assert!(concern("7.260224.0-rc.1")
            .unwrap()
            .0
            .contains("pre-release"));
        assert!(concern("dev").unwrap().0.contains("cannot read"));
    }

    #[test]
    fn other_texts_are_not_versions() {
        for s in [
            "",
            "dev",
            "6",
            "6.x",
            "6..1",
            "6.9.3.1",
            "-6.9.3",
            "6.9.3-",
            "6.9.3-lts.x",
            "6.9.3-rc..1",
            "6.9.3-r c",
            "99999999999999999999.0.0",
        ] {
            assert_eq!(PlatformVersion::parse(s), None, "{s:?}");
        }
    }
}
