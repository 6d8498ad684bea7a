//! Making text from a cloud inert before it reaches a terminal or a desktop notification.
//!
//! Machine names, titles, error messages and other strings come from providers (or from whoever
//! controls a provider account). Printed raw, an ANSI/OSC escape can retitle or rewrite the
//! user's terminal, a newline can forge an extra table row, BEL rings, and a bidi override
//! (U+202E…) makes `gpj.exe` read as `exe.jpg`. [`inert`] is the one sanitizer the CLI tables
//! and the app's notifications use.

use std::borrow::Cow;

/// What replaces a character that could act on the terminal or reorder text.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Unicode's bidirectional formatting characters (embeddings, overrides, isolates and marks)
/// and other invisible format characters that reorder or hide text.
fn is_bidi_or_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'                // ARABIC LETTER MARK
        | '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{2028}' | '\u{2029}' // line and paragraph separators
        | '\u{202A}'..='\u{202E}' // LRE, RLE, PDF, LRO, RLO
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // LRI, RLI, FSI, PDI
        | '\u{FEFF}'              // zero-width no-break space (BOM)
    )
}

/// `s` with every control character (C0, DEL, C1: ESC, BEL, CSI…) and every bidi or invisible
/// format character replaced: line breaks and tabs by a space (the text stays readable on one
/// line), everything else by U+FFFD (visible, so nothing is silently hidden). Borrowed when
/// there was nothing to replace.
pub fn inert(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_replacing) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' => ' ',
                c if needs_replacing(c) => REPLACEMENT,
                c => c,
            })
            .collect(),
    )
}

fn needs_replacing(c: char) -> bool {
    c.is_control() || is_bidi_or_invisible_format(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_bells_newlines_and_bidi_overrides_become_inert() {
        let name = "web\u{1b}]0;pwned\u{7}-1\u{202e}exe.jpg";
        let out = inert(name);
        assert!(!out.chars().any(|c| c.is_control() || is_bidi_or_invisible_format(c)), "{out:?}");
        assert_eq!(out, "web\u{FFFD}]0;pwned\u{FFFD}-1\u{FFFD}exe.jpg");
        assert_eq!(inert("a\nb\r\nc\td"), "a b  c d", "one line, still readable");
        assert_eq!(inert("\u{1b}[2J\u{9b}31m\u{7f}"), "\u{FFFD}[2J\u{FFFD}31m\u{FFFD}", "CSI in 7 and 8 bit, DEL");
        assert_eq!(inert("\u{2066}x\u{2069}\u{200f}\u{feff}"), "\u{FFFD}x\u{FFFD}\u{FFFD}\u{FFFD}");
    }

    #[test]
    fn ordinary_text_is_untouched_and_not_copied() {
        for s in ["web-1", "Zürich – 東京 ✓", "عربى", "ünïcödé 🚀", ""] {
            assert!(matches!(inert(s), Cow::Borrowed(b) if b == s), "{s}");
        }
    }
}
