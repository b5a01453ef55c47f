//! The detection plan: indicators → a few batched searches per time window → the indicators
//! each hit proves matched.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::ops::Range;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::attribute::{candidates, normalise, text, values_at};
use super::fields::{exclude_field, expansion_names, kind_fields, variants, Read};
use crate::config::options::SearchOptions;
use crate::pattern::{budget, parse, translate, unsupported_type_message};
use crate::search::envelope::format_utc;
use crate::search::ip::is_private;
use crate::vocabulary::{Match, ValueKind};

/// Most values in one `terms` list (OpenSearch refuses more than `index.max_terms_count`,
/// 65,536; far fewer keep each request quick to parse and to run).
pub const MAX_TERMS_VALUES: usize = 10_000;
/// Most `terms` clauses in one request (below `indices.query.bool.max_clause_count`, 1,024).
pub const MAX_TERMS_CLAUSES: usize = 500;
/// Largest estimated body of one `terms` request (bytes of JSON values): the same values are
/// listed once per field, so the body, not the value count, is what grows first.
pub const MAX_TERMS_BYTES: usize = 4 << 20;
/// Most clauses of the complex patterns searched together: what the enrichment of one
/// pattern may already cost ([`budget::MAX_CLAUSES`]), which leaves room for the field
/// patterns the indexer expands.
pub const MAX_PATTERN_CLAUSES: usize = budget::MAX_CLAUSES;

/// One indicator to hunt for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Huntable {
    pub id: String,
    pub pattern: String,
    pub pattern_type: String,
}

/// What a plan searches and what it cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanSummary {
    /// Distinct values looked up in batches, per kind name (`ip`, `domain`, `sha256`…).
    pub atoms_by_kind: BTreeMap<&'static str, usize>,
    /// Indicators made only of such values.
    pub atomic: usize,
    /// Indicators searched with their own translated query.
    pub complex: usize,
    /// `(indicator id, reason)` of the indicators not searched.
    pub skipped: Vec<(String, String)>,
    /// The field patterns (`*.srcip`) of the planned kinds: a `terms` clause needs a concrete
    /// field, so each is searched only in the concrete fields it was expanded to (ask the
    /// indexer which fields exist and pass them to [`DetectionPlan::with_fields`]).
    pub field_patterns: Vec<String>,
}

/// One search of a detection cycle: a complete `_search` body for one window.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectRequest {
    pub body: Value,
    /// What the request looks for: `terms ip 1/3`, `composite domain+sha256`, `patterns 2/5`.
    pub label: String,
    /// Which part of the plan it is (attribution reads the part's fields).
    pub(crate) part: usize,
}

/// A value of one kind, with the spellings the indicators wrote it in.
#[derive(Debug, Clone)]
pub(super) struct Atom {
    pub(super) kind: ValueKind,
    pub(super) norm: String,
    pub(super) spellings: BTreeSet<String>,
}

