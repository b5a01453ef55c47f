//! Markdown helpers for notes and descriptions: alert text must never break a table or a code
//! block (the reference pasted values verbatim, so a `|` or a newline in a log line broke its
//! notes).

/// Escapes a value for a Markdown table cell: `|`, backslashes, backticks and emphasis
/// characters are escaped, line breaks become `<br>` (OpenCTI renders it), other control
/// characters are dropped.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("<br>");
                }
            }
            '\n' => out.push_str("<br>"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Cuts `s` to at most `max` characters (on a char boundary), marking the cut with `[…]`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(3);
    let mut out: String = s.chars().take(keep).collect();
    out.push_str("[…]");
    out
}

/// A fenced code block that its content cannot close: the fence is longer than any run of
/// backticks inside.
pub fn code_block(lang: &str, content: &str) -> String {
    let mut longest = 0usize;
    let mut run = 0usize;
    for c in content.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{content}\n{fence}")
}

/// Bounds a note's content to `max` characters: the text is cut at a line boundary and a
/// visible marker says so (a note OpenCTI cannot store loses everything).
pub fn bound_note(content: String, max: usize) -> String {
    if content.chars().count() <= max {
        return content;
    }
    const MARK: &str = "\n\n*(truncated: the note exceeded WAZUH_MAX_NOTE_CHARS)*";
    let budget = max.saturating_sub(MARK.chars().count());
    let cut: String = content.chars().take(budget).collect();
    let cut = match cut.rfind('\n') {
        Some(i) if i > 0 => cut[..i].to_string(),
        _ => cut,
    };
    // A cut inside a code block would leave it open; close any open fence.
    let fences = cut.lines().filter(|l| l.starts_with("```")).count();
    let close = if fences % 2 == 1 {
        let fence_len = cut
            .lines()
            .rfind(|l| l.starts_with("```"))
            .map(|l| l.chars().take_while(|c| *c == '`').count())
            .unwrap_or(3);
        format!("\n{}", "`".repeat(fence_len))
    } else {
        String::new()
    };
    format!("{cut}{close}{MARK}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_tables() {
        let c = cell("a|b\nc`d`\r\n\\e\u{7}");
        assert!(!c.contains('\n'));
        assert_eq!(c, "a\\|b<br>c\\`d\\`<br>\\\\e");
        // Every `|` left is escaped.
        let bad = c.match_indices('|').all(|(i, _)| &c[i - 1..i] == "\\");
        assert!(bad);
    }

    #[test]
    fn code_blocks_outlast_their_content() {
        let b = code_block("json", "x ``` y");
        assert!(b.starts_with("````json\n"));
        assert!(b.ends_with("\n````"));
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdefghijkl", 6), "abc[…]");
        let long = format!("head\n```json\n{}\n```", "x\n".repeat(100));
        let b = bound_note(long, 80);
        assert!(b.chars().count() <= 90);
        assert_eq!(b.lines().filter(|l| l.starts_with("```")).count() % 2, 0);
        assert!(b.contains("truncated"));
    }
}
