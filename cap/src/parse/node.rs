//! Reading CAP elements out of a roxmltree node while recording what is
//! wrong with them.
//!
//! [`Fields`] gathers an element's children once, so each CAP reader asks
//! for `one("sent")` or `all("info")` and gets cardinality, presence,
//! emptiness and white-space checks with correct element paths for free.

use std::borrow::Cow;
use std::fmt::Display;

use roxmltree::Node;

use super::{Violation, rules};

pub(super) const XMLDSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Violations and warnings of one message.
#[derive(Debug, Default)]
pub(super) struct Report {
    pub violations: Vec<Violation>,
    pub warnings: Vec<String>,
}

impl Report {
    pub fn violation(&mut self, path: impl Display, rule: &str, message: impl Into<String>) {
        self.violations.push(Violation {
            path: path.to_string(),
            rule: rule.to_owned(),
            message: message.into(),
        });
    }

    pub fn warn(&mut self, path: impl Display, message: impl Display) {
        self.warnings.push(format!("{path}: {message}"));
    }
}

/// An element path (`/alert/info[0]/area[1]`), formatted only when a
/// violation or warning needs it: building paths eagerly for every element
/// was a measurable share of parse time.
#[derive(Clone, Copy)]
pub(super) struct ElemPath<'p> {
    parent: &'p dyn Display,
    name: &'p str,
    index: Option<usize>,
}

impl Display for ElemPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}/{}[{i}]", self.parent, self.name),
            None => write!(f, "{}/{}", self.parent, self.name),
        }
    }
}

/// The element children of one CAP element, checked against the names the
/// CAP version defines there. Each child is kept with the position of its
/// name in `known`, so lookups compare integers, not strings.
pub(super) struct Fields<'a, 'i, 'p> {
    path: &'p dyn Display,
    known: &'static [&'static str],
    children: Vec<(usize, Node<'a, 'i>)>,
    /// An enveloped XML-DSig `<Signature>` is among the children.
    pub signed: bool,
}

impl<'a, 'i, 'p> Fields<'a, 'i, 'p> {
    /// `ns` is the namespace of the enclosing `<alert>`: CAP children live
    /// there. Children in no namespace are accepted with a warning (the
    /// meaning is plain); XML-DSig signatures are noted; anything else is
    /// reported (unknown CAP-namespace names) or ignored with a warning
    /// (foreign namespaces).
    pub fn new(
        node: Node<'a, 'i>,
        ns: Option<&str>,
        path: &'p dyn Display,
        known: &'static [&'static str],
        report: &mut Report,
    ) -> Self {
        let mut children = Vec::new();
        let mut signed = false;
        let mut unnamespaced_warned = false;
        for child in node.children().filter(Node::is_element) {
            let name = child.tag_name();
            let child_ns = name.namespace();
            if child_ns == Some(XMLDSIG_NS) {
                if name.name() == "Signature" {
                    signed = true;
                } else {
                    report.warn(path, format_args!("ignored XML-DSig <{}>", name.name()));
                }
                continue;
            }
            if child_ns != ns {
                if child_ns.is_none() {
                    if !unnamespaced_warned {
                        report.warn(path, "child elements in no namespace read as CAP");
                        unnamespaced_warned = true;
                    }
                } else {
                    report.warn(
                        path,
                        format_args!(
                            "ignored <{}> in foreign namespace {}",
                            name.name(),
                            child_ns.unwrap_or_default()
                        ),
                    );
                    continue;
                }
            }
            if let Some(k) = known.iter().position(|n| *n == name.name()) {
                children.push((k, child));
            } else {
                report.violation(
                    format!("{path}/{}", name.name()),
                    rules::UNKNOWN_ELEMENT,
                    format!("<{}> is not a CAP element here", name.name()),
                );
            }
        }
        Fields {
            path,
            known,
            children,
            signed,
        }
    }

    pub fn child_path<'s>(&'s self, name: &'s str) -> ElemPath<'s> {
        ElemPath {
            parent: self.path,
            name,
            index: None,
        }
    }

    /// Position of `name` among the known names (usize::MAX: never matches).
    fn key(&self, name: &str) -> usize {
        self.known
            .iter()
            .position(|n| *n == name)
            .unwrap_or(usize::MAX)
    }

    /// Every child named `name`, with its path `.../name[i]`.
    pub fn all<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = (ElemPath<'s>, Node<'a, 'i>)> + 's {
        let key = self.key(name);
        self.children
            .iter()
            .filter(move |(k, _)| *k == key)
            .enumerate()
            .map(move |(i, (_, c))| {
                let path = ElemPath {
                    parent: self.path,
                    name,
                    index: Some(i),
                };
                (path, *c)
            })
    }

    /// The child named `name`, reporting a repeat as a cardinality
    /// violation (the first occurrence is used).
    pub fn one(&self, name: &str, report: &mut Report) -> Option<Node<'a, 'i>> {
        let key = self.key(name);
        let mut found = self.children.iter().filter(|(k, _)| *k == key);
        let first = found.next().map(|(_, n)| *n);
        let extra = found.count();
        if extra > 0 {
            report.violation(
                self.child_path(name),
                rules::CARDINALITY,
                format!("<{name}> may appear once, found {}", extra + 1),
            );
        }
        first
    }

    /// Free text (headline, description, ...): trimmed, markup flattened.
    pub fn text(&self, name: &str, report: &mut Report) -> Option<String> {
        let node = self.one(name, report)?;
        let path = self.child_path(name);
        Some(element_text(node, &path, report).trim().to_owned())
    }

    /// A token value (identifier, enumerations, date-times): surrounding
    /// white space is tolerated with a warning, emptiness is a violation.
    pub fn token(&self, name: &str, report: &mut Report) -> Option<String> {
        let node = self.one(name, report)?;
        let path = self.child_path(name);
        token_text(node, &path, report)
    }

    /// An optional free-form token (`web`, `uri`, `source`): trimmed;
    /// empty reads as absent, with a warning, since `xs:string` and
    /// `xs:anyURI` allow it.
    pub fn optional_token(&self, name: &str, report: &mut Report) -> Option<String> {
        let node = self.one(name, report)?;
        let path = self.child_path(name);
        let text = element_text(node, &path, report);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            report.warn(path, "empty element read as absent");
            None
        } else {
            Some(trimmed.to_owned())
        }
    }

    /// Like [`Fields::token`], and a missing element is a violation.
    pub fn required_token(&self, name: &str, report: &mut Report) -> Option<String> {
        if !self.has(name) {
            report.violation(
                self.child_path(name),
                rules::REQUIRED,
                format!("required <{name}> is missing"),
            );
            return None;
        }
        self.token(name, report)
    }

    /// Like [`Fields::text`], and a missing or empty element is a violation.
    pub fn required_text(&self, name: &str, report: &mut Report) -> Option<String> {
        if !self.has(name) {
            report.violation(
                self.child_path(name),
                rules::REQUIRED,
                format!("required <{name}> is missing"),
            );
            return None;
        }
        let text = self.text(name, report)?;
        if text.is_empty() {
            report.violation(
                self.child_path(name),
                rules::EMPTY,
                format!("required <{name}> is empty"),
            );
            return None;
        }
        Some(text)
    }

    pub fn has(&self, name: &str) -> bool {
        let key = self.key(name);
        self.children.iter().any(|(k, _)| *k == key)
    }
}