#[derive(Debug, Clone)]
enum Part {
    /// `terms` clauses for a run of atoms (sorted by kind, then value).
    Terms {
        atoms: Range<usize>,
        reads: Vec<(String, Vec<(ValueKind, Read)>)>,
        excludes: Vec<(ValueKind, &'static str)>,
    },
    /// `exists` clauses on the list, URL and hash-list fields, read locally.
    Composite {
        reads: Vec<(String, Vec<(ValueKind, Read)>)>,
        excludes: Vec<(ValueKind, &'static str)>,
    },
    /// Translated patterns, each a named query (`h<indicator>`).
    Patterns { members: Vec<usize> },
}

/// How the indicators will be detected; built once per indicator-set change.
#[derive(Debug, Clone)]
pub struct DetectionPlan {
    /// Indicator ids, sorted: every index below points here.
    ids: Vec<String>,
    atoms: Vec<Atom>,
    index: HashMap<(ValueKind, String), Vec<usize>>,
    fields: BTreeMap<ValueKind, Vec<(String, Read)>>,
    complex: BTreeMap<usize, Value>,
    parts: Vec<(String, Part)>,
    summary: PlanSummary,
    mac_spellings: bool,
}

/// The next page of a detection request whose page `hits` was full: the same request with its
/// window starting at the time of the page's last hit (sorted by time, each hit's `sort` holds
/// its time in epoch milliseconds). Alerts of that very millisecond are read again, which
/// attribution absorbs; paging by time needs no `_id` sort, which recent OpenSearch refuses.
/// `None` when the page was not full, or when all of it shares one millisecond (no progress is
/// possible; the caller reports it).
pub fn next_page(
    body: &Value,
    hits: &[Value],
    page_size: usize,
    time_field: &str,
) -> Option<Value> {
    if hits.len() < page_size || page_size == 0 {
        return None;
    }
    let at = |h: &Value| h.pointer("/sort/0").and_then(Value::as_i64);
    let (first, last) = (at(hits.first()?)?, at(hits.last()?)?);
    if last <= first {
        return None;
    }
    let mut next = body.clone();
    let range = next
        .pointer_mut("/query/bool/filter/0/range")?
        .get_mut(time_field)?
        .as_object_mut()?;
    range.insert("gte".into(), json!(last));
    range.insert(
        "format".into(),
        json!("epoch_millis||strict_date_optional_time"),
    );
    Some(next)
}

/// `(field, reads)` sorted by field, from `(field, kind, read)` triples.
fn group_reads(
    triples: impl IntoIterator<Item = (String, ValueKind, Read)>,
) -> Vec<(String, Vec<(ValueKind, Read)>)> {
    let mut m: BTreeMap<String, BTreeSet<(ValueKind, Read)>> = BTreeMap::new();
    for (f, k, r) in triples {
        m.entry(f).or_default().insert((k, r));
    }
    m.into_iter()
        .map(|(f, s)| (f, s.into_iter().collect()))
        .collect()
}

impl DetectionPlan {
    /// The plan for `indicators`, field patterns expanded against the fields the crate knows.
    pub fn new(indicators: &[Huntable], opts: &SearchOptions) -> DetectionPlan {
        DetectionPlan::with_fields(indicators, opts, &[])
    }

    /// The plan for `indicators`, field patterns also expanded against `fields` (concrete
    /// `keyword` or `ip` field names the indexer reports for [`PlanSummary::field_patterns`]).
    pub fn with_fields(
        indicators: &[Huntable],
        opts: &SearchOptions,
        fields: &[String],
    ) -> DetectionPlan {
        let mut sorted: Vec<&Huntable> = indicators.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));
        sorted.dedup_by(|a, b| a.id == b.id);
        let mut summary = PlanSummary::default();
        let names = expansion_names(opts, fields);
        let mut patterns = BTreeSet::new();
        let mut kind_table: BTreeMap<ValueKind, Vec<(String, Read)>> = BTreeMap::new();
        let mut atom_map: BTreeMap<(ValueKind, String), (BTreeSet<String>, Vec<usize>)> =
            BTreeMap::new();
        let mut complex = BTreeMap::new();
        let mut kinds = crate::pattern::atoms::KindCache::new();
        for (i, h) in sorted.iter().enumerate() {
            let skip = |summary: &mut PlanSummary, why: String| {
                summary.skipped.push((h.id.clone(), why));
            };
            if !h.pattern_type.trim().eq_ignore_ascii_case("stix") {
                skip(&mut summary, unsupported_type_message(&h.pattern_type));
                continue;
            }
            // Most indicators are `[type:path = 'value']`: read without the grammar.
            let parsed = match crate::pattern::parse_simple(&h.pattern)
                .map(Ok)
                .unwrap_or_else(|| parse(&h.pattern))
            {
                Ok(p) => p,
                Err(e) => {
                    skip(&mut summary, e.to_string());
                    continue;
                }
            };
            if let Some(values) = crate::pattern::atoms::atoms_with(&parsed, opts, &mut kinds) {
                let mut kept = Vec::new();
                let mut why = String::new();
                for (kind, value) in values {
                    let private = kind == ValueKind::Ip
                        && opts.ignore_private_addrs
                        && value.trim().parse::<IpAddr>().is_ok_and(is_private);
                    if private {
                        why = format!(
                            "private address {value} not searched \
                             (WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS)"
                        );
                        continue;
                    }
                    let table = kind_table
                        .entry(kind)
                        .or_insert_with(|| kind_fields(kind, opts, &names, &mut patterns));
                    if table.is_empty() {
                        why = format!("no alert field holds {kind} values");
                        continue;
                    }
                    let Some(norm) = normalise(kind, &value, opts.lookup_mac_variants) else {
                        why = format!("{value:?} is not a {kind} value");
                        continue;
                    };
                    kept.push((kind, norm, value));
                }
                if kept.is_empty() {
                    skip(&mut summary, why);
                    continue;
                }
                summary.atomic += 1;
                for (kind, norm, value) in kept {
                    let e = atom_map.entry((kind, norm)).or_default();
                    e.0.insert(value);
                    if e.1.last() != Some(&i) {
                        e.1.push(i);
                    }
                }
                continue;
            }
            match translate(&parsed, opts) {
                Ok(t) => {
                    summary.complex += 1;
                    complex.insert(i, t.query);
                }
                Err(e) => skip(&mut summary, e.to_string()),
            }
        }
        let mut atoms = Vec::with_capacity(atom_map.len());
        let mut index = HashMap::with_capacity(atom_map.len());
        for ((kind, norm), (spellings, members)) in atom_map {
            *summary.atoms_by_kind.entry(kind.name()).or_default() += 1;
            index.insert((kind, norm.clone()), members);
            atoms.push(Atom {
                kind,
                norm,
                spellings,
            });
        }
        kind_table.retain(|k, _| atoms.iter().any(|a| a.kind == *k));
        summary.field_patterns = {
            // Only the patterns of kinds that have values.
            let mut planned = BTreeSet::new();
            for k in kind_table.keys() {
                for (f, how) in opts.vocabulary.of(*k) {
                    if f.contains('*') && matches!(how, Match::Exact | Match::CaseInsensitive) {
                        planned.insert(f.to_string());
                    }
                }
            }
            planned.into_iter().collect()
        };
        let mut plan = DetectionPlan {
            ids: sorted.iter().map(|h| h.id.clone()).collect(),
            atoms,
            index,
            fields: kind_table,
            complex,
            parts: Vec::new(),
            summary,
            mac_spellings: opts.lookup_mac_variants,
        };
        plan.parts = plan.pack(opts);
        plan
    }

