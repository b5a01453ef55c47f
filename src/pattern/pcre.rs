//! PCRE (the regular-expression dialect of STIX `MATCHES`) → Lucene regular expression.
//!
//! Lucene regexps always match the whole value, PCRE ones match anywhere unless anchored: each
//! top-level alternative gets `.*` on a side where it has no `^`/`$`. Constructs Lucene has no
//! equivalent for (lookaround, backreferences, lazy/possessive quantifiers, word boundaries,
//! `\A`/`\z`, Unicode properties, inline flags other than a leading `(?i)`) are refused rather
//! than approximated. Characters that are operators only in Lucene (`" < > # @ & ~`) are escaped.

use super::budget::MAX_REGEX_LEN;
use super::PatternError;
use crate::search::escape::regexp_literal;

/// Largest count in a `{n,m}` repetition, and largest product of the counts of repetitions
/// nested in one another: the indexer copies the repeated part that many times into the
/// automaton it builds on every shard.
pub const MAX_REPEAT: u64 = 1000;
/// Deepest nesting of quantified groups (`((a+)+)+` is 3).
pub const MAX_REPEAT_NESTING: u32 = 3;

/// A translated regular expression.
#[derive(Debug, Clone, PartialEq)]
pub struct LuceneRegex {
    pub regex: String,
    pub case_insensitive: bool,
    /// The expression uses `.`, which in Lucene also matches line breaks (PCRE's does not).
    pub uses_dot: bool,
}

fn refuse(re: &str, what: &str) -> PatternError {
    let shown: String = re.chars().take(200).collect();
    PatternError::unsupported(format!(
        "MATCHES '{shown}': {what} cannot be expressed as an OpenSearch (Lucene) regular expression"
    ))
}

/// Translates a PCRE regular expression.
pub fn translate(re: &str) -> Result<LuceneRegex, PatternError> {
    // The translation can shorten a regexp (anchors, `(?:`) but not to half: refuse early,
    // before the work, what cannot fit; the exact check is on the translated text.
    if re.len() > 2 * MAX_REGEX_LEN {
        return Err(too_long(re.chars().count()));
    }
    let mut body = re;
    let mut case_insensitive = false;
    if let Some(rest) = body.strip_prefix("(?i)") {
        case_insensitive = true;
        body = rest;
    }
    let alternatives = split_top_level(body, re)?;
    let mut out = Vec::with_capacity(alternatives.len());
    let mut uses_dot = false;
    for alt in alternatives {
        let (start_anchor, a) = match alt.strip_prefix('^') {
            Some(r) => (true, r),
            None => (false, alt),
        };
        let (end_anchor, a) = if a.ends_with('$') && !ends_with_escape(&a[..a.len() - 1]) {
            (true, &a[..a.len() - 1])
        } else {
            (false, a)
        };
        let (t, dot) = translate_body(a, re)?;
        uses_dot |= dot;
        out.push(format!(
            "{}{}{}",
            if start_anchor { "" } else { ".*" },
            t,
            if end_anchor { "" } else { ".*" }
        ));
    }
    let regex = if out.len() == 1 {
        out.pop().unwrap_or_default()
    } else {
        out.iter()
            .map(|a| format!("({a})"))
            .collect::<Vec<_>>()
            .join("|")
    };
    if regex.chars().count() > MAX_REGEX_LEN {
        return Err(too_long(regex.chars().count()));
    }
    Ok(LuceneRegex {
        regex,
        case_insensitive,
        uses_dot,
    })
}

fn too_long(n: usize) -> PatternError {
    PatternError::TooLarge(format!(
        "MATCHES: a regular expression of {n} characters is longer than the indexer's \
         index.max_regex_length of {MAX_REGEX_LEN}"
    ))
}

/// Bounds the repetitions of one alternative: per open group, the largest (count product,
/// nesting) of the quantifiers inside it, so that a quantifier on the group multiplies them.
struct Repeats {
    frames: Vec<(u64, u32)>,
    /// The group that just closed, if the next token may quantify it.
    closed: Option<(u64, u32)>,
}

