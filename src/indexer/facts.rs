//! The facts answer: for every alert of a search with more hits than its sample, only the few
//! fields its statistics need (time, agent, rule), each hit counted into the statistics as it
//! is parsed — there may be 10,000 of them and none is kept.
//!
//! Tolerant like the sample's parser (`Alert::from_source`): a field of an unexpected type
//! (a numeric agent id, a rule level given as text, an object where a keyword was expected)
//! is read as text where it can be and ignored where it cannot, so one odd alert never fails
//! the statistics of the others. Fields are read by hand-written visitors rather than serde's
//! `untagged` enums, which buffer each value and build an error message for every variant that
//! does not match — on a 10,000-hit answer that was a visible share of the parse.

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::response::{level, Metric};
use crate::alert::{Agent, Alert};

#[derive(Deserialize)]
pub(crate) struct FactsResponse {
    #[serde(default)]
    pub took: u64,
    #[serde(default)]
    pub timed_out: bool,
    #[serde(default)]
    pub hits: FactHits,
}

#[derive(Deserialize, Default)]
pub(crate) struct FactHits {
    #[serde(default)]
    pub hits: FactFold,
}

/// The statistics of the hits, and how many hits had no usable timestamp (then the statistics
/// cannot be exact from them).
#[derive(Default)]
pub(crate) struct FactFold {
    pub stats: crate::knowledge::stats::Accumulator,
    pub unusable: usize,
}

impl FactFold {
    /// Counts one hit (as unusable without a usable time).
    fn add(&mut self, h: FactHit) {
        match fact_alert(h.source) {
            Some(a) => self.stats.add(&a),
            None => self.unusable += 1,
        }
    }
}