    /// Splits the atoms into `terms` requests, adds one `exists` request for the fields read
    /// locally, and the translated patterns under the clause budget; then labels them.
    fn pack(&self, opts: &SearchOptions) -> Vec<(String, Part)> {
        let mut parts: Vec<(String, Part)> = Vec::new();
        let excludes = |kinds: &BTreeSet<ValueKind>| -> Vec<(ValueKind, &'static str)> {
            kinds
                .iter()
                .filter_map(|k| exclude_field(*k, opts).map(|f| (*k, f)))
                .collect()
        };
        let kinds_label = |kinds: &BTreeSet<ValueKind>| -> String {
            kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join("+")
        };
        // Terms: greedy runs of atoms under the per-list, per-request clause and byte limits.
        let mut start = 0;
        let mut counts: HashMap<&str, usize> = HashMap::new();
        let mut bytes = 0usize;
        let mut runs: Vec<Range<usize>> = Vec::new();
        for (i, atom) in self.atoms.iter().enumerate() {
            let mut add: Vec<(&str, usize)> = Vec::new();
            let mut add_bytes = 0;
            // (count, bytes) of the atom's spellings per way of reading, worked out once per
            // atom rather than once per field.
            let mut sizes: Vec<(Read, usize, usize)> = Vec::new();
            for (field, read) in self.fields.get(&atom.kind).into_iter().flatten() {
                if !read.is_terms() {
                    continue;
                }
                let (n, b) = match sizes.iter().find(|(r, _, _)| r == read) {
                    Some((_, n, b)) => (*n, *b),
                    None => {
                        let v = variants(atom, *read, self.mac_spellings);
                        let size = (v.len(), v.iter().map(|s| s.len() + 3).sum::<usize>());
                        sizes.push((*read, size.0, size.1));
                        size
                    }
                };
                if n > 0 {
                    add_bytes += b;
                    add.push((field.as_str(), n));
                }
            }
            let new_fields = add.iter().filter(|(f, _)| !counts.contains_key(f)).count();
            let full = add
                .iter()
                .any(|(f, n)| counts.get(f).copied().unwrap_or(0) + n > MAX_TERMS_VALUES)
                || counts.len() + new_fields > MAX_TERMS_CLAUSES
                || bytes + add_bytes > MAX_TERMS_BYTES;
            if full && i > start {
                runs.push(start..i);
                start = i;
                counts.clear();
                bytes = 0;
            }
            for (f, n) in add {
                *counts.entry(f).or_default() += n;
            }
            bytes += add_bytes;
        }
        if start < self.atoms.len() {
            runs.push(start..self.atoms.len());
        }
        let mut labelled: Vec<(String, Part)> = Vec::new();
        for run in runs {
            let kinds: BTreeSet<ValueKind> =
                self.atoms[run.clone()].iter().map(|a| a.kind).collect();
            let reads = group_reads(kinds.iter().flat_map(|k| {
                self.fields
                    .get(k)
                    .into_iter()
                    .flatten()
                    .filter(|(_, r)| r.is_terms())
                    .map(|(f, r)| (f.clone(), *k, *r))
            }));
            if reads.is_empty() {
                continue;
            }
            labelled.push((
                format!("terms {}", kinds_label(&kinds)),
                Part::Terms {
                    atoms: run,
                    reads,
                    excludes: excludes(&kinds),
                },
            ));
        }
        number(&mut labelled);
        parts.extend(labelled);
        // Composite fields: one `exists` request for all of them.
        let kinds: BTreeSet<ValueKind> = self.fields.keys().copied().collect();
        let reads = group_reads(kinds.iter().flat_map(|k| {
            self.fields
                .get(k)
                .into_iter()
                .flatten()
                .filter(|(_, r)| !r.is_terms())
                .map(|(f, r)| (f.clone(), *k, *r))
        }));
        if !reads.is_empty() {
            let with: BTreeSet<ValueKind> = reads
                .iter()
                .flat_map(|(_, rs)| rs.iter().map(|(k, _)| *k))
                .collect();
            parts.push((
                format!("composite {} 1/1", kinds_label(&with)),
                Part::Composite {
                    reads,
                    excludes: excludes(&with),
                },
            ));
        }
        // Translated patterns, under the clause budget (one range filter per request).
        let mut labelled: Vec<(String, Part)> = Vec::new();
        let mut members = Vec::new();
        let mut used = 1;
        for (i, q) in &self.complex {
            let n = budget::clause_count(q);
            if used + n > MAX_PATTERN_CLAUSES && !members.is_empty() {
                labelled.push(("patterns".into(), Part::Patterns { members }));
                members = Vec::new();
                used = 1;
            }
            members.push(*i);
            used += n;
        }
        if !members.is_empty() {
            labelled.push(("patterns".into(), Part::Patterns { members }));
        }
        number(&mut labelled);
        parts.extend(labelled);
        parts
    }

