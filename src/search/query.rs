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
use sha2::{Digest, Sha256};

pub use super::dsl::any_of;
use super::dsl::{bool_q, multi_match, regexp, term, term_ci, wildcard};
use super::escape::{path_regexp, regexp_literal, wildcard_literal};
use super::fields as f;
pub use super::paths::{basename, is_abs_path, HIVES, SID_REGEXP};
use super::paths::{collapse_backslashes, hive_of, sid_regex, strip_quotes, tokenize};
use crate::config::options::{
    DirSearchOption as D, FileSearchOption as F, ProcSearchOption as P, RegKeySearchOption as R,
    SearchOptions,
};
use crate::entity::{FileObservable, NetworkTrafficObservable, Observable};

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
    match obs {
        Observable::Ipv4Addr { value } | Observable::Ipv6Addr { value } => addr(value, opts),
        Observable::DomainName { value } | Observable::Hostname { value } => {
            Ok(Some(domain(value, opts)))
        }
        Observable::Url { value } => Ok(Some(url(value, opts))),
        Observable::EmailAddr { value } => Ok(Some(bool_q(
            vec![multi_match(value, f::EMAIL_FIELDS)],
            vec![],
            vec![],
        ))),
        Observable::UserAgent { value } => Ok(Some(bool_q(
            vec![multi_match(value, f::USER_AGENT_FIELDS)],
            vec![],
            vec![],
        ))),
        Observable::MacAddr { value } => Ok(Some(bool_q(
            vec![],
            mac_variants(value, opts.lookup_mac_variants)
                .iter()
                .map(|v| multi_match(v, f::MAC_FIELDS))
                .collect(),
            vec![],
        ))),
        Observable::File(file_obs) => Ok(file(file_obs, opts)),
        Observable::Artifact { hashes } => {
            let list = hash_queries(hashes);
            Ok((!list.is_empty()).then(|| bool_q(vec![], list, vec![])))
        }
        Observable::Directory { path } => Ok(directory(path, opts)),
        Observable::WindowsRegistryKey { key } => Ok(reg_key(key, opts)),
        Observable::WindowsRegistryValue {
            data, data_type, ..
        } => Ok(reg_value(data.as_deref(), data_type.as_deref())),
        Observable::Process { command_line, .. } => {
            Ok(command_line.as_deref().and_then(|c| process(c, opts)))
        }
        Observable::UserAccount {
            account_login,
            user_id,
            ..
        } => Ok(account(account_login.as_deref(), user_id.as_deref())),
        Observable::NetworkTraffic(t) => Ok(traffic(t, opts)),
        Observable::Vulnerability { name } => Ok(Some(bool_q(
            f::VULNERABILITY_FIELDS
                .iter()
                .map(|fl| term(fl, name))
                .collect(),
            vec![],
            vec![],
        ))),
        Observable::Software { name, version } => {
            let mut must = vec![term(f::SOFTWARE_NAME_FIELD, name)];
            if let Some(v) = version.as_deref().filter(|v| !v.is_empty()) {
                must.push(term(f::SOFTWARE_VERSION_FIELD, v));
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
    Ok(Some(bool_q(
        vec![multi_match(value, f::IP_FIELDS)],
        vec![],
        must_not,
    )))
}

fn domain(v: &str, opts: &SearchOptions) -> Value {
    let must_not = vec![term(f::DOMAIN_EXCLUDE_FIELD, v)];
    let exact = multi_match(v, f::DOMAIN_FIELDS);
    if !opts.lookup_hostnames_in_cmd_line && !opts.lookup_agent_name {
        return bool_q(vec![exact], vec![], must_not);
    }
    let mut should = vec![exact];
    if opts.lookup_hostnames_in_cmd_line {
        let glob = format!("*{}*", wildcard_literal(v));
        should.extend(
            f::DOMAIN_CMDLINE_FIELDS
                .iter()
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
        return bool_q(vec![multi_match(v, f::URL_MATCH_FIELDS)], vec![], vec![]);
    };
    bool_q(
        vec![],
        f::URL_REGEXP_FIELDS
            .iter()
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

/// The six spellings of a MAC address Wazuh decoders write (or the value as given).
pub fn mac_variants(value: &str, variants: bool) -> Vec<String> {
    let hex: String = value
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    if !variants || hex.len() != 12 {
        return vec![value.to_string()];
    }
    let pairs: Vec<&str> = (0..6).map(|i| &hex[i * 2..i * 2 + 2]).collect();
    let quads: Vec<&str> = (0..3).map(|i| &hex[i * 4..i * 4 + 4]).collect();
    let colon = pairs.join(":");
    let dotted = quads.join(".");
    vec![
        colon.clone(),
        colon.to_ascii_uppercase(),
        hex.clone(),
        hex.to_ascii_uppercase(),
        dotted.clone(),
        dotted.to_ascii_uppercase(),
    ]
}

fn hash_queries(hashes: &std::collections::BTreeMap<String, String>) -> Vec<Value> {
    // A fixed algorithm order keeps the query independent of the export's key order.
    let mut out = Vec::new();
    for (alg, fields) in [
        ("SHA-256", f::HASH_FIELDS_SHA256),
        ("SHA-1", f::HASH_FIELDS_SHA1),
        ("MD5", f::HASH_FIELDS_MD5),
    ] {
        if let Some(h) = hashes.get(alg).filter(|h| !h.is_empty()) {
            out.push(multi_match(h, fields));
        }
    }
    out
}

fn file(obs: &FileObservable, opts: &SearchOptions) -> Option<Value> {
    let fo = &opts.filesearch_options;
    let hash_list = hash_queries(&obs.hashes);
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
        must.push(multi_match(&sz.to_string(), f::FILE_SIZE_FIELDS));
    }
    let search_names =
        fo.contains(&F::SearchNameAndHash) || (!has_hash && fo.contains(&F::SearchFilenameOnly));
    if search_names && !paths.is_empty() {
        if !fo.contains(&F::AllowRegexp) {
            if !paths.iter().any(|p| is_abs_path(p)) && !has_hash {
                return None;
            }
            should.extend(paths.iter().map(|p| multi_match(p, f::FILE_FIELDS)));
        } else if !fo.contains(&F::RequireAbsPath) || paths.iter().all(|p| is_abs_path(p)) {
            // Absoluteness is decided on the raw path: escaping adds backslashes.
            let alt = paths
                .iter()
                .map(|p| {
                    let e = path_regexp(p);
                    if is_abs_path(p) {
                        e
                    } else {
                        format!("(.*[/\\\\])?{e}")
                    }
                })
                .collect::<Vec<_>>()
                .join("|");
            let ci = fo.contains(&F::CaseInsensitive);
            should.extend(f::FILE_FIELDS.iter().map(|fl| regexp(fl, &alt, ci)));
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
    if !d.contains(&D::AllowRegexp) {
        let mut fields: Vec<&str> = f::DIR_FIELDS.to_vec();
        fields.extend_from_slice(f::DIR_EXTRA_MATCH_FIELDS);
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
    let p = path_regexp(path);
    let ci = d.contains(&D::CaseInsensitive);
    let mut should = Vec::new();
    if d.contains(&D::SearchFilenames) {
        let re = format!("{p}([/\\\\]+.*)?");
        should.extend(f::DIR_FILENAME_FIELDS.iter().map(|fl| regexp(fl, &re, ci)));
    }
    let re = if d.contains(&D::MatchSubdirs) {
        format!("(.*[/\\\\])?{p}([/\\\\]+.*)?")
    } else if d.contains(&D::IgnoreTrailingSlash) {
        format!("{p}(/|\\\\)*")
    } else {
        p
    };
    should.extend(f::DIR_FIELDS.iter().map(|fl| regexp(fl, &re, ci)));
    Some(bool_q(vec![], should, vec![]))
}

fn reg_key(raw: &str, opts: &SearchOptions) -> Option<Value> {
    let r = &opts.regkeysearch_options;
    let key = if r.contains(&R::IgnoreTrailingSlash) {
        raw.trim_end_matches('\\')
    } else {
        raw
    };
    if key.is_empty() {
        return None;
    }
    let hive = hive_of(key);
    let is_abs = hive.is_some();
    if !is_abs && (r.contains(&R::RequireAbsPath) || !r.contains(&R::AllowRegexp)) {
        return None;
    }
    if !r.contains(&R::AllowRegexp) {
        let mut variants = vec![collapse_backslashes(key, 1), collapse_backslashes(key, 2)];
        variants.dedup();
        return Some(bool_q(
            vec![],
            variants
                .iter()
                .map(|v| multi_match(v, f::REGKEY_FIELDS))
                .collect(),
            vec![],
        ));
    }
    let (mut p, rest) = match hive {
        // The hive is detected case-insensitively and matched in both spellings.
        Some((i, len)) if r.contains(&R::SearchHiveAliases) => {
            let (full, alias) = HIVES[i];
            (format!("({full}|{alias})"), &key[len..])
        }
        _ => (String::new(), key),
    };
    if r.contains(&R::IgnoreSid) {
        let mut last = 0;
        for m in sid_regex().into_iter().flat_map(|re| re.find_iter(rest)) {
            p.push_str(&path_regexp(&rest[last..m.start()]));
            p.push_str(SID_REGEXP);
            last = m.end();
        }
        p.push_str(&path_regexp(&rest[last..]));
    } else {
        p.push_str(&path_regexp(rest));
    }
    if !is_abs {
        p = format!(".+\\\\+{p}");
    }
    if r.contains(&R::MatchSubdirs) {
        p.push_str("(\\\\+.*)?");
    } else if r.contains(&R::IgnoreTrailingSlash) {
        p.push_str("\\\\*");
    }
    let ci = r.contains(&R::CaseInsensitive);
    Some(bool_q(
        vec![],
        f::REGKEY_FIELDS
            .iter()
            .map(|fl| regexp(fl, &p, ci))
            .collect(),
        vec![],
    ))
}

fn reg_value(data: Option<&str>, data_type: Option<&str>) -> Option<Value> {
    let data = data?;
    let digest = match data_type? {
        "REG_SZ" | "REG_EXPAND_SZ" => Sha256::digest(data.as_bytes()),
        "REG_BINARY" => {
            let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = hex::decode(compact).ok()?;
            Sha256::digest(&bytes)
        }
        _ => return None,
    };
    Some(bool_q(
        vec![multi_match(&hex::encode(digest), f::REGVALUE_HASH_FIELDS)],
        vec![],
        vec![],
    ))
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
    let mut should = Vec::new();
    for fl in f::PROCESS_WIN_FIELDS {
        let is_image = fl.ends_with("mage");
        if is_image {
            // Image fields hold only the executable; they can match only a command line
            // without arguments.
            if arg_res.is_empty() {
                should.push(regexp(fl, &image_re, ci));
            }
            continue;
        }
        let mut must = vec![regexp(fl, &cmd_re, ci)];
        must.extend(arg_res.iter().map(|re| regexp(fl, re, ci)));
        should.push(bool_q(must, vec![], vec![]));
    }
    let mut must = vec![regexp(f::PROCESS_COMMAND_FIELD, &cmd_re, ci)];
    must.extend(
        arg_res
            .iter()
            .map(|re| regexp(f::PROCESS_COMMAND_FIELD, re, ci)),
    );
    should.push(bool_q(must, vec![], vec![]));
    let audit_should: Vec<Value> = f::PROCESS_AUDIT_COMMAND_FIELDS
        .iter()
        .map(|fl| regexp(fl, &image_re, ci))
        .collect();
    let audit_must: Vec<Value> = args
        .iter()
        .filter(|a| !a.is_empty())
        .map(|a| multi_match(a, f::PROCESS_AUDIT_ARG_FIELDS))
        .collect();
    should.push(bool_q(audit_must, audit_should, vec![]));
    Some(bool_q(vec![], should, vec![]))
}

fn account(login: Option<&str>, user_id: Option<&str>) -> Option<Value> {
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
        must.push(multi_match(l, f::USER_FIELDS));
    }
    if let Some(u) = &uid {
        must.push(multi_match(u, f::UID_FIELDS));
    }
    (!must.is_empty()).then(|| bool_q(must, vec![], vec![]))
}

fn traffic(t: &NetworkTrafficObservable, opts: &SearchOptions) -> Option<Value> {
    let mut must = Vec::new();
    let endpoint = |o: &Observable, mac_fields: &[&str], ip_fields: &[&str]| -> Option<Value> {
        match o {
            Observable::MacAddr { value } => Some(bool_q(
                vec![],
                mac_variants(value, opts.lookup_mac_variants)
                    .iter()
                    .map(|v| multi_match(v, mac_fields))
                    .collect(),
                vec![],
            )),
            Observable::Ipv4Addr { value } | Observable::Ipv6Addr { value } => {
                Some(multi_match(value, ip_fields))
            }
            _ => None,
        }
    };
    if let Some(src) = &t.src {
        must.push(endpoint(
            src,
            f::TRAFFIC_SRC_MAC_FIELDS,
            f::TRAFFIC_SRC_IP_FIELDS,
        )?);
    }
    if let Some(p) = t.src_port {
        must.push(multi_match(&p.to_string(), f::TRAFFIC_SRC_PORT_FIELDS));
    }
    if let Some(dst) = &t.dst {
        must.push(endpoint(
            dst,
            f::TRAFFIC_DST_MAC_FIELDS,
            f::TRAFFIC_DST_IP_FIELDS,
        )?);
    }
    if let Some(p) = t.dst_port {
        must.push(multi_match(&p.to_string(), f::TRAFFIC_DST_PORT_FIELDS));
    }
    if !t.protocols.is_empty() {
        must.push(bool_q(
            vec![],
            t.protocols
                .iter()
                .map(|p| multi_match(p, f::TRAFFIC_PROTOCOL_FIELDS))
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
        assert!(q["bool"]["must_not"].is_array());
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
    fn registry_values_need_a_supported_type_and_valid_hex() {
        let v = |data: &str, t: &str| Observable::WindowsRegistryValue {
            name: None,
            data: Some(data.into()),
            data_type: Some(t.into()),
        };
        assert!(build_default(v("zz", "REG_BINARY")).is_none());
        assert!(build_default(v("1", "REG_DWORD")).is_none());
        let q = build_default(v("de ad be ef", "REG_BINARY")).unwrap();
        assert_eq!(
            q["bool"]["must"][0]["multi_match"]["query"],
            "5f78c33274e43fa9de5659265c1d917e25c03722dcb0b8d27db8d5feaa813953"
        );
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