impl<'de> Deserialize<'de> for FactFold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fold;
        impl<'de> Visitor<'de> for Fold {
            type Value = FactFold;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list of hits")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FactFold, A::Error> {
                let mut out = FactFold::default();
                while let Some(h) = seq.next_element::<FactHit>()? {
                    out.add(h);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(Fold)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct FactHit {
    #[serde(rename = "_source", default)]
    pub source: FactSource,
}

/// A field read leniently: text, a number (kept as the indexer wrote it), or something else
/// (ignored).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field {
    Text(String),
    Number(serde_json::Number),
    Other,
}

impl Field {
    /// The field as text (numbers as written); `None` for anything else.
    fn text(self) -> Option<String> {
        match self {
            Field::Text(s) => Some(s),
            Field::Number(n) => Some(n.to_string()),
            Field::Other => None,
        }
    }

    /// The field as a number (numeric text parsed); `None` for anything else.
    fn number(&self) -> Option<f64> {
        match self {
            Field::Number(n) => n.as_f64(),
            Field::Text(t) => t.trim().parse::<f64>().ok(),
            Field::Other => None,
        }
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a keyword or a number")
            }
            fn visit_str<E>(self, v: &str) -> Result<Field, E> {
                Ok(Field::Text(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Field, E> {
                Ok(Field::Text(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Field, E> {
                Ok(Field::Number(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Field, E> {
                Ok(Field::Number(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Field, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Field::Other, Field::Number))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_unit<E>(self) -> Result<Field, E> {
                Ok(Field::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// An object read leniently: anything else in its place counts as absent.
fn lenient_object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(T::default())
        }
        fn visit_str<E>(self, _: &str) -> Result<T, E> {
            Ok(T::default())
        }
        fn visit_u64<E>(self, _: u64) -> Result<T, E> {
            Ok(T::default())
        }
        fn visit_i64<E>(self, _: i64) -> Result<T, E> {
            Ok(T::default())
        }
        fn visit_f64<E>(self, _: f64) -> Result<T, E> {
            Ok(T::default())
        }
        fn visit_bool<E>(self, _: bool) -> Result<T, E> {
            Ok(T::default())
        }
        fn visit_unit<E>(self) -> Result<T, E> {
            Ok(T::default())
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct FactSource {
    #[serde(rename = "@timestamp", default)]
    pub ts: Option<Field>,
    #[serde(default)]
    pub timestamp: Option<Field>,
    #[serde(default, deserialize_with = "lenient_object")]
    pub agent: FactAgent,
    #[serde(default, deserialize_with = "lenient_object")]
    pub rule: FactRule,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct FactAgent {
    #[serde(default)]
    pub id: Option<Field>,
    #[serde(default)]
    pub name: Option<Field>,
    #[serde(default)]
    pub ip: Option<Field>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct FactRule {
    #[serde(default)]
    pub id: Option<Field>,
    #[serde(default)]
    pub level: Option<Field>,
    #[serde(default)]
    pub description: Option<Field>,
}

fn text(f: Option<Field>) -> Option<String> {
    f.and_then(Field::text)
}

/// An alert of a facts answer, carrying no `_source` (statistics only); `None` without a
/// usable timestamp.
pub(crate) fn fact_alert(s: FactSource) -> Option<Alert> {
    // Times only as text: a number there is no time the statistics can place (the alert then
    // counts as unusable and the aggregations give the exact figures).
    let as_time = |f: Option<Field>| match f {
        Some(Field::Text(t)) => Some(t),
        _ => None,
    };
    let timestamp = as_time(s.ts)
        .or_else(|| as_time(s.timestamp))
        .filter(|t| !t.is_empty())?;
    let rule_level = s.rule.level.as_ref().and_then(Field::number);
    Some(Alert {
        doc_id: String::new(),
        index: String::new(),
        timestamp,
        alert_id: None,
        rule: crate::alert::Rule {
            id: text(s.rule.id).unwrap_or_default(),
            level: level(&Metric { value: rule_level }),
            description: text(s.rule.description).unwrap_or_default(),
            ..Default::default()
        },
        agent: Agent {
            id: text(s.agent.id).unwrap_or_default(),
            name: text(s.agent.name).unwrap_or_default(),
            ip: text(s.agent.ip),
        },
        source: crate::alert::Source::none(),
    })
}

/// Containers deeper than this are refused (serde_json's own limit for one value).
const MAX_DEPTH: usize = 128;

/// What a key of the answer's outer objects names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Hits,
    Took,
    TimedOut,
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    array: bool,
    /// In an object: the next string is a key.
    expect_key: bool,
    /// In an object: what the current key names.
    key: Slot,
    /// What the key this container is the value of names.
    of: Slot,
}

/// Reads a facts answer from pieces of its text, as they arrive, and folds each hit into the
/// statistics as soon as its text is complete.
///
/// serde_json reads a streamed answer one byte at a time through `io::Read` (its `IoRead`),
/// which was the largest single cost of a 10,000-hit request in the connector (~17% of its CPU
/// in `perf`); parsing from a slice is about twice as fast. So the outer objects are scanned
/// here — strings, nesting, the `took` and `timed_out` values, where `hits.hits` begins — and
/// each hit, once its closing brace arrived, is parsed from its own slice. At most one hit and
/// the unscanned rest of the last piece are held.
#[derive(Default)]
pub(crate) struct FactsReader {
    buf: Vec<u8>,
    scan: usize,
    stack: Vec<Frame>,
    in_str: bool,
    esc: bool,
    key_start: Option<usize>,
    scalar_start: Option<usize>,
    hit_start: Option<usize>,
    done: bool,
    took: u64,
    timed_out: bool,
    fold: FactFold,
}

impl FactsReader {
    /// Reads the next piece of the answer.
    pub fn feed(&mut self, piece: &[u8]) -> Result<(), String> {
        self.buf.extend_from_slice(piece);
        while self.scan < self.buf.len() {
            let i = self.scan;
            self.scan += 1;
            self.step(i)?;
        }
        // Keep only what is still needed: the hit, key or value being read.
        let keep = [self.hit_start, self.key_start, self.scalar_start]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.scan);
        if keep > 0 {
            self.buf.drain(..keep);
            self.scan -= keep;
            for p in [
                &mut self.hit_start,
                &mut self.key_start,
                &mut self.scalar_start,
            ]
            .into_iter()
            .flatten()
            {
                *p -= keep;
            }
        }
        Ok(())
    }

    /// The answer, once all of it was read.
    pub fn finish(self) -> Result<FactsResponse, String> {
        if !self.done {
            return Err("the answer ended before it was complete".into());
        }
        Ok(FactsResponse {
            took: self.took,
            timed_out: self.timed_out,
            hits: FactHits { hits: self.fold },
        })
    }

    fn step(&mut self, i: usize) -> Result<(), String> {
        let b = self.buf[i];
        if self.in_str {
            if self.esc {
                self.esc = false;
            } else if b == b'\\' {
                self.esc = true;
            } else if b == b'"' {
                self.in_str = false;
                if let Some(k) = self.key_start.take() {
                    let slot = match &self.buf[k..i] {
                        b"hits" => Slot::Hits,
                        b"took" => Slot::Took,
                        b"timed_out" => Slot::TimedOut,
                        _ => Slot::Other,
                    };
                    if let Some(top) = self.stack.last_mut() {
                        top.key = slot;
                    }
                }
            }
            return Ok(());
        }
        if self.done && !b.is_ascii_whitespace() {
            return Err("text after the end of the answer".into());
        }
        match b {
            b'"' => {
                self.in_str = true;
                let depth = self.stack.len();
                if let Some(top) = self.stack.last() {
                    if !top.array && top.expect_key && depth <= 2 {
                        self.key_start = Some(i + 1);
                    }
                }
            }
            b':' => {
                let depth = self.stack.len();
                if let Some(top) = self.stack.last_mut() {
                    top.expect_key = false;
                    if depth == 1 && matches!(top.key, Slot::Took | Slot::TimedOut) {
                        self.scalar_start = Some(i + 1);
                    }
                }
            }
            b',' => {
                self.end_scalar(i);
                if let Some(top) = self.stack.last_mut() {
                    if !top.array {
                        top.expect_key = true;
                        top.key = Slot::Other;
                    }
                }
            }
            b'{' | b'[' => {
                if self.stack.is_empty() && b != b'{' {
                    return Err("the answer is not a JSON object".into());
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err("the answer is nested too deeply".into());
                }
                let of = self.stack.last().map_or(Slot::Other, |t| {
                    if t.array {
                        Slot::Other
                    } else {
                        t.key
                    }
                });
                if b == b'{' && self.in_hit_list() {
                    self.hit_start = Some(i);
                }
                self.stack.push(Frame {
                    array: b == b'[',
                    expect_key: b == b'{',
                    key: Slot::Other,
                    of,
                });
            }
            b'}' | b']' => {
                self.end_scalar(i);
                match self.stack.pop() {
                    Some(f) if f.array == (b == b']') => {}
                    _ => return Err("the answer's brackets do not match".into()),
                }
                if b == b'}' && self.in_hit_list() {
                    if let Some(start) = self.hit_start.take() {
                        let hit: FactHit = serde_json::from_slice(&self.buf[start..=i])
                            .map_err(|e| e.to_string())?;
                        self.fold.add(hit);
                    }
                }
                self.done = self.stack.is_empty();
            }
            _ => {
                if self.stack.is_empty() && !b.is_ascii_whitespace() {
                    return Err("the answer is not a JSON object".into());
                }
            }
        }
        Ok(())
    }

    /// Inside the list `hits.hits` of the answer (a hit opens or closes here).
    fn in_hit_list(&self) -> bool {
        matches!(
            self.stack.as_slice(),
            [_, h, l] if !h.array && h.of == Slot::Hits && l.array && l.of == Slot::Hits
        )
    }

    /// Records `took` or `timed_out` when the value being read ends at `i`.
    fn end_scalar(&mut self, i: usize) {
        let Some(s) = self.scalar_start.take() else {
            return;
        };
        let text = String::from_utf8_lossy(&self.buf[s..i]);
        let text = text.trim();
        match self.stack.last().map(|t| t.key) {
            Some(Slot::Took) => self.took = text.parse().unwrap_or(0),
            Some(Slot::TimedOut) => self.timed_out = text == "true",
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(hits: &str) -> (FactFold, u64) {
        let body = format!(r#"{{"took": 3, "timed_out": false, "hits": {{"hits": [{hits}]}}}}"#);
        let r: FactsResponse = serde_json::from_str(&body).unwrap();
        (r.hits.hits, r.took)
    }

    #[test]
    fn keywords_and_numbers_are_read_either_way() {
        let (f, took) = fold(
            r#"{"_source": {"@timestamp": "2026-12-01T10:00:00.000Z",
                 "agent": {"id": "002", "name": "web-01", "ip": "10.0.0.2"},
                 "rule": {"id": 5710, "level": "10", "description": "sshd"}}},
               {"_source": {"timestamp": "2026-12-01T11:00:00.000Z",
                 "agent": {"id": 2, "name": "web-01"},
                 "rule": {"id": "5710", "level": 3.0, "description": "sshd: invalid user"}}}"#,
        );
        assert_eq!((took, f.unusable, f.stats.alerts()), (3, 0, 2));
        let (agents, rules) = f.stats.finish();
        // "002" and 2 are different agent ids as the indexer stores them.
        assert_eq!(agents.len(), 2);
        assert_eq!(rules.len(), 1);
        let r = &rules[0];
        assert_eq!((r.rule_id.as_str(), r.count, r.level), ("5710", 2, 10));
        assert_eq!(
            r.description, "sshd: invalid user",
            "the newest alert names the rule"
        );
    }

    #[test]
    fn an_odd_alert_never_fails_the_others() {
        let (f, _) = fold(
            r#"{"_source": {"@timestamp": "2026-12-01T10:00:00Z", "agent": "not an object",
                 "rule": {"id": {"nested": [1, 2]}, "level": true, "description": null}}},
               {"_source": {"@timestamp": "2026-12-01T10:00:01Z", "agent": {"id": ["a", "b"]},
                 "rule": [1, 2, 3]}},
               {"_source": {"@timestamp": 1764583200000, "rule": {"id": "1"}}},
               {"_source": {"@timestamp": "", "rule": {"id": "1"}}},
               {"_source": {"@timestamp": "2026-12-01T10:00:02Z", "agent": {"id": "001"},
                 "rule": {"id": "1", "level": 5}}}"#,
        );
        // A time that is not text, or is empty, cannot be placed: counted as unusable (the
        // aggregations then give the exact figures), the rest counted.
        assert_eq!((f.stats.alerts(), f.unusable), (3, 2));
        let (agents, rules) = f.stats.finish();
        assert_eq!(agents.iter().map(|a| a.count).sum::<u64>(), 3);
        assert!(rules.iter().any(|r| r.rule_id == "1" && r.level == 5));
        assert!(rules.iter().any(|r| r.rule_id.is_empty() && r.level == 0));
    }

    fn read_in_pieces(text: &[u8], cut: usize) -> Result<FactsResponse, String> {
        let mut r = FactsReader::default();
        for piece in text.chunks(cut) {
            r.feed(piece)?;
        }
        r.finish()
    }

    #[test]
    fn an_answer_cut_anywhere_reads_like_the_whole() {
        let text = br#" {"took": 17, "timed_out" : false, "_shards": {"hits": [{"x": 1}]},
            "hits": {"total": {"value": 3}, "hits": [
              {"_source": {"@timestamp": "2026-12-01T10:00:00Z", "agent": {"id": "001", "name": "a \"}{[ b"},
                           "rule": {"id": "1", "level": 3, "description": "esc \\ \u00e9 }"}}},
              {"_index": "i", "_source": {"@timestamp": "2026-12-01T11:00:00Z", "agent": {"id": "002"},
                           "rule": {"id": "2", "level": "7", "nested": {"deep": [[{}]]}}}},
              {"_source": {"rule": {"id": "3"}}}
            ]}} "#;
        let whole: FactsResponse = serde_json::from_slice(text).unwrap();
        let (agents, rules) = whole.hits.hits.stats.finish();
        for cut in [1, 2, 3, 7, 64, text.len()] {
            let r = read_in_pieces(text, cut).unwrap();
            assert_eq!((r.took, r.timed_out), (17, false), "cut {cut}");
            assert_eq!((r.hits.hits.stats.alerts(), r.hits.hits.unusable), (2, 1));
            let (a, ru) = r.hits.hits.stats.finish();
            assert_eq!((&a, &ru), (&agents, &rules), "cut {cut}");
        }
        assert_eq!(agents[0].agent.name, "a \"}{[ b");
        assert_eq!(
            rules.iter().find(|r| r.rule_id == "1").unwrap().description,
            "esc \\ é }"
        );
    }

    #[test]
    fn real_alerts_read_in_pieces_give_the_same_statistics_as_whole() {
        // Whole Wazuh alerts (escapes, nested objects, lists, Windows paths) as `_source`.
        let docs: Vec<&str> = include_str!("../../tests/fixtures/wazuh/alerts.ndjson")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(docs.len() > 50);
        let hits: Vec<String> = docs
            .iter()
            .map(|d| format!(r#"{{"_source":{d}}}"#))
            .collect();
        let text = format!(
            r#"{{"took":42,"timed_out":false,"hits":{{"hits":[{}]}}}}"#,
            hits.join(",")
        );
        let whole: FactsResponse = serde_json::from_str(&text).unwrap();
        let (n, unusable) = (whole.hits.hits.stats.alerts(), whole.hits.hits.unusable);
        let expected = whole.hits.hits.stats.finish();
        assert_eq!(n as usize + unusable, docs.len());
        for cut in [1, 5, 333, 16 * 1024] {
            let r = read_in_pieces(text.as_bytes(), cut).unwrap();
            assert_eq!(r.took, 42);
            assert_eq!(
                (r.hits.hits.stats.alerts(), r.hits.hits.unusable),
                (n, unusable)
            );
            assert_eq!(r.hits.hits.stats.finish(), expected, "cut {cut}");
        }
    }

    #[test]
    fn no_hits_and_timed_out_are_read() {
        let r = read_in_pieces(br#"{"took":5,"timed_out":true}"#, 3).unwrap();
        assert_eq!(
            (r.took, r.timed_out, r.hits.hits.stats.alerts()),
            (5, true, 0)
        );
    }

    #[test]
    fn a_cut_off_or_malformed_answer_is_an_error() {
        for bad in [
            &br#"{"took": 7, "hits": {"hits": [{"_source": {}}"#[..],
            br#"{"took": 7, "hits": {"hits": [{"_source": {"@timestamp": 1}}]]}"#,
            br#"[{"took": 7}]"#,
            br#"{"took": 7} {}"#,
            br#"{"hits": {"hits": [{"_source": {"rule": {"id": "1",}}}]}}"#,
        ] {
            assert!(
                read_in_pieces(bad, 4).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(200), "]".repeat(200));
        assert!(read_in_pieces(deep.as_bytes(), 50).is_err());
    }

    #[test]
    fn a_malformed_answer_is_still_an_error() {
        let r = serde_json::from_str::<FactsResponse>(r#"{"hits": {"hits": [{"_source": {"#);
        assert!(r.is_err());
        let r = serde_json::from_str::<FactsResponse>(r#"{"hits": {"hits": {"not": "a list"}}}"#);
        assert!(r.is_err());
    }
}
