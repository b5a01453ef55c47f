//! One pure function per observable type, from the typed observable and the search options to
//! the OpenSearch query that finds the alerts mentioning it.
//!
//! The result is the query part only (a `bool` query); [`super::envelope`] adds the time window,
//! filters, sorting and aggregations. `Ok(None)` means "no queryable data" (e.g. a private
//! address or a file without hash or name).
//!
//! Semantics (fields, spellings, path and registry handling) are described in `docs/search.md`,
//! including where they differ from the Python connector users migrate from.
//! Every observable value is escaped for the syntax it is put in: `regexp` values through
//! [`super::escape::regexp_literal`]/[`super::escape::path_regexp`], `wildcard` values through
//! [`super::escape::wildcard_literal`]; `match`/`multi_match`/`term` take values literally.

use std::net::IpAddr;

use serde_json::Value;

pub use super::dsl::any_of;
use super::dsl::{bool_q, multi_match, regexp, term, term_ci, wildcard};
use super::escape::{path_regexp, regexp_literal, wildcard_literal, windows_path_regexp};
use super::fields as f;
use super::lookup;
pub use super::lookup::mac_variants;
pub use super::paths::{basename, is_abs_path, HIVES, SID_REGEXP};
use super::paths::{collapse_backslashes, strip_quotes, tokenize};
use crate::config::options::{
    DirSearchOption as D, FileSearchOption as F, ProcSearchOption as P, SearchOptions,
};
use crate::entity::{FileObservable, NetworkTrafficObservable, Observable};
use crate::vocabulary::{Match, ValueKind as K, Vocabulary};

/// Why a query could not be built (invalid observable data; never for "nothing to search").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

/// SHA-256 of the empty file: never a meaningful sighting.
pub const EMPTY_FILE_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// What may precede a command-line argument: whitespace or a quote.
const ARG_BEFORE: &str = "(.*[ \t\n\r\"'])?";
/// What may follow an argument or the executable: the end, whitespace, or a quote that
/// eventchannel may have stored escaped (`\"`).
const ARG_AFTER: &str = "((\\\\?[\"']|[ \t\n\r]).*)?";

/// Builds the query for one observable; `Ok(None)` = no queryable data.
pub fn build(obs: &Observable, opts: &SearchOptions) -> Result<Option<Value>, QueryError> {
    let v: &Vocabulary = &opts.vocabulary;
    match obs {
        Observable::Ipv4Addr { value } | Observable::Ipv6Addr { value } => addr(value, opts),
        Observable::DomainName { value } | Observable::Hostname { value } => {
            Ok(Some(domain(value, opts)))
        }
        Observable::Url { value } => Ok(Some(url(value, opts))),
        Observable::EmailAddr { value } => Ok(Some(bool_q(
            vec![lookup::any(v, K::Email, value)],
            vec![],
            vec![],
        ))),
        Observable::UserAgent { value } => Ok(Some(bool_q(
            vec![lookup::any(v, K::UserAgent, value)],
            vec![],
            vec![],
        ))),
        Observable::MacAddr { value } => Ok(Some(bool_q(
            vec![],
            lookup::mac_clauses(v, K::Mac, value, opts.lookup_mac_variants),
            vec![],
        ))),
        Observable::File(file_obs) => Ok(file(file_obs, opts)),
        Observable::Artifact { hashes } => {
            let list = hash_queries(v, hashes);
            Ok((!list.is_empty()).then(|| bool_q(vec![], list, vec![])))
        }
        Observable::Directory { path } => Ok(directory(path, opts)),
        Observable::WindowsRegistryKey { key } => Ok(super::registry::key(key, opts)),
        Observable::WindowsRegistryValue {
            name,
            data,
            data_type,
        } => {
            let hashed = data
                .as_deref()
                .zip(data_type.as_deref())
                .and_then(|(d, t)| super::registry::fim_digest(d, t))
                .map(|h| lookup::clauses(v, K::RegistryValueSha256, &h))
                .unwrap_or_default();
            Ok(super::registry::value(
                v,
                name.as_deref(),
                data.as_deref(),
                hashed,
            ))
        }
        Observable::Process { command_line, .. } => {
            Ok(command_line.as_deref().and_then(|c| process(c, opts)))
        }
        Observable::UserAccount {
            account_login,
            user_id,
            ..
        } => Ok(account(v, account_login.as_deref(), user_id.as_deref())),
        Observable::NetworkTraffic(t) => Ok(traffic(t, opts)),
        Observable::Vulnerability { name } => Ok(Some(bool_q(
            vec![lookup::any(v, K::Cve, name)],
            vec![],
            vec![],
        ))),
        Observable::Software { name, version } => {
            let mut must = vec![lookup::any(v, K::PackageName, name)];
            if let Some(ver) = version.as_deref().filter(|x| !x.is_empty()) {
                must.push(lookup::any(v, K::PackageVersion, ver));
            }
            Ok(Some(bool_q(must, vec![], vec![])))
        }
    }
}

