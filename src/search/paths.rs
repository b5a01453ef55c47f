//! Text helpers for paths, registry keys and command lines: what is absolute, the base name,
//! backslash runs, registry hives, SIDs and command-line words. Windows paths follow Python's
//! `ntpath` (what migrating users' existing searches were written against).

/// A Windows SID of a domain or local user, as a Lucene regexp: registry keys under
/// `HKEY_USERS\<SID>` are searched for every user when `ignore-sid` is set.
pub const SID_REGEXP: &str =
    "S-1-[0-59]-[0-9]{2}-[0-9]{8,10}-[0-9]{8,10}-[0-9]{8,10}-[1-9][0-9]{3,9}";

/// `ntpath.isabs`: `C:\x`, `C:/x`, `\x`, `/x`, `\\server\share` are absolute.
pub fn is_abs_path(p: &str) -> bool {
    let b = p.as_bytes();
    if b.first().is_some_and(|c| *c == b'/' || *c == b'\\') {
        return true;
    }
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
}

/// `ntpath.basename`: the part after the last `/`, `\` or drive colon.
pub fn basename(p: &str) -> &str {
    let p = match p.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => &p[2..],
        _ => p,
    };
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// Replaces every run of backslashes by exactly `n` backslashes.
pub(crate) fn collapse_backslashes(s: &str, n: usize) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_run = false;
    for c in s.chars() {
        if c == '\\' {
            if !in_run {
                out.extend(std::iter::repeat_n('\\', n));
            }
            in_run = true;
        } else {
            in_run = false;
            out.push(c);
        }
    }
    out
}

/// Registry hives with their aliases (full name first).
pub const HIVES: &[(&str, &str)] = &[
    ("HKEY_LOCAL_MACHINE", "HKLM"),
    ("HKEY_CURRENT_USER", "HKCU"),
    ("HKEY_CLASSES_ROOT", "HKCR"),
    ("HKEY_USERS", "HKU"),
    ("HKEY_CURRENT_CONFIG", "HKCC"),
];

/// The hive a key starts with (case-insensitive) and the length of its prefix.
pub(crate) fn hive_of(key: &str) -> Option<(usize, usize)> {
    let upper = key.to_ascii_uppercase();
    for (i, (full, alias)) in HIVES.iter().enumerate() {
        for name in [full, alias] {
            if upper.starts_with(name)
                && matches!(
                    upper.as_bytes().get(name.len()),
                    None | Some(b'\\') | Some(b'/')
                )
            {
                return Some((i, name.len()));
            }
        }
    }
    None
}

/// The SID pattern as a Rust regex (`None` only if the constant failed to compile, which the
/// unit tests rule out; then SIDs are searched literally).
pub(crate) fn sid_regex() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(SID_REGEXP).ok())
        .as_ref()
}

/// Splits a command line into its words: quoted strings or runs of non-space.
pub(crate) fn tokenize(cmd: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = cmd.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if b[i] == b'"' || b[i] == b'\'' {
            let q = b[i];
            if let Some(end) = b[i + 1..].iter().position(|c| *c == q) {
                i = i + 1 + end + 1;
                out.push(&cmd[start..i]);
                continue;
            }
        }
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        out.push(&cmd[start..i]);
    }
    out
}

pub(crate) fn strip_quotes(s: &str) -> &str {
    let s = s.strip_prefix(['"', '\'']).unwrap_or(s);
    s.strip_suffix(['"', '\'']).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_ntpath() {
        assert!(is_abs_path("C:\\x") && is_abs_path("/x") && is_abs_path("\\\\srv\\share"));
        assert!(!is_abs_path("C:x") && !is_abs_path("(x") && !is_abs_path("x/y"));
        assert_eq!(basename("C:\\a\\b.exe"), "b.exe");
        assert_eq!(basename("C:b.exe"), "b.exe");
        assert_eq!(basename("/a/b/"), "");
    }

    #[test]
    fn sid_pattern_compiles() {
        assert!(sid_regex().is_some());
    }

    #[test]
    fn command_lines_split_into_quoted_words() {
        assert_eq!(
            tokenize("\"C:\\a b\\x.exe\" -k  'q r' s"),
            vec!["\"C:\\a b\\x.exe\"", "-k", "'q r'", "s"]
        );
        assert_eq!(strip_quotes("'q r'"), "q r");
        assert_eq!(collapse_backslashes("a\\\\b\\c", 2), "a\\\\b\\\\c");
        assert_eq!(hive_of("hkcu\\x"), Some((1, 4)));
        assert_eq!(hive_of("HKCUX"), None);
    }
}
