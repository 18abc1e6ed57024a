//! Clipping of user input echoed in error messages, so a megabyte-long field is never sent back.

use std::borrow::Cow;

/// How many characters of user input an error message echoes.
pub const ECHO_CHARS: usize = 100;

/// `s` cut to [`ECHO_CHARS`] characters, with `…` when something was cut.
pub fn clip(s: &str) -> Cow<'_, str> {
    clip_with(s, ECHO_CHARS)
}

/// `s` cut to `max` characters, with `…` when something was cut.
pub fn clip_with(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((end, _)) => Cow::Owned(format!("{}…", &s[..end])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_untouched_long_input_is_cut_on_a_char_boundary() {
        assert_eq!(clip("com.example.app"), "com.example.app");
        let long = "é".repeat(1000);
        let c = clip(&long);
        assert_eq!(c.chars().count(), ECHO_CHARS + 1);
        assert!(c.ends_with('…'));
        assert_eq!(clip_with("abcdef", 3), "abc…");
        assert_eq!(clip_with("abc", 3), "abc");
    }
}