impl Repeats {
    fn new() -> Self {
        Repeats {
            frames: vec![(1, 0)],
            closed: None,
        }
    }
    fn merge(&mut self, r: (u64, u32)) {
        if let Some(top) = self.frames.last_mut() {
            *top = (top.0.max(r.0), top.1.max(r.1));
        }
    }
    fn open(&mut self) {
        self.frames.push((1, 0));
        self.closed = None;
    }
    fn close(&mut self) {
        let inner = self.frames.pop().unwrap_or((1, 0));
        self.merge(inner);
        self.closed = Some(inner);
    }
    fn atom(&mut self) {
        self.closed = None;
    }
    /// A quantifier whose largest count is `count` (1 for `*`, `+`, `?`).
    fn quantify(&mut self, count: u64, q: &str, whole: &str) -> Result<(), PatternError> {
        let inner = self.closed.take().unwrap_or((1, 0));
        let r = (inner.0.saturating_mul(count.max(1)), inner.1 + 1);
        let shown: String = whole.chars().take(200).collect();
        if count > MAX_REPEAT || r.0 > MAX_REPEAT {
            return Err(PatternError::TooLarge(format!(
                "MATCHES '{shown}': the repetition {q} repeats more than {MAX_REPEAT} times \
                 (counts of nested repetitions multiply)"
            )));
        }
        if r.1 > MAX_REPEAT_NESTING {
            return Err(PatternError::TooLarge(format!(
                "MATCHES '{shown}': repetitions nested more than {MAX_REPEAT_NESTING} deep"
            )));
        }
        self.merge(r);
        Ok(())
    }
}

/// The largest count of a quantifier's text (`{2,5}` → 5, `{3,}` → 3, `*` → 1).
fn quantifier_count(q: &str) -> u64 {
    q.trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .filter_map(|n| n.parse::<u64>().ok())
        .max()
        .unwrap_or(1)
}

/// True when `s` ends with an odd number of backslashes (so the next character is escaped).
fn ends_with_escape(s: &str) -> bool {
    s.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

/// Splits on `|` outside groups, classes and escapes.
fn split_top_level<'a>(s: &'a str, whole: &str) -> Result<Vec<&'a str>, PatternError> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut in_class = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => {
                depth -= 1;
                if depth < 0 {
                    return Err(PatternError::invalid(format!(
                        "MATCHES '{whole}': unbalanced ')'"
                    )));
                }
            }
            '|' if !in_class && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || in_class || escaped {
        return Err(PatternError::invalid(format!(
            "MATCHES '{whole}': unbalanced group, class or trailing backslash"
        )));
    }
    parts.push(&s[start..]);
    Ok(parts)
}

fn class_escape(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => "0-9",
        'w' => "a-zA-Z0-9_",
        's' => " \t\n\r\u{b}\u{c}",
        _ => return None,
    })
}

fn control_escape(c: char) -> Option<char> {
    Some(match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'f' => '\u{c}',
        'v' => '\u{b}',
        'e' => '\u{1b}',
        'a' => '\u{7}',
        '0' => '\0',
        _ => return None,
    })
}

/// Reads `\xHH` or `\x{H…}` after the `x`; returns the character and the count of chars consumed.
fn hex_escape(chars: &[char], i: usize, whole: &str) -> Result<(char, usize), PatternError> {
    let bad = || PatternError::invalid(format!("MATCHES '{whole}': bad \\x escape"));
    if chars.get(i) == Some(&'{') {
        let end = chars[i..].iter().position(|&c| c == '}').ok_or_else(bad)?;
        let hex: String = chars[i + 1..i + end].iter().collect();
        let n = u32::from_str_radix(&hex, 16).map_err(|_| bad())?;
        Ok((char::from_u32(n).ok_or_else(bad)?, end + 1))
    } else {
        let hex: String = chars.iter().skip(i).take(2).collect();
        if hex.len() != 2 {
            return Err(bad());
        }
        let n = u32::from_str_radix(&hex, 16).map_err(|_| bad())?;
        Ok((char::from_u32(n).ok_or_else(bad)?, 2))
    }
}

