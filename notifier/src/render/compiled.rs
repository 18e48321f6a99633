//! Templates compiled to text and slots.
//!
//! Most of our Fluent messages are text with variables and nothing else (no
//! selectors, no functions). Such a message is formatted once at start-up
//! with a private-use sentinel character per variable, and the result is
//! kept as pieces: literal text and variable slots. Rendering then joins
//! strings instead of walking Fluent's resolver, which is what makes
//! hundreds of thousands of messages per second possible. Messages that do
//! use selectors or functions are left to Fluent at render time.

use fluent_syntax::ast::{Expression, InlineExpression, Pattern, PatternElement};

/// The sentinel standing for variable `index` while compiling.
pub(crate) fn sentinel(index: usize) -> char {
    char::from_u32(0xE000 + index as u32).unwrap_or('\u{E000}')
}

/// Whether Fluent would format `pattern` the same for any variable values:
/// only text, variables and literals.
pub(crate) fn is_plain(pattern: &Pattern<&str>) -> bool {
    pattern.elements.iter().all(|element| match element {
        PatternElement::TextElement { .. } => true,
        PatternElement::Placeable { expression } => matches!(
            expression,
            Expression::Inline(
                InlineExpression::VariableReference { .. }
                    | InlineExpression::StringLiteral { .. }
                    | InlineExpression::NumberLiteral { .. }
            )
        ),
    })
}

enum Piece {
    Text(String),
    Slot(usize),
}

/// A compiled message.
pub(crate) struct Compiled {
    pieces: Vec<Piece>,
    text_len: usize,
}

impl Compiled {
    /// Compiles a message formatted with [`sentinel`]s for `slots` variables.
    pub(crate) fn from_formatted(formatted: &str, slots: usize) -> Compiled {
        let mut pieces = Vec::new();
        let mut text = String::new();
        for c in formatted.chars() {
            let slot = (0..slots).find(|i| sentinel(*i) == c);
            match slot {
                Some(slot) => {
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Slot(slot));
                }
                None => text.push(c),
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let text_len = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Slot(_) => 0,
            })
            .sum();
        Compiled { pieces, text_len }
    }

    /// The message with `values[i]` in slot `i`.
    pub(crate) fn render(&self, values: &[&str]) -> String {
        let mut out = String::with_capacity(self.text_len + 64);
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Slot(slot) => out.push_str(values.get(*slot).copied().unwrap_or("")),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_and_text_alternate() {
        let formatted = format!("{}警戒：{}。", sentinel(0), sentinel(2));
        let compiled = Compiled::from_formatted(&formatted, 3);
        assert_eq!(
            compiled.render(&["土石流", "unused", "信義村"]),
            "土石流警戒：信義村。"
        );
    }

    #[test]
    fn selectors_are_not_plain() {
        let source = "a = { $n } items\nb = { $n ->\n [one] one\n *[other] many\n}\n";
        let resource = fluent_syntax::parser::parse(source).unwrap();
        let plain: Vec<bool> = resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(m) => m.value.as_ref().map(is_plain),
                _ => None,
            })
            .collect();
        assert_eq!(plain, [true, false]);
    }
}
