//! Property tests: whatever string an observable holds (control characters, Lucene and regex
//! metacharacters, Unicode, long values), the regexp/wildcard parts of its query match that
//! exact value and not a look-alike. The Lucene regexps we produce are translated to the
//! `regex` crate's syntax; the translator refuses any unescaped Lucene operator we never mean
//! to emit (`# @ & ~ < > "`), so an escaping gap fails the test.

use connector_wazuh::config::options::*;
use connector_wazuh::entity::{FileObservable, Observable};
use connector_wazuh::search::query;
use proptest::prelude::*;

use crate::testkit::lucene::*;

/// Arbitrary text: any Unicode scalar (incl. control characters) with metacharacters and
/// backslashes made frequent.
fn text(max: usize) -> impl Strategy<Value = String> {
    let meta = prop::sample::select(vec![
        '.', '?', '+', '*', '|', '{', '}', '[', ']', '(', ')', '"', '\\', '#', '@', '&', '<', '>',
        '~', '^', '$', '-', '/', ':', '\n', '\t', '\0', 'é', '😀', 'a', 'B', ' ',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), meta], 1..max)
        .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn file_names_match_exactly(name in text(80)) {
        prop_assert_eq!(exact_match(Kind::FileName, &name), Ok(()));
    }

    #[test]
    fn file_names_match_case_insensitively_in_any_directory(name in "[a-zA-Z0-9 ._()\\[\\]{}+$^-]{1,40}") {
        let obs = Observable::File(FileObservable { name: Some(name.clone()), ..Default::default() });
        let q = query::build(&obs, &SearchOptions::default()).unwrap().unwrap();
        let re = single_regexp(&q, "syscheck.path").unwrap();
        prop_assert!(re.is_match(&name.to_uppercase()));
        prop_assert!(re.is_match(&format!("C:\\\\Users\\\\x\\\\{}", name)), "property violated");
        prop_assert!(re.is_match(&format!("/tmp/{}", name)), "property violated");
        prop_assert!(!re.is_match(&format!("/tmp/{}.bak", name)), "property violated");
    }

    #[test]
    fn directories_match_exactly_and_their_contents(path in text(60)) {
        prop_assert_eq!(exact_match(Kind::Directory, &path), Ok(()));
    }

    #[test]
    fn windows_directories_match_with_either_separator(rest in text(40)) {
        let path = format!("C:\\{rest}");
        let obs = Observable::Directory { path: path.clone() };
        if let Some(q) = query::build(&obs, &case_sensitive_files()).unwrap() {
            let re = single_regexp(&q, "data.home").unwrap();
            let trimmed = path.trim_end_matches(['/', '\\']);
            prop_assert!(re.is_match(trimmed), "misses {:?}", trimmed);
            prop_assert!(re.is_match(&trimmed.replace('\\', "/")), "misses the / spelling");
            prop_assert!(re.is_match(&format!("{trimmed}\\\\sub")), "misses its contents");
            prop_assert!(!re.is_match(&format!("{trimmed}x")), "matches a longer name");
        }
    }

    #[test]
    fn registry_keys_match_exactly(rest in text(60)) {
        prop_assert_eq!(exact_match(Kind::RegistryKey, &rest), Ok(()));
    }

    #[test]
    fn urls_match_exactly(url in text(80)) {
        prop_assert_eq!(exact_match(Kind::Url, &url), Ok(()));
    }

    #[test]
    fn process_arguments_match_whole_arguments(arg in "[^\\s\"']{1,30}") {
        let cmd = format!("tool.exe {arg}");
        let obs = Observable::Process { command_line: Some(cmd.clone()), pid: None };
        let q = query::build(&obs, &case_sensitive_files()).unwrap().unwrap();
        let mut found = Vec::new();
        regexps(&q, "data.win.eventdata.commandLine", &mut found);
        prop_assert_eq!(found.len(), 2);
        let exe = lucene_to_regex(&found[0].0, false).unwrap();
        let a = lucene_to_regex(&found[1].0, false).unwrap();
        prop_assert!(exe.is_match(&cmd) && a.is_match(&cmd));
        prop_assert!(a.is_match(&format!("C:\\tool.exe -x {}\t-y", arg)), "property violated");
        prop_assert!(!a.is_match(&format!("tool.exe {}x", arg)), "{a} matches a longer argument");
        prop_assert!(!a.is_match(&format!("tool.exe x{}", arg)), "{a} matches inside a word");
        prop_assert!(!exe.is_match(&format!("xtool.exe {}", arg)), "property violated");
    }

    #[test]
    fn domains_in_command_lines_are_wildcard_escaped(domain in text(40)) {
        let o = SearchOptions { lookup_hostnames_in_cmd_line: true, ..SearchOptions::default() };
        let obs = Observable::DomainName { value: domain.clone() };
        let q = query::build(&obs, &o).unwrap().unwrap();
        let glob = q["bool"]["should"][1]["wildcard"]["data.win.eventdata.commandLine"]["value"]
            .as_str()
            .unwrap()
            .to_string();
        let re = wildcard_to_regex(&glob);
        prop_assert!(re.is_match(&format!("curl https://{}/x", domain)), "property violated");
        prop_assert!(!re.is_match(&change_last(&domain)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// No observable value makes query building panic, and every regexp it emits is valid.
    #[test]
    fn no_value_panics_or_emits_an_invalid_regexp(v in text(60), w in text(20)) {
        let obs = [
            Observable::Ipv4Addr { value: v.clone() },
            Observable::DomainName { value: v.clone() },
            Observable::Url { value: v.clone() },
            Observable::MacAddr { value: v.clone() },
            Observable::Directory { path: v.clone() },
            Observable::WindowsRegistryKey { key: v.clone() },
            Observable::WindowsRegistryValue { name: None, data: Some(v.clone()), data_type: Some("REG_BINARY".into()) },
            Observable::WindowsRegistryValue { name: Some(w.clone()), data: Some(v.clone()), data_type: None },
            Observable::Process { command_line: Some(format!("{v} {w}")), pid: None },
            Observable::UserAccount { account_login: Some(format!("{v}(uid={w})")), user_id: None, display_name: None },
            Observable::File(FileObservable {
                name: Some(v.clone()), additional_names: vec![w.clone()],
                parent_directory: Some(w.clone()), ..Default::default()
            }),
        ];
        let everything = SearchOptions {
            lookup_url_without_host: true,
            lookup_hostnames_in_cmd_line: true,
            lookup_agent_name: true,
            ..SearchOptions::default()
        };
        for o in &obs {
            for opts in [&everything, &case_sensitive_files()] {
                if let Ok(Some(q)) = query::build(o, opts) {
                    let mut found = Vec::new();
                    for field in ["data.win.eventdata.commandLine", "syscheck.path", "data.url", "data.home", "data.command", "data.win.eventdata.details", "data.win.eventdata.targetObject"] {
                        regexps(&q, field, &mut found);
                    }
                    for (re, ci) in found {
                        prop_assert!(lucene_to_regex(&re, ci).is_ok(), "invalid regexp {}", re);
                    }
                }
            }
        }
    }
}

#[test]
fn translator_rejects_unescaped_operators() {
    assert!(lucene_to_regex("a#b", false).is_err());
    assert!(lucene_to_regex("a\\#b", false).is_ok());
}

#[test]
fn huge_values_stay_exact() {
    let name: String = "a.b*c\\(d)[e]{f}|g?h+i#j@k&l~m<n>o\"p\u{0}q😀".repeat(300);
    let obs = Observable::File(FileObservable {
        name: Some(name.clone()),
        ..Default::default()
    });
    let q = query::build(&obs, &case_sensitive_files())
        .unwrap()
        .unwrap();
    let re = single_regexp(&q, "data.file").unwrap();
    assert!(re.is_match(&name));
    assert!(!re.is_match(&change_last(&name)));
}