    /// Indicators planned (atomic values, complex patterns) and skipped with their reason.
    pub fn summary(&self) -> PlanSummary {
        self.summary.clone()
    }

    /// How many requests one window takes.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether the plan searches nothing.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The search bodies for one window `[from, to)` on `time_field`, each a complete
    /// `_search` body: `page_size` hits sorted by time (paged with [`next_page`]),
    /// `_source` limited to the fields attribution reads, no total count.
    pub fn requests(
        &self,
        from: &DateTime<Utc>,
        to: &DateTime<Utc>,
        time_field: &str,
        page_size: usize,
    ) -> Vec<DetectRequest> {
        (0..self.parts.len())
            .filter_map(|i| self.request(i, from, to, time_field, page_size))
            .collect()
    }

    /// Request `i` of [`DetectionPlan::requests`] alone: with 100,000 values the bodies hold
    /// tens of megabytes, which a caller may build and send one at a time.
    pub fn request(
        &self,
        i: usize,
        from: &DateTime<Utc>,
        to: &DateTime<Utc>,
        time_field: &str,
        page_size: usize,
    ) -> Option<DetectRequest> {
        let (label, part) = self.parts.get(i)?;
        let (should, source): (Vec<Value>, Value) = match part {
            Part::Terms {
                atoms,
                reads,
                excludes,
            } => {
                // The spellings per (kind, way of reading) are computed once and the list of a
                // field shared by every field read the same way: an address list goes to some
                // forty fields, and building it per field was most of a cycle's CPU.
                let mut per_read: BTreeMap<(ValueKind, Read), BTreeSet<String>> = BTreeMap::new();
                let mut reads_of: BTreeMap<ValueKind, BTreeSet<Read>> = BTreeMap::new();
                for atom in self.atoms.get(atoms.clone())? {
                    let kind_reads = reads_of.entry(atom.kind).or_insert_with(|| {
                        self.fields
                            .get(&atom.kind)
                            .into_iter()
                            .flatten()
                            .filter(|(_, r)| r.is_terms())
                            .map(|(_, r)| *r)
                            .collect()
                    });
                    for read in kind_reads.iter() {
                        per_read
                            .entry((atom.kind, *read))
                            .or_default()
                            .extend(variants(atom, *read, self.mac_spellings));
                    }
                }
                let mut sigs: BTreeMap<&str, Vec<(ValueKind, Read)>> = BTreeMap::new();
                for kind in reads_of.keys() {
                    for (field, read) in self.fields.get(kind).into_iter().flatten() {
                        if read.is_terms() {
                            sigs.entry(field.as_str()).or_default().push((*kind, *read));
                        }
                    }
                }
                let mut lists: BTreeMap<Vec<(ValueKind, Read)>, Value> = BTreeMap::new();
                let mut should = Vec::new();
                for (field, sig) in sigs {
                    let list = lists.entry(sig.clone()).or_insert_with(|| {
                        let mut all: BTreeSet<&String> = BTreeSet::new();
                        for kr in &sig {
                            all.extend(per_read.get(kr).into_iter().flatten());
                        }
                        Value::Array(all.into_iter().map(|v| Value::String(v.clone())).collect())
                    });
                    if list.as_array().is_some_and(|a| !a.is_empty()) {
                        should.push(json!({"terms": {field: list.clone()}}));
                    }
                }
                (should, source_fields(reads, excludes))
            }
            Part::Composite { reads, excludes } => (
                reads
                    .iter()
                    .map(|(f, _)| json!({"exists": {"field": f}}))
                    .collect(),
                source_fields(reads, excludes),
            ),
            Part::Patterns { members } => (
                members
                    .iter()
                    .filter_map(|m| {
                        let q = self.complex.get(m)?;
                        Some(json!({"bool": {"should": [q], "_name": format!("h{m}")}}))
                    })
                    .collect(),
                Value::Bool(false),
            ),
        };
        let body = json!({
            "size": page_size,
            "query": {"bool": {
                "filter": [{"range": {time_field: {
                    "gte": format_utc(*from),
                    "lt": format_utc(*to),
                }}}],
                "should": should,
                "minimum_should_match": 1,
            }},
            "sort": [{time_field: "asc"}],
            "_source": source,
            "track_total_hits": false,
        });
        Some(DetectRequest {
            body,
            label: label.clone(),
            part: i,
        })
    }