fn addr(value: &str, opts: &SearchOptions) -> Result<Option<Value>, QueryError> {
    let ip: IpAddr = value.parse().map_err(|e| QueryError::Invalid {
        what: "IP address",
        reason: format!("{value:?}: {e}"),
    })?;
    if opts.ignore_private_addrs && super::ip::is_private(ip) {
        return Ok(None);
    }
    let must_not = if opts.lookup_agent_ip {
        vec![]
    } else {
        vec![term(f::AGENT_IP_FIELD, value)]
    };
    let spellings = lookup::ip_clauses(&opts.vocabulary, K::Ip, ip, value);
    Ok(Some(bool_q(
        vec![super::dsl::one_of(spellings)],
        vec![],
        must_not,
    )))
}

fn domain(v: &str, opts: &SearchOptions) -> Value {
    // The syslog header's host is the event's own host (in any letter case), not a sighting —
    // unless the agent's own alerts are asked for.
    let must_not = if opts.lookup_agent_name {
        vec![]
    } else {
        vec![term_ci(f::DOMAIN_EXCLUDE_FIELD, v)]
    };
    let exact = lookup::any(&opts.vocabulary, K::Domain, v);
    if !opts.lookup_hostnames_in_cmd_line && !opts.lookup_agent_name {
        return bool_q(vec![exact], vec![], must_not);
    }
    let mut should = vec![exact];
    if opts.lookup_hostnames_in_cmd_line {
        let glob = format!("*{}*", wildcard_literal(v));
        should.extend(
            concrete(&opts.vocabulary, K::CommandLine)
                .into_iter()
                .chain(concrete(&opts.vocabulary, K::ProcessArg))
                .map(|fl| wildcard(fl, &glob, false)),
        );
    }
    if opts.lookup_agent_name {
        // Host names are case-insensitive.
        should.push(term_ci(f::AGENT_NAME_FIELD, v));
    }
    bool_q(vec![], should, must_not)
}

fn url(v: &str, opts: &SearchOptions) -> Value {
    let re = if opts.lookup_url_without_host {
        let path = strip_url_host(v.trim_end_matches('/'));
        let slash = if opts.lookup_url_ignore_trailing_slash {
            "/?"
        } else {
            ""
        };
        format!("(.+://)?[^/]*/?{}{slash}", regexp_literal(path))
    } else if opts.lookup_url_ignore_trailing_slash {
        format!("{}/?", regexp_literal(v.trim_end_matches('/')))
    } else {
        return bool_q(
            vec![lookup::any(&opts.vocabulary, K::Url, v)],
            vec![],
            vec![],
        );
    };
    bool_q(
        vec![],
        concrete(&opts.vocabulary, K::Url)
            .into_iter()
            .map(|fl| regexp(fl, &re, false))
            .collect(),
        vec![],
    )
}

/// Removes `scheme://host` from a URL when a path follows (`^(?:.+://)?[^/]+(?=/)` removed).
fn strip_url_host(u: &str) -> &str {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"^(?:.+://)?[^/]+/").ok());
    match re.as_ref().and_then(|r| r.find(u)) {
        Some(m) => &u[m.end() - 1..],
        None => u,
    }
}

/// The kind's exact-match fields without field patterns (for term-level queries, which take
/// one concrete field each).
fn concrete(v: &Vocabulary, kind: K) -> Vec<&str> {
    v.fields(kind, Match::Exact)
        .into_iter()
        .filter(|fl| !fl.contains('*'))
        .collect()
}

fn hash_queries(v: &Vocabulary, hashes: &std::collections::BTreeMap<String, String>) -> Vec<Value> {
    // A fixed algorithm order keeps the query independent of the export's key order.
    let mut out = Vec::new();
    for (alg, kind) in [("SHA-256", K::Sha256), ("SHA-1", K::Sha1), ("MD5", K::Md5)] {
        if let Some(h) = hashes.get(alg).filter(|h| !h.is_empty()) {
            out.push(lookup::any(v, kind, h));
        }
    }
    out
}

