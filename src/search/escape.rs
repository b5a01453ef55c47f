//! Escaping observable values for OpenSearch term-level query syntaxes, so that no value can
//! change a query's meaning.
//!
//! * [`regexp_literal`]: Lucene regular-expression syntax (`regexp` query). Lucene reserves
//!   `. ? + * | { } [ ] ( ) " \` and, with the default `ALL` flags, also `# @ & < > ~`; every one
//!   of them is escaped with `\`, so the result matches exactly the input string.
//! * [`wildcard_literal`]: `wildcard` query syntax, where only `*`, `?` and `\` are special.
//!
//! Both functions keep every other character (including control characters and non-ASCII text)
//! as it is: the query syntaxes treat them literally.

/// Characters that are operators in Lucene regular expressions (with all optional syntax on).
const REGEXP_RESERVED: &[char] = &[
    '.', '?', '+', '*', '|', '{', '}', '[', ']', '(', ')', '"', '\\', '#', '@', '&', '<', '>', '~',
];

/// Escapes `s` so that, used as a Lucene regexp, it matches exactly `s`.
///
/// ```
/// use connector_wazuh::search::escape::regexp_literal;
/// assert_eq!(regexp_literal("a.b*c"), r"a\.b\*c");
/// assert_eq!(regexp_literal(r"C:\Temp"), r"C:\\Temp");
/// ```
pub fn regexp_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for c in s.chars() {
        if REGEXP_RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes `s` so that, used as a `wildcard` pattern, it matches exactly `s`.
///
/// ```
/// use connector_wazuh::search::escape::wildcard_literal;
/// assert_eq!(wildcard_literal("a*b?c"), r"a\*b\?c");
/// ```
pub fn wildcard_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes a file-system or registry path for a Lucene regexp in which every run of backslashes
/// (one or more) matches any number (one or more) of backslashes.
///
/// Why: Wazuh stores Windows paths with single backslashes in some decoders (syscheck) and with
/// doubled ones in others (eventchannel JSON), and users paste either form. Unlike the
/// reference's "escape, then collapse runs" approach, the run detection happens on the raw
/// input, so an escaped metacharacter after a backslash (`\.`) can never lose its escape.
///
/// ```
/// use connector_wazuh::search::escape::path_regexp;
/// assert_eq!(path_regexp(r"C:\Temp\\a.b"), r"C:\\+Temp\\+a\.b");
/// ```
pub fn path_regexp(s: &str) -> String {
    separator_runs(s, |c| c == '\\', "\\\\+")
}

/// `s` escaped for a Lucene regexp, each run of separator characters replaced by `run`.
fn separator_runs(s: &str, is_sep: fn(char) -> bool, run: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    let mut in_run = false;
    for c in s.chars() {
        if is_sep(c) {
            if !in_run {
                out.push_str(run);
                in_run = true;
            }
            continue;
        }
        in_run = false;
        if REGEXP_RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes a Windows path (`C:\…`, `c:/…`, `\\server\share`) for a Lucene regexp in which
/// every run of `/` or `\` matches any run of either: Windows takes both as the separator,
/// and Wazuh shows paths as the agent wrote them (`c:\program files (x86)\…` in FIM, doubled
/// backslashes in eventchannel), while users paste them in either form. Other paths keep
/// [`path_regexp`].
///
/// ```
/// use connector_wazuh::search::escape::windows_path_regexp;
/// assert_eq!(windows_path_regexp("c:/a\\\\b.c"), r"c:[/\\]+a[/\\]+b\.c");
/// assert_eq!(windows_path_regexp("/a/b"), "/a/b");
/// ```
pub fn windows_path_regexp(s: &str) -> String {
    let b = s.as_bytes();
    let windows = (b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && matches!(b[2], b'/' | b'\\'))
        || s.starts_with("\\\\");
    if windows {
        separator_runs(s, |c| c == '\\' || c == '/', "[/\\\\]+")
    } else {
        path_regexp(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reserved_regexp_char_is_escaped() {
        for c in REGEXP_RESERVED {
            let s = c.to_string();
            assert_eq!(regexp_literal(&s), format!("\\{c}"));
        }
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(
            regexp_literal("evil-domain_01.example").len(),
            "evil-domain_01.example".len() + 1
        );
        assert_eq!(
            regexp_literal("abc-_/:;,=%$!'`^ é 😀"),
            "abc-_/:;,=%$!'`^ é 😀"
        );
        assert_eq!(wildcard_literal("abc.def[0]"), "abc.def[0]");
    }
}