/// A token's text: trimmed (with a warning if anything was trimmed);
/// `None` with an `empty` violation if nothing is left.
pub(super) fn token_text(node: Node, path: &dyn Display, report: &mut Report) -> Option<String> {
    let raw = element_text(node, path, report);
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        report.violation(
            path,
            rules::EMPTY,
            format!("<{}> is empty", node.tag_name().name()),
        );
        return None;
    }
    if trimmed.len() != raw.len() {
        report.warn(path, "surrounding white space ignored");
    }
    Some(trimmed.to_owned())
}

/// All text inside an element. Markup inside (HTML in a description) is
/// flattened to its text with a warning rather than refused: the words are
/// what people need.
pub(super) fn element_text<'a>(
    node: Node<'a, '_>,
    path: &dyn Display,
    report: &mut Report,
) -> Cow<'a, str> {
    let mut children = node.children();
    match (children.next(), children.next()) {
        (None, _) => Cow::Borrowed(""),
        (Some(only), None) if only.is_text() => Cow::Borrowed(only.text().unwrap_or_default()),
        _ => {
            if node.children().any(|c| c.is_element()) {
                report.warn(path, "markup inside the element read as text");
            }
            let mut text = String::new();
            for d in node.descendants().filter(Node::is_text) {
                text.push_str(d.text().unwrap_or_default());
            }
            Cow::Owned(text)
        }
    }
}

/// Looks a token up in an enumeration. An exact match is silent; a match
/// ignoring ASCII case is accepted with a warning (the meaning is plain);
/// anything else is an `enum` violation listing the allowed values.
pub(super) fn lookup_enum<'t, T: Copy + 't>(
    value: &str,
    table: impl Iterator<Item = &'t (&'static str, T)> + Clone,
    path: &dyn Display,
    report: &mut Report,
) -> Option<T> {
    if let Some((_, v)) = table.clone().find(|(name, _)| *name == value) {
        return Some(*v);
    }
    if let Some((name, v)) = table
        .clone()
        .find(|(name, _)| name.eq_ignore_ascii_case(value))
    {
        report.warn(path, format_args!("{value:?} read as {name:?}"));
        return Some(*v);
    }
    let allowed: Vec<&str> = table.map(|(n, _)| *n).collect();
    report.violation(
        path,
        rules::ENUM,
        format!("{value:?} is not one of {}", allowed.join(", ")),
    );
    None
}

/// CAP's list form for `addresses` and `incidents`: white-space separated,
/// with double-quoted entries kept whole (quotes removed).
pub(super) fn split_quoted_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            out.push(quoted[..end].to_owned());
            rest = quoted.get(end + 1..).unwrap_or_default();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
        rest = rest.trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_lists_keep_quoted_names_whole() {
        assert_eq!(
            split_quoted_list(r#" a  "b c" d"#),
            vec!["a".to_owned(), "b c".to_owned(), "d".to_owned()]
        );
        assert_eq!(
            split_quoted_list(r#""unterminated x"#),
            vec!["unterminated x"]
        );
        assert!(split_quoted_list("  ").is_empty());
    }
}