fn file(obs: &FileObservable, opts: &SearchOptions) -> Option<Value> {
    let fo = &opts.filesearch_options;
    let v: &Vocabulary = &opts.vocabulary;
    let hash_list = hash_queries(v, &obs.hashes);
    let has_hash = !hash_list.is_empty();
    let mut filenames: Vec<&str> = obs.name.iter().map(String::as_str).collect();
    if fo.contains(&F::SearchAdditionalFilenames) {
        filenames.extend(obs.additional_names.iter().map(String::as_str));
    }
    let parent = if fo.contains(&F::IncludeParentDirRef) {
        obs.parent_directory
            .as_deref()
            .map(|p| p.trim_end_matches(['/', '\\']))
            .filter(|p| !p.is_empty())
    } else {
        None
    };
    let size = if fo.contains(&F::SearchSize) {
        obs.size
    } else {
        None
    };
    if !has_hash && (!fo.contains(&F::SearchFilenameOnly) || filenames.is_empty()) {
        return None;
    }
    if obs.hashes.get("SHA-256").map(String::as_str) == Some(EMPTY_FILE_SHA256) {
        return None;
    }
    let mut paths: Vec<String> = Vec::new();
    for raw in &filenames {
        let name = if fo.contains(&F::BasenameOnly) || parent.is_some() {
            basename(raw)
        } else {
            raw
        };
        if name.is_empty() {
            continue;
        }
        let p = match parent {
            Some(dir) => {
                let sep = if dir.contains('\\') { "\\" } else { "/" };
                format!("{dir}{sep}{name}")
            }
            None => name.to_string(),
        };
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    let mut must = Vec::new();
    let mut should = Vec::new();
    if has_hash {
        must.push(bool_q(vec![], hash_list, vec![]));
    } else if let Some(sz) = size {
        must.push(multi_match(
            &sz.to_string(),
            &v.fields(K::FileSize, Match::Exact),
        ));
    }
    let search_names =
        fo.contains(&F::SearchNameAndHash) || (!has_hash && fo.contains(&F::SearchFilenameOnly));
    if search_names && !paths.is_empty() {
        if !fo.contains(&F::AllowRegexp) {
            if !paths.iter().any(|p| is_abs_path(p)) && !has_hash {
                return None;
            }
            let fields = v.fields(K::File, Match::Exact);
            should.extend(paths.iter().map(|p| multi_match(p, &fields)));
        } else if !fo.contains(&F::RequireAbsPath) || paths.iter().all(|p| is_abs_path(p)) {
            // Absoluteness is decided on the raw path: escaping adds backslashes.
            let (mut alt, mut arg) = (Vec::new(), Vec::new());
            for p in &paths {
                let e = windows_path_regexp(p);
                if is_abs_path(p) {
                    alt.push(e.clone());
                    arg.push(format!("{ARG_BEFORE}{e}"));
                } else {
                    alt.push(format!("(.*[/\\\\])?{e}"));
                    arg.push(format!("(.*[ \t\n\r\"'/\\\\])?{e}"));
                }
            }
            let alt = alt.join("|");
            // In a command line the file is one argument (or the program): delimited like
            // the arguments of a process search.
            let arg = format!("({}){ARG_AFTER}", arg.join("|"));
            let ci = fo.contains(&F::CaseInsensitive);
            should.extend(
                concrete(v, K::File)
                    .into_iter()
                    .map(|fl| regexp(fl, &alt, ci)),
            );
            should.extend(
                concrete(v, K::CommandLine)
                    .into_iter()
                    .map(|fl| regexp(fl, &arg, ci)),
            );
        } else {
            return None;
        }
    } else if search_names && !has_hash {
        return None;
    }
    if must.is_empty() && should.is_empty() {
        return None;
    }
    Some(bool_q(must, should, vec![]))
}

fn directory(raw: &str, opts: &SearchOptions) -> Option<Value> {
    let d = &opts.dirsearch_options;
    let path = raw.trim_end_matches(['/', '\\']);
    if path.is_empty() {
        return None;
    }
    if d.contains(&D::RequireAbsPath) && !is_abs_path(path) {
        return None;
    }
    let v: &Vocabulary = &opts.vocabulary;
    if !d.contains(&D::AllowRegexp) {
        let fields = v.fields(K::Directory, Match::Exact);
        let variants: Vec<String> = if d.contains(&D::NormaliseBackslashes) {
            let mut v = vec![collapse_backslashes(path, 1), collapse_backslashes(path, 2)];
            v.dedup();
            v
        } else {
            vec![path.to_string()]
        };
        let clauses: Vec<Value> = variants.iter().map(|v| multi_match(v, &fields)).collect();
        // The spellings are alternatives: an alert holds one of them.
        return Some(if clauses.len() == 1 {
            bool_q(clauses, vec![], vec![])
        } else {
            bool_q(vec![], clauses, vec![])
        });
    }
    let p = windows_path_regexp(path);
    let ci = d.contains(&D::CaseInsensitive);
    let mut should = Vec::new();
    if d.contains(&D::SearchFilenames) {
        let re = format!("{p}([/\\\\]+.*)?");
        should.extend(
            concrete(v, K::File)
                .into_iter()
                .map(|fl| regexp(fl, &re, ci)),
        );
    }
    let re = if d.contains(&D::MatchSubdirs) {
        format!("(.*[/\\\\])?{p}([/\\\\]+.*)?")
    } else if d.contains(&D::IgnoreTrailingSlash) {
        format!("{p}(/|\\\\)*")
    } else {
        p
    };
    should.extend(
        concrete(v, K::Directory)
            .into_iter()
            .map(|fl| regexp(fl, &re, ci)),
    );
    Some(bool_q(vec![], should, vec![]))
}

fn process(cmd_line: &str, opts: &SearchOptions) -> Option<Value> {
    let tokens = tokenize(cmd_line);
    let first = strip_quotes(tokens.first()?);
    let exe = regexp_literal(basename(first));
    if exe.is_empty() {
        return None;
    }
    let args: Vec<&str> = tokens[1..].iter().map(|a| strip_quotes(a)).collect();
    let ci = opts.procsearch_options.contains(&P::CaseInsensitive);
    // Arguments are delimited by whitespace or quotes; the executable name must end at a
    // delimiter too, so `cmd.exe` does not match `xcmd.exe2`.
    let arg_res: Vec<String> = args
        .iter()
        .filter(|a| !a.is_empty())
        .map(|a| format!("{ARG_BEFORE}{}{ARG_AFTER}", path_regexp(a)))
        .collect();
    let cmd_re = format!("(\\\\?[\"'])?(.*[\\\\/])?{exe}{ARG_AFTER}");
    let image_re = format!("(.*[\\\\/])?{exe}");
    let v: &Vocabulary = &opts.vocabulary;
    let images = concrete(v, K::ProcessImage);
    let mut should = Vec::new();
    for fl in concrete(v, K::CommandLine) {
        let mut must = vec![regexp(fl, &cmd_re, ci)];
        must.extend(arg_res.iter().map(|re| regexp(fl, re, ci)));
        should.push(bool_q(must, vec![], vec![]));
    }
    let image_should: Vec<Value> = images.iter().map(|fl| regexp(fl, &image_re, ci)).collect();
    if arg_res.is_empty() {
        // Image fields hold only the executable: alone, they match a command line without
        // arguments.
        should.extend(image_should);
    } else {
        // Where the arguments are stored one a field (auditd `execve`), each must be there.
        let arg_fields = v.fields(K::ProcessArg, Match::Exact);
        let arg_must: Vec<Value> = args
            .iter()
            .filter(|a| !a.is_empty())
            .map(|a| multi_match(a, &arg_fields))
            .collect();
        should.push(bool_q(arg_must, image_should, vec![]));
    }
    Some(bool_q(vec![], should, vec![]))
}

fn account(v: &Vocabulary, login: Option<&str>, user_id: Option<&str>) -> Option<Value> {
    let mut login = login.filter(|s| !s.is_empty()).map(str::to_string);
    let mut uid = user_id.filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(l) = login.clone() {
        if let Some((name, rest)) = l.split_once("(uid=") {
            if let Some(num) = rest.strip_suffix(')') {
                if !name.is_empty() && !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) {
                    login = Some(name.to_string());
                    uid = Some(num.to_string());
                }
            }
        }
    }
    let mut must = Vec::new();
    if let Some(l) = &login {
        must.push(lookup::any(v, K::Account, l));
    }
    if let Some(u) = &uid {
        must.push(lookup::any(v, K::UserId, u));
    }
    (!must.is_empty()).then(|| bool_q(must, vec![], vec![]))
}