    /// The indicators (ids) a hit of `req` (one element of `hits.hits`) proves matched.
    pub fn attribute(&self, req: &DetectRequest, hit: &Value) -> Vec<String> {
        // A request of another plan (the indicator set changed meanwhile) proves nothing here.
        let Some((label, part)) = self.parts.get(req.part) else {
            return Vec::new();
        };
        if *label != req.label {
            return Vec::new();
        }
        let found: BTreeSet<usize> = match part {
            Part::Terms {
                reads, excludes, ..
            }
            | Part::Composite { reads, excludes } => {
                let source = hit.get("_source").unwrap_or(&Value::Null);
                self.lookup(source, reads, excludes)
            }
            Part::Patterns { members } => matched_names(hit)
                .filter_map(|n| n.strip_prefix('h')?.parse::<usize>().ok())
                .filter(|m| members.binary_search(m).is_ok())
                .collect(),
        };
        found
            .into_iter()
            .filter_map(|i| self.ids.get(i).cloned())
            .collect()
    }

    /// The indicators whose values the fields of `source` hold.
    fn lookup(
        &self,
        source: &Value,
        reads: &[(String, Vec<(ValueKind, Read)>)],
        excludes: &[(ValueKind, &'static str)],
    ) -> BTreeSet<usize> {
        // The event's own host or agent address is not a sighting of it.
        let mut excluded: BTreeSet<(ValueKind, String)> = BTreeSet::new();
        for (kind, field) in excludes {
            let mut vals = Vec::new();
            values_at(source, field, &mut vals);
            for v in vals.into_iter().filter_map(text) {
                if let Some(n) = normalise(*kind, &v, self.mac_spellings) {
                    excluded.insert((*kind, n));
                }
            }
        }
        let mut found = BTreeSet::new();
        for (field, how) in reads {
            let mut vals = Vec::new();
            values_at(source, field, &mut vals);
            for v in vals.into_iter().filter_map(text) {
                for (kind, read) in how {
                    for c in candidates(*read, &v) {
                        let Some(n) = normalise(*kind, c, self.mac_spellings) else {
                            continue;
                        };
                        let key = (*kind, n);
                        if excluded.contains(&key) {
                            continue;
                        }
                        if let Some(ids) = self.index.get(&key) {
                            found.extend(ids.iter().copied());
                        }
                    }
                }
            }
        }
        found
    }
}

/// The `_source` fields of a request: what attribution reads, and the exclusion fields.
fn source_fields(
    reads: &[(String, Vec<(ValueKind, Read)>)],
    excludes: &[(ValueKind, &'static str)],
) -> Value {
    let mut f: BTreeSet<&str> = reads.iter().map(|(f, _)| f.as_str()).collect();
    f.extend(excludes.iter().map(|(_, e)| *e));
    json!(f)
}

/// The query names a hit matched (`matched_queries` is a list, or an object of names to
/// scores when scores are asked for).
fn matched_names(hit: &Value) -> Box<dyn Iterator<Item = &str> + '_> {
    match hit.get("matched_queries") {
        Some(Value::Array(a)) => Box::new(a.iter().filter_map(Value::as_str)),
        Some(Value::Object(o)) => Box::new(o.keys().map(String::as_str)),
        _ => Box::new(std::iter::empty()),
    }
}

/// Appends ` i/n` to labels, counting the parts that share a label.
fn number(parts: &mut [(String, Part)]) {
    let mut totals: HashMap<String, usize> = HashMap::new();
    for (l, _) in parts.iter() {
        *totals.entry(l.clone()).or_default() += 1;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (l, _) in parts.iter_mut() {
        let n = totals.get(l.as_str()).copied().unwrap_or(1);
        let i = seen.entry(l.clone()).or_default();
        *i += 1;
        *l = format!("{l} {i}/{n}");
    }
}