/// What a backslash escape stands for (shared by the main expression and character classes).
enum Escape {
    /// `\d`, `\w`, `\s`: the members of a class, without brackets.
    Class(&'static str),
    /// `\D`, `\W`, `\S`.
    NegatedClass(&'static str),
    /// A single character (control escapes, `\x..`, escaped punctuation).
    Char(char),
}

/// Reads the escape whose backslash is at `chars[i]`; returns it and the characters consumed.
fn read_escape(chars: &[char], i: usize, whole: &str) -> Result<(Escape, usize), PatternError> {
    let n = *chars
        .get(i + 1)
        .ok_or_else(|| refuse(whole, "a trailing backslash"))?;
    if let Some(cls) = class_escape(n) {
        return Ok((Escape::Class(cls), 2));
    }
    if let Some(cls) = class_escape(n.to_ascii_lowercase()) {
        return Ok((Escape::NegatedClass(cls), 2));
    }
    if let Some(ch) = control_escape(n) {
        return Ok((Escape::Char(ch), 2));
    }
    if n == 'x' {
        let (ch, used) = hex_escape(chars, i + 2, whole)?;
        return Ok((Escape::Char(ch), 2 + used));
    }
    let what = match n {
        'b' | 'B' => "a word boundary (\\b, \\B)".to_string(),
        'A' | 'z' | 'Z' | 'G' => "an anchor escape (\\A, \\z, \\Z, \\G; use ^ and $)".to_string(),
        'k' | 'g' => "a backreference".to_string(),
        _ if n.is_ascii_digit() => "a backreference".to_string(),
        _ if n.is_ascii_alphanumeric() => format!("the escape \\{n}"),
        _ => return Ok((Escape::Char(n), 2)),
    };
    Err(refuse(whole, &what))
}

/// Translates one alternative (anchors already removed); also says whether it uses `.`.
fn translate_body(s: &str, whole: &str) -> Result<(String, bool), PatternError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() * 2);
    let mut i = 0;
    // Whether the previous token can take a quantifier.
    let mut quantifiable = false;
    let mut uses_dot = false;
    let mut reps = Repeats::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let (e, used) = read_escape(&chars, i, whole)?;
                i += used;
                match e {
                    Escape::Class(cls) => out.push_str(&format!("[{cls}]")),
                    Escape::NegatedClass(cls) => out.push_str(&format!("[^{cls}]")),
                    Escape::Char(ch) => out.push_str(&regexp_literal(&ch.to_string())),
                }
                quantifiable = true;
                reps.atom();
            }
            '[' => {
                let (cls, used) = translate_class(&chars[i..], whole)?;
                out.push_str(&cls);
                i += used;
                quantifiable = true;
                reps.atom();
            }
            '(' => {
                i = open_group(&chars, i + 1, whole)?;
                out.push('(');
                reps.open();
                quantifiable = false;
            }
            ')' => {
                out.push(')');
                i += 1;
                reps.close();
                quantifiable = true;
            }
            '|' => {
                out.push('|');
                i += 1;
                reps.atom();
                quantifiable = false;
            }
            '.' => {
                out.push('.');
                uses_dot = true;
                i += 1;
                quantifiable = true;
                reps.atom();
            }
            '*' | '+' | '?' | '{' => match quantifier(&chars, i) {
                None => {
                    // A brace that does not start a quantifier is literal, as in PCRE.
                    out.push_str("\\{");
                    i += 1;
                    quantifiable = true;
                    reps.atom();
                }
                Some((q, used)) => {
                    if !quantifiable {
                        return Err(PatternError::invalid(format!(
                            "MATCHES '{whole}': quantifier {q} has nothing to repeat"
                        )));
                    }
                    i += used;
                    plain_quantifier(chars.get(i), whole)?;
                    reps.quantify(quantifier_count(&q), &q, whole)?;
                    out.push_str(&q);
                    quantifiable = false;
                }
            },
            '^' | '$' => {
                return Err(refuse(
                    whole,
                    "an anchor (^ or $) that is not at the start or end of an alternative",
                ))
            }
            other => {
                out.push_str(&regexp_literal(&other.to_string()));
                i += 1;
                quantifiable = true;
                reps.atom();
            }
        }
    }
    Ok((out, uses_dot))
}

/// Reads what follows a `(` at `chars[i]`: a plain group, `(?:`, or a named group (its name
/// dropped); returns the index after the group opener. Lookaround and inline options are
/// refused.
fn open_group(chars: &[char], mut i: usize, whole: &str) -> Result<usize, PatternError> {
    if chars.get(i) != Some(&'?') {
        return Ok(i);
    }
    match (chars.get(i + 1), chars.get(i + 2)) {
        (Some(':'), _) => i += 2,
        (Some('='), _) | (Some('!'), _) => return Err(refuse(whole, "a lookahead")),
        (Some('<'), Some('=')) | (Some('<'), Some('!')) => {
            return Err(refuse(whole, "a lookbehind"))
        }
        (Some('<'), _) | (Some('P'), Some('<')) | (Some('\''), _) => {
            let close = if chars.get(i + 1) == Some(&'\'') {
                '\''
            } else {
                '>'
            };
            let skip = if chars.get(i + 1) == Some(&'P') { 3 } else { 2 };
            let end = chars
                .get(i + skip..)
                .and_then(|rest| rest.iter().position(|&c| c == close))
                .ok_or_else(|| refuse(whole, "an unterminated group name"))?;
            i += skip + end + 1;
        }
        _ => {
            return Err(refuse(
                whole,
                "an inline option or special group (only a leading (?i) is supported)",
            ))
        }
    }
    Ok(i)
}

