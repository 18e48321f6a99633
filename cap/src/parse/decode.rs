//! Bytes → text: size limit, byte-order mark, declared encoding, HTML
//! error pages.
//!
//! XML without an encoding declaration is UTF-8, and a document that
//! declares (or defaults to) UTF-8 but holds invalid UTF-8 is not
//! well-formed: it is rejected with the offset of the first bad byte rather
//! than repaired, because a repaired alert would say something its author
//! did not write. Other declared encodings (ISO-8859-1 is common in older
//! feeds) are transcoded with encoding_rs and a warning is recorded.
//! encoding_rs follows the WHATWG Encoding Standard, so the label
//! ISO-8859-1 decodes as windows-1252 (bytes 0x80–0x9F become the
//! punctuation Windows software meant, not C1 controls).

use super::{DocumentError, Limits};

pub(super) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How far into the document the XML declaration and the HTML sniff look.
const SNIFF_LEN: usize = 1024;

pub(super) fn decode(
    bytes: &[u8],
    limits: &Limits,
    warnings: &mut Vec<String>,
) -> Result<String, DocumentError> {
    if bytes.len() > limits.max_bytes {
        return Err(DocumentError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let (body, bom_len) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => {
            warnings.push("UTF-8 byte order mark ignored".to_owned());
            (rest, UTF8_BOM.len())
        }
        None => (bytes, 0),
    };
    if let Some(text) = decode_utf16(body, warnings)? {
        return Ok(text);
    }
    let start = skip_whitespace(body);
    if start.is_empty() {
        return Err(DocumentError::Empty);
    }
    if start[0] != b'<' {
        return Err(DocumentError::NotXml {
            start: String::from_utf8_lossy(&start[..start.len().min(16)]).into_owned(),
        });
    }
    if is_html(start) {
        return Err(DocumentError::HtmlPage {
            title: html_title(body),
        });
    }
    match declared_encoding(start) {
        Some(label) if !is_utf8_label(label) => transcode(body, label, warnings),
        _ => match std::str::from_utf8(body) {
            Ok(text) => Ok(text.to_owned()),
            Err(e) => Err(DocumentError::InvalidUtf8 {
                offset: bom_len + e.valid_up_to(),
            }),
        },
    }
}

/// UTF-16 documents must start with a byte-order mark; decode them whole.
fn decode_utf16(body: &[u8], warnings: &mut Vec<String>) -> Result<Option<String>, DocumentError> {
    let Some((encoding, _)) = encoding_rs::Encoding::for_bom(body) else {
        return Ok(None);
    };
    if encoding == encoding_rs::UTF_8 {
        return Ok(None);
    }
    let (text, had_errors) = encoding.decode_with_bom_removal(body);
    if had_errors {
        return Err(DocumentError::InvalidEncoding {
            label: encoding.name().to_owned(),
        });
    }
    warnings.push(format!("transcoded from {}", encoding.name()));
    Ok(Some(text.into_owned()))
}

fn transcode(
    body: &[u8],
    label: &str,
    warnings: &mut Vec<String>,
) -> Result<String, DocumentError> {
    let Some(encoding) = encoding_rs::Encoding::for_label(label.as_bytes()) else {
        return Err(DocumentError::UnsupportedEncoding {
            label: label.to_owned(),
        });
    };
    // UTF-16 without a byte-order mark declared in an ASCII-readable
    // declaration cannot be right: the declaration itself was 8-bit.
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        return Err(DocumentError::InvalidEncoding {
            label: label.to_owned(),
        });
    }
    match encoding.decode_without_bom_handling_and_without_replacement(body) {
        Some(text) => {
            warnings.push(format!("transcoded from declared encoding {label}"));
            Ok(text.into_owned())
        }
        None => Err(DocumentError::InvalidEncoding {
            label: label.to_owned(),
        }),
    }
}

fn skip_whitespace(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[n..]
}

fn is_utf8_label(label: &str) -> bool {
    label.eq_ignore_ascii_case("utf-8") || label.eq_ignore_ascii_case("utf8")
}