fn traffic(t: &NetworkTrafficObservable, opts: &SearchOptions) -> Option<Value> {
    let v: &Vocabulary = &opts.vocabulary;
    let mut must = Vec::new();
    let endpoint = |o: &Observable, mac: K, ip: K| -> Option<Value> {
        match o {
            Observable::MacAddr { value } => Some(bool_q(
                vec![],
                lookup::mac_clauses(v, mac, value, opts.lookup_mac_variants),
                vec![],
            )),
            Observable::Ipv4Addr { value } | Observable::Ipv6Addr { value } => {
                Some(super::dsl::one_of(lookup::inner_clauses(opts, ip, value)))
            }
            _ => None,
        }
    };
    if let Some(src) = &t.src {
        must.push(endpoint(src, K::SrcMac, K::SrcIp)?);
    }
    if let Some(p) = t.src_port {
        must.push(lookup::any(v, K::SrcPort, &p.to_string()));
    }
    if let Some(dst) = &t.dst {
        must.push(endpoint(dst, K::DstMac, K::DstIp)?);
    }
    if let Some(p) = t.dst_port {
        must.push(lookup::any(v, K::DstPort, &p.to_string()));
    }
    if !t.protocols.is_empty() {
        must.push(bool_q(
            vec![],
            t.protocols
                .iter()
                .map(|p| lookup::any(v, K::Protocol, p))
                .collect(),
            vec![],
        ));
    }
    (!must.is_empty()).then(|| bool_q(must, vec![], vec![]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn build_default(o: Observable) -> Option<Value> {
        build(&o, &SearchOptions::default()).unwrap()
    }

    #[test]
    fn lookup_agent_name_adds_an_agent_name_alternative() {
        let o = SearchOptions {
            lookup_agent_name: true,
            ..SearchOptions::default()
        };
        let q = build(
            &Observable::Hostname {
                value: "WS-042".into(),
            },
            &o,
        )
        .unwrap()
        .unwrap();
        let should = q["bool"]["should"].as_array().unwrap();
        assert_eq!(
            should[1],
            json!({"term": {"agent.name": {"value": "WS-042", "case_insensitive": true}}})
        );
        assert_eq!(q["bool"]["minimum_should_match"], 1);
        assert!(q["bool"].get("must_not").is_none());
    }

    #[test]
    fn private_ipv6_is_skipped_and_invalid_ip_is_an_error() {
        assert_eq!(
            build_default(Observable::Ipv6Addr {
                value: "fd00::1".into()
            }),
            None
        );
        let err = build(
            &Observable::Ipv4Addr {
                value: "300.1.1.1".into(),
            },
            &SearchOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("invalid IP address"));
    }

    #[test]
    fn registry_values_are_searched_by_data_with_or_without_a_type() {
        let v = |data: &str, t: Option<&str>| Observable::WindowsRegistryValue {
            name: None,
            data: Some(data.into()),
            data_type: t.map(Into::into),
        };
        // Data FIM cannot hash (bad hex, untyped, DWORD) is still searched as text.
        for o in [
            v("zz", Some("REG_BINARY")),
            v("1", Some("REG_DWORD")),
            v("1", None),
        ] {
            let q = build_default(o).unwrap();
            assert!(q["bool"]["must"][0]["regexp"].is_object());
        }
        let q = build_default(v("de ad be ef", Some("REG_BINARY"))).unwrap();
        assert!(serde_json::to_string(&q)
            .unwrap()
            .contains("5f78c33274e43fa9de5659265c1d917e25c03722dcb0b8d27db8d5feaa813953"));
    }

    #[test]
    fn mac_variants_fall_back_to_the_value_when_not_a_mac() {
        assert_eq!(mac_variants("not-a-mac", true), vec!["not-a-mac"]);
        assert_eq!(mac_variants("00-1A-2B-3C-4D-5E", true)[4], "001a.2b3c.4d5e");
    }

    #[test]
    fn empty_traffic_and_accounts_have_no_queryable_data() {
        assert!(build_default(Observable::NetworkTraffic(Default::default())).is_none());
        assert!(build_default(Observable::UserAccount {
            account_login: None,
            user_id: None,
            display_name: Some("John".into())
        })
        .is_none());
        assert!(build_default(Observable::Process {
            command_line: Some("   ".into()),
            pid: None
        })
        .is_none());
    }
}