/// Reads the quantifier at `chars[i]` (`*`, `+`, `?`, `{n,m}`): its text and length, or `None`
/// for a brace that is not a quantifier.
fn quantifier(chars: &[char], i: usize) -> Option<(String, usize)> {
    let (q, used) = if chars[i] == '{' {
        parse_braces(&chars[i..])?
    } else {
        (chars[i].to_string(), 1)
    };
    Some((q, used))
}

/// Refuses a lazy (`*?`) or possessive (`*+`) form of the quantifier just read.
fn plain_quantifier(next: Option<&char>, whole: &str) -> Result<(), PatternError> {
    match next {
        Some('?') => Err(refuse(whole, "a lazy quantifier")),
        Some('+') => Err(refuse(whole, "a possessive quantifier")),
        _ => Ok(()),
    }
}

/// `{n}`, `{n,}`, `{n,m}` → the quantifier text and its length; `None` if not a quantifier.
fn parse_braces(chars: &[char]) -> Option<(String, usize)> {
    let end = chars.iter().position(|&c| c == '}')?;
    let inner: String = chars[1..end].iter().collect();
    let (a, b) = match inner.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (inner.as_str(), None),
    };
    let ok = |s: &str| !s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit());
    if !ok(a) || b.is_some_and(|b| !b.is_empty() && !ok(b)) {
        return None;
    }
    Some((format!("{{{inner}}}"), end + 1))
}

/// Translates a character class starting at `chars[0] == '['`.
fn translate_class(chars: &[char], whole: &str) -> Result<(String, usize), PatternError> {
    let mut out = String::from("[");
    let mut i = 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let c = *chars
            .get(i)
            .ok_or_else(|| PatternError::invalid(format!("MATCHES '{whole}': unterminated [")))?;
        if c == ']' && !first {
            out.push(']');
            return Ok((out, i + 1));
        }
        first = false;
        match c {
            '\\' => {
                let (e, used) = read_escape(chars, i, whole)?;
                i += used;
                match e {
                    Escape::Class(cls) => out.push_str(cls),
                    Escape::NegatedClass(_) => {
                        return Err(refuse(
                            whole,
                            "a negated class escape (\\D, \\W, \\S) inside [...]",
                        ))
                    }
                    Escape::Char(ch) => push_class_char(&mut out, ch),
                }
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                return Err(refuse(whole, "a POSIX class [:name:]"))
            }
            '-' => {
                // A range dash between two members; a leading/trailing dash is literal.
                let next_is_end = chars.get(i + 1) == Some(&']');
                if out.ends_with('[') || out.ends_with('^') || next_is_end {
                    out.push_str("\\-");
                } else {
                    out.push('-');
                }
                i += 1;
            }
            other => {
                push_class_char(&mut out, other);
                i += 1;
            }
        }
    }
}

fn push_class_char(out: &mut String, c: char) {
    if c.is_alphanumeric() || c == ' ' || c == '_' {
        out.push(c);
    } else {
        out.push('\\');
        out.push(c);
    }
}