/// The `encoding` pseudo-attribute of a leading `<?xml ...?>` declaration.
fn declared_encoding(start: &[u8]) -> Option<&str> {
    let head = &start[..start.len().min(SNIFF_LEN)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = memchr::memmem::find(head, b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let close = value.find(quote)?;
    Some(value[..close].trim())
}

/// An HTML page rather than XML: `<!DOCTYPE html`, `<html`, or an XML
/// declaration followed by either. Servers answer errors this way (an IIS
/// 404 page in Big5 has been served under a `.cap` name).
fn is_html(start: &[u8]) -> bool {
    let mut rest = start;
    if rest.starts_with(b"<?xml") {
        match memchr::memmem::find(rest, b"?>") {
            Some(end) => rest = skip_whitespace(&rest[end + 2..]),
            None => return false,
        }
    }
    starts_with_ignore_case(rest, b"<!doctype html") || starts_with_ignore_case(rest, b"<html")
}

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The page title when it is readable UTF-8 (a Big5 title is not; it is
/// left out rather than shown garbled).
fn html_title(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(4 * SNIFF_LEN)];
    let lower = head.to_ascii_lowercase();
    let open = memchr::memmem::find(&lower, b"<title")?;
    let open_end = open + memchr::memchr(b'>', &lower[open..])? + 1;
    let close = open_end + memchr::memmem::find(&lower[open_end..], b"</title")?;
    let title = std::str::from_utf8(&head[open_end..close]).ok()?.trim();
    (!title.is_empty()).then(|| title.chars().take(120).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> (Result<String, DocumentError>, Vec<String>) {
        let mut warnings = Vec::new();
        let r = decode(bytes, &Limits::default(), &mut warnings);
        (r, warnings)
    }

    #[test]
    fn bom_is_removed_with_a_warning() {
        let (r, w) = run(b"\xEF\xBB\xBF<a/>");
        assert_eq!(r.unwrap(), "<a/>");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn invalid_utf8_reports_offset_counting_the_bom() {
        let (r, _) = run(b"\xEF\xBB\xBF<a>caf\xe9</a>");
        assert_eq!(r, Err(DocumentError::InvalidUtf8 { offset: 9 }));
        let (r, _) = run(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>\xff</a>");
        assert_eq!(r, Err(DocumentError::InvalidUtf8 { offset: 41 }));
    }

    #[test]
    fn latin1_is_transcoded() {
        let (r, w) = run(b"<?xml version='1.0' encoding='ISO-8859-1'?><a>m\xe9t\xe9o</a>");
        assert!(r.unwrap().ends_with("<a>m\u{e9}t\u{e9}o</a>"));
        assert!(w[0].contains("ISO-8859-1"), "{w:?}");
    }

    #[test]
    fn unknown_encoding_is_refused() {
        let (r, _) = run(b"<?xml version='1.0' encoding='klingon'?><a/>");
        assert!(matches!(r, Err(DocumentError::UnsupportedEncoding { .. })));
    }

    #[test]
    fn html_pages_are_recognized_with_their_title() {
        let (r, _) = run(b"  <!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"><html><head><title>404 - Not Found</title>");
        assert_eq!(
            r,
            Err(DocumentError::HtmlPage {
                title: Some("404 - Not Found".into())
            })
        );
        // A Big5 title is not UTF-8: recognized, title left out.
        let (r, _) = run(b"<html><head><title>\xa7\xe4\xa4\xa3\xa8\xec</title></head></html>");
        assert_eq!(r, Err(DocumentError::HtmlPage { title: None }));
    }

    #[test]
    fn non_xml_and_empty_and_oversized() {
        assert!(matches!(
            run(b"{\"a\":1}").0,
            Err(DocumentError::NotXml { .. })
        ));
        assert_eq!(run(b" \r\n ").0, Err(DocumentError::Empty));
        let limits = Limits {
            max_bytes: 3,
            ..Limits::default()
        };
        let r = decode(b"<a/>", &limits, &mut Vec::new());
        assert_eq!(r, Err(DocumentError::TooLarge { size: 4, limit: 3 }));
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "<a>颱風</a>".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(run(&bytes).0.unwrap(), "<a>颱風</a>");
    }
}
