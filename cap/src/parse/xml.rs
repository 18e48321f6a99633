//! Text → XML tree, refusing what CAP never needs.
//!
//! Before roxmltree sees the text, [`prescan`] walks the markup once (a
//! memchr jump from `<` to `<`) to refuse any document type declaration and
//! any nesting deeper than [`Limits::max_depth`], so no later stage (ours or
//! roxmltree's) ever works on a pathological tree. roxmltree then runs with
//! DTDs disallowed (so no entity is ever declared, expanded or fetched) and
//! with a node limit.

use roxmltree::{Document, ParsingOptions};

use super::{DocumentError, Limits};

pub(super) fn prescan(text: &str, limits: &Limits) -> Result<(), DocumentError> {
    let bytes = text.as_bytes();
    let mut depth: usize = 0;
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'<', &bytes[at..]) {
        let open = at + found;
        let rest = &bytes[open..];
        at = if rest.starts_with(b"<!--") {
            skip_past(bytes, open + 4, b"-->")
        } else if rest.starts_with(b"<![CDATA[") {
            skip_past(bytes, open + 9, b"]]>")
        } else if rest.starts_with(b"<?") {
            skip_past(bytes, open + 2, b"?>")
        } else if rest.starts_with(b"<!") {
            let (line, col) = line_col(text, open);
            return Err(DocumentError::DtdRefused { line, col });
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            open + 2
        } else {
            let end = tag_end(bytes, open + 1);
            if end == 0 || bytes[end - 1] != b'/' {
                depth += 1;
                if depth > limits.max_depth {
                    let (line, col) = line_col(text, open);
                    return Err(DocumentError::TooDeep {
                        limit: limits.max_depth,
                        line,
                        col,
                    });
                }
            }
            end
        };
        if at >= bytes.len() {
            break;
        }
    }
    Ok(())
}

/// Index just past `needle` at or after `from`, or the end of the text.
fn skip_past(bytes: &[u8], from: usize, needle: &[u8]) -> usize {
    match bytes.get(from..) {
        Some(tail) => {
            memchr::memmem::find(tail, needle).map_or(bytes.len(), |i| from + i + needle.len())
        }
        None => bytes.len(),
    }
}

/// Index of the `>` closing a start tag (quotes respected), or the end.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(i) = bytes
        .get(at..)
        .and_then(|t| memchr::memchr3(b'>', b'"', b'\'', t))
    {
        let found = at + i;
        match bytes[found] {
            b'>' => return found,
            quote => match memchr::memchr(quote, &bytes[found + 1..]) {
                Some(close) => at = found + 1 + close + 1,
                None => return bytes.len(),
            },
        }
    }
    bytes.len()
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.as_bytes().get(..offset).unwrap_or_default();
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (saturate(line), saturate(col))
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(super) fn parse_tree<'a>(
    text: &'a str,
    limits: &Limits,
) -> Result<Document<'a>, DocumentError> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::try_from(limits.max_nodes).unwrap_or(u32::MAX),
        entity_resolver: None,
    };
    Document::parse_with_options(text, options).map_err(|e| match e {
        roxmltree::Error::DtdDetected => DocumentError::DtdRefused { line: 1, col: 1 },
        roxmltree::Error::NodesLimitReached => DocumentError::TooManyNodes {
            limit: limits.max_nodes,
        },
        other => {
            let pos = other.pos();
            DocumentError::NotWellFormed {
                line: pos.row,
                col: pos.col,
                message: other.to_string(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(depth: usize) -> Limits {
        Limits {
            max_depth: depth,
            ..Limits::default()
        }
    }

    #[test]
    fn depth_counts_open_elements_only() {
        let text = "<a><b/><!-- <c><c><c> --><![CDATA[<d><d>]]><?pi <e>?><f x='<>'>t</f></a>";
        assert_eq!(prescan(text, &limits(2)), Ok(()));
        assert!(matches!(
            prescan(text, &limits(1)),
            Err(DocumentError::TooDeep {
                limit: 1,
                line: 1,
                ..
            })
        ));
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let text = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        assert!(matches!(
            prescan(&text, &Limits::default()),
            Err(DocumentError::TooDeep { limit: 64, .. })
        ));
    }

    #[test]
    fn any_doctype_is_refused_with_its_position() {
        let text = "<?xml version='1.0'?>\n<!DOCTYPE a [<!ENTITY x 'y'>]>\n<a>&x;</a>";
        assert_eq!(
            prescan(text, &limits(8)),
            Err(DocumentError::DtdRefused { line: 2, col: 1 })
        );
    }

    #[test]
    fn tree_errors_carry_line_and_column() {
        let r = parse_tree("<a>\n  <b></a>", &Limits::default());
        assert!(
            matches!(r, Err(DocumentError::NotWellFormed { line: 2, .. })),
            "{r:?}"
        );
    }

    #[test]
    fn node_limit_applies() {
        let l = Limits {
            max_nodes: 3,
            ..Limits::default()
        };
        assert_eq!(
            parse_tree("<a><b/><b/><b/></a>", &l).err(),
            Some(DocumentError::TooManyNodes { limit: 3 })
        );
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\n颱風x", "ab\n颱風".len()), (2, 3));
    }
}