/// Makes a Lucene regexp case-insensitive by spelling out both cases of each ASCII letter
/// (for `query_string` regexps, which have no `case_insensitive` flag).
pub fn fold_case(re: &str) -> String {
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len() * 3);
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            if let Some(n) = chars.get(i + 1) {
                out.push(*n);
            }
            i += 2;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
                out.push(c);
            } else if c.is_ascii_alphabetic()
                && chars.get(i + 1) == Some(&'-')
                && chars.get(i + 2).is_some_and(|e| e.is_ascii_alphabetic())
            {
                let e = chars[i + 2];
                out.push_str(&format!("{c}-{e}"));
                let (lo, hi) = (c.to_ascii_lowercase(), e.to_ascii_lowercase());
                let (uo, ue) = (c.to_ascii_uppercase(), e.to_ascii_uppercase());
                out.push_str(&format!("{lo}-{hi}{uo}-{ue}"));
                i += 3;
                continue;
            } else if c.is_ascii_alphabetic() {
                out.push(c.to_ascii_lowercase());
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
        } else if c == '[' {
            in_class = true;
            out.push(c);
            if chars.get(i + 1) == Some(&'^') {
                out.push('^');
                i += 1;
            }
        } else if c.is_ascii_alphabetic() {
            out.push_str(&format!(
                "[{}{}]",
                c.to_ascii_lowercase(),
                c.to_ascii_uppercase()
            ));
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(re: &str) -> String {
        translate(re).unwrap().regex
    }

    #[test]
    fn anchoring() {
        assert_eq!(t("abc"), ".*abc.*");
        assert_eq!(t("^abc$"), "abc");
        assert_eq!(t("^abc"), "abc.*");
        assert_eq!(t("abc$"), ".*abc");
        assert_eq!(t("^a|b$"), "(a.*)|(.*b)");
        assert_eq!(t(r"^a\$"), "a$.*");
    }

    #[test]
    fn escapes_and_classes() {
        assert_eq!(t(r"^\d+\.\w$"), r"[0-9]+\.[a-zA-Z0-9_]");
        assert_eq!(t(r"^\s$"), "[ \t\n\r\u{b}\u{c}]");
        assert_eq!(t(r"^\D$"), "[^0-9]");
        assert_eq!(t(r"^[\d.a-f-]{2,5}$"), r"[0-9\.a-f\-]{2,5}");
        assert_eq!(t(r#"^a"b<c>$"#), r#"a\"b\<c\>"#);
        assert_eq!(t(r"^(?:ab)+(?P<x>c)$"), "(ab)+(c)");
        assert_eq!(t(r"^\x41\x{42}$"), "AB");
        assert_eq!(t(r"^a{x$"), r"a\{x");
        assert!(translate("(?i)^abc$").unwrap().case_insensitive);
        assert!(!translate(r"a\.b").unwrap().uses_dot);
        assert!(translate(r"a.b").unwrap().uses_dot);
    }

    #[test]
    fn refusals() {
        for re in [
            r"foo(?=bar)",
            r"(?<!a)b",
            r"(a)\1",
            r"a+?",
            r"a*+",
            r"\bword\b",
            r"\Aabc",
            r"a^b",
            r"\p{L}",
            r"(?m)abc",
            r"[[:alpha:]]",
            r"[\D]",
        ] {
            let e = translate(re).unwrap_err();
            assert!(
                matches!(e, PatternError::Unsupported(ref m) if m.contains("cannot be expressed")),
                "{re}: {e}"
            );
        }
        assert!(matches!(translate("(ab"), Err(PatternError::Invalid(_))));
        assert!(matches!(translate("*a"), Err(PatternError::Invalid(_))));
    }

    #[test]
    fn repetitions_are_bounded() {
        for (re, ok) in [
            (r"^[0-9a-f]{64}$", true),
            (r"^([0-9]{1,3}\.){3}[0-9]{1,3}$", true),
            (r"^((a+)+)+$", true),
            (r"^(((a+)+)+)+$", false),
            (r"^(a{1,100}){1,10}$", true),
            (r"^(a{1,100}){1,11}$", false),
            (r"^a{1001}$", false),
            (r"^(a{1000})(b{1000})$", true),
            (r"^((a{2}){2}b{999})$", true),
        ] {
            match translate(re) {
                Ok(_) => assert!(ok, "{re} accepted"),
                Err(PatternError::TooLarge(m)) => {
                    assert!(!ok, "{re}: {m}");
                    assert!(m.contains("1000") || m.contains("nested"), "{m}");
                }
                Err(e) => panic!("{re}: {e}"),
            }
        }
    }

    #[test]
    fn regexps_longer_than_the_indexer_takes_are_refused() {
        assert!(translate(&format!("^{}$", "a".repeat(MAX_REGEX_LEN - 2))).is_ok());
        // Unanchored: the translation adds `.*` on both sides and passes the limit.
        match translate(&"a".repeat(MAX_REGEX_LEN - 2)) {
            Err(PatternError::TooLarge(m)) => assert!(m.contains("max_regex_length"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(translate(&"a".repeat(60_000)).is_err());
    }

    #[test]
    fn case_folding() {
        assert_eq!(fold_case(r"ab\.[a-c9]"), r"[aA][bB]\.[a-ca-cA-C9]");
    }
}
