//! XML canonicalization (C14N 1.0 and Exclusive C14N 1.0, both without
//! comments) over a parsed `roxmltree` document, as XML-DSig needs it.
//!
//! No maintained pure-Rust crate canonicalizes a `roxmltree` tree, so this
//! is written here, limited to what enveloped CAP signatures use: a whole
//! document or one element subtree (`apex`), optionally leaving one element
//! out (the enveloped `<Signature>`). Parsing has already normalized line
//! ends, attribute values, character and entity references and CDATA, so
//! what is left is the C14N serialization rules:
//!
//! - no XML declaration or DTD; comments dropped; processing instructions
//!   outside the root element kept on their own lines;
//! - empty elements written as start/end pairs;
//! - namespace declarations first, sorted by prefix (default first), then
//!   attributes sorted by (namespace URI, local name);
//! - inclusive: a namespace is declared on an element when it differs from
//!   what the nearest output ancestor declared (so the apex declares all it
//!   has in scope); exclusive: only where it is visibly used (element or
//!   attribute prefix, or the `InclusiveNamespaces` prefix list);
//! - `&`, `<`, `>` and CR escaped in text; `&`, `<`, `"`, TAB, LF and CR
//!   escaped in attribute values.
//!
//! Not done (no CAP signature uses them): XPath transforms, the `xml:*`
//! attribute inheritance of inclusive C14N for an apex below the root
//! element, C14N 1.1 and the "with comments" variants.

use std::collections::BTreeMap;

use roxmltree::{Node, NodeId, NodeType};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Inclusive,
    /// Exclusive C14N with the `InclusiveNamespaces PrefixList` (`#default`
    /// names the default namespace, stored as "").
    Exclusive {
        inclusive_prefixes: Vec<String>,
    },
}

/// Canonical form of `apex` (the document root or an element) and its
/// descendants, leaving out the subtrees rooted at `exclude`.
pub fn canonicalize(apex: Node<'_, '_>, mode: &Mode, exclude: &[NodeId]) -> String {
    let mut out = String::new();
    let writer = Writer { mode, exclude };
    if apex.is_root() {
        let mut seen_element = false;
        for child in apex.children() {
            match child.node_type() {
                NodeType::Element => {
                    writer.element(child, &BTreeMap::new(), &mut out);
                    seen_element = true;
                }
                NodeType::PI => {
                    if seen_element {
                        out.push('\n');
                    }
                    writer.pi(child, &mut out);
                    if !seen_element {
                        out.push('\n');
                    }
                }
                _ => {}
            }
        }
    } else {
        writer.node(apex, &BTreeMap::new(), &mut out);
    }
    out
}

struct Writer<'m> {
    mode: &'m Mode,
    exclude: &'m [NodeId],
}

/// Prefix ("" for the default namespace) → URI.
type NsMap = BTreeMap<String, String>;

impl Writer<'_> {
    fn node(&self, node: Node<'_, '_>, rendered: &NsMap, out: &mut String) {
        if self.exclude.contains(&node.id()) {
            return;
        }
        match node.node_type() {
            NodeType::Element => self.element(node, rendered, out),
            NodeType::Text => escape_text(node.text().unwrap_or(""), out),
            NodeType::PI => self.pi(node, out),
            NodeType::Comment | NodeType::Root => {}
        }
    }

    fn pi(&self, node: Node<'_, '_>, out: &mut String) {
        if let Some(pi) = node.pi() {
            out.push_str("<?");
            out.push_str(pi.target);
            if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                out.push(' ');
                out.push_str(value);
            }
            out.push_str("?>");
        }
    }

    fn element(&self, node: Node<'_, '_>, rendered: &NsMap, out: &mut String) {
        if self.exclude.contains(&node.id()) {
            return;
        }
        let input = node.document().input_text();
        let qname = element_qname(node, input);
        let element_prefix = qname.split_once(':').map_or("", |(p, _)| p);

        let mut in_scope: NsMap = NsMap::new();
        for ns in node.namespaces() {
            let prefix = ns.name().unwrap_or("");
            if prefix == "xml" {
                continue;
            }
            in_scope.insert(prefix.to_owned(), ns.uri().to_owned());
        }

        let attributes: Vec<(String, String, &str, &str)> = node
            .attributes()
            .map(|a| {
                let qname = input.get(a.range_qname()).unwrap_or(a.name());
                (
                    a.namespace().unwrap_or("").to_owned(),
                    a.name().to_owned(),
                    qname,
                    a.value(),
                )
            })
            .collect();

        let mut declare: NsMap = NsMap::new();
        match self.mode {
            Mode::Inclusive => {
                for (prefix, uri) in &in_scope {
                    if prefix.is_empty() && uri.is_empty() {
                        continue;
                    }
                    if rendered.get(prefix) != Some(uri) {
                        declare.insert(prefix.clone(), uri.clone());
                    }
                }
                if in_scope.get("").is_none_or(|u| u.is_empty())
                    && rendered.get("").is_some_and(|u| !u.is_empty())
                {
                    declare.insert(String::new(), String::new());
                }
            }
            Mode::Exclusive { inclusive_prefixes } => {
                let mut used: Vec<&str> = vec![element_prefix];
                for (_, _, attr_qname, _) in &attributes {
                    if let Some((p, _)) = attr_qname.split_once(':')
                        && p != "xml"
                    {
                        used.push(p);
                    }
                }
                for p in inclusive_prefixes {
                    if in_scope.contains_key(p.as_str()) {
                        used.push(p);
                    }
                }
                for prefix in used {
                    let uri = in_scope.get(prefix).cloned().unwrap_or_default();
                    if prefix.is_empty() && uri.is_empty() {
                        // xmlns="" only undoes a default an output ancestor declared.
                        if rendered.get("").is_some_and(|u| !u.is_empty()) {
                            declare.insert(String::new(), String::new());
                        }
                        continue;
                    }
                    if rendered.get(prefix) != Some(&uri) {
                        declare.insert(prefix.to_owned(), uri);
                    }
                }
            }
        }

        out.push('<');
        out.push_str(qname);
        for (prefix, uri) in &declare {
            if prefix.is_empty() {
                out.push_str(" xmlns=\"");
            } else {
                out.push_str(" xmlns:");
                out.push_str(prefix);
                out.push_str("=\"");
            }
            escape_attribute(uri, out);
            out.push('"');
        }
        let mut sorted = attributes;
        sorted.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        for (_, _, attr_qname, value) in &sorted {
            out.push(' ');
            out.push_str(attr_qname);
            out.push_str("=\"");
            escape_attribute(value, out);
            out.push('"');
        }
        out.push('>');

        let child_rendered = if declare.is_empty() {
            None
        } else {
            let mut merged = rendered.clone();
            merged.extend(declare);
            Some(merged)
        };
        let child_rendered = child_rendered.as_ref().unwrap_or(rendered);
        for child in node.children() {
            self.node(child, child_rendered, out);
        }
        out.push_str("</");
        out.push_str(qname);
        out.push('>');
    }
}

/// The element's name as written (`cap:alert`), read from the source text
/// because `roxmltree` keeps only the expanded name.
fn element_qname<'i>(node: Node<'_, 'i>, input: &'i str) -> &'i str {
    let start = node.range().start + 1;
    let rest = input.get(start..).unwrap_or("");
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(rest.len());
    let qname = &rest[..end];
    if qname.is_empty() {
        node.tag_name().name()
    } else {
        qname
    }
}

fn escape_text(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attribute(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(xml: &str, mode: &Mode) -> String {
        let doc = roxmltree::Document::parse(xml).unwrap();
        canonicalize(doc.root(), mode, &[])
    }

    // Cases from the C14N 1.0 recommendation, section 3.
    #[test]
    fn drops_declaration_comments_and_expands_empty_elements() {
        let xml = "<?xml version=\"1.0\"?>\n<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<!-- c -->\n<doc>Hello, world!<!-- Comment 1 --><e/></doc>\n<?pi-without-data     ?>\n";
        assert_eq!(
            c14n(xml, &Mode::Inclusive),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!<e></e></doc>\n<?pi-without-data?>"
        );
    }

    #[test]
    fn sorts_namespaces_and_attributes_and_drops_superfluous_declarations() {
        let xml = r#"<doc xmlns:b="http://www.ietf.org" xmlns:a="http://www.w3.org"><e5 a:attr="out" b:attr="sorted" attr2="all" attr="I'm" xmlns:b="http://www.ietf.org" xmlns:a="http://www.w3.org" xmlns="http://example.org"/></doc>"#;
        assert_eq!(
            c14n(xml, &Mode::Inclusive),
            r#"<doc xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org"><e5 xmlns="http://example.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e5></doc>"#
        );
    }

    #[test]
    fn escapes_text_and_attributes() {
        let xml = "<doc a=\"&quot;x&#9;y&#10;&lt;&amp;\">1 &lt; 2 &amp;&amp; 3 &gt; 2&#13;</doc>";
        assert_eq!(
            c14n(xml, &Mode::Inclusive),
            "<doc a=\"&quot;x&#x9;y&#xA;&lt;&amp;\">1 &lt; 2 &amp;&amp; 3 &gt; 2&#xD;</doc>"
        );
    }

    #[test]
    fn subtree_apex_declares_inherited_namespaces_inclusive_only_used_exclusive() {
        let xml =
            r#"<r xmlns="urn:outer" xmlns:x="urn:x" xmlns:y="urn:y"><x:a><b y:k="v"/></x:a></r>"#;
        let doc = roxmltree::Document::parse(xml).unwrap();
        let a = doc.descendants().find(|n| n.has_tag_name("a")).unwrap();
        assert_eq!(
            canonicalize(a, &Mode::Inclusive, &[]),
            r#"<x:a xmlns="urn:outer" xmlns:x="urn:x" xmlns:y="urn:y"><b y:k="v"></b></x:a>"#
        );
        assert_eq!(
            canonicalize(
                a,
                &Mode::Exclusive {
                    inclusive_prefixes: vec![]
                },
                &[]
            ),
            r#"<x:a xmlns:x="urn:x"><b xmlns="urn:outer" xmlns:y="urn:y" y:k="v"></b></x:a>"#
        );
    }

    #[test]
    fn undeclared_default_namespace_is_written_as_empty() {
        let xml = r#"<a xmlns="urn:a"><b xmlns=""><c/></b></a>"#;
        assert_eq!(
            c14n(xml, &Mode::Inclusive),
            r#"<a xmlns="urn:a"><b xmlns=""><c></c></b></a>"#
        );
    }

    #[test]
    fn excluded_subtree_is_left_out() {
        let xml = "<a><keep/><Signature><x/></Signature>\n</a>";
        let doc = roxmltree::Document::parse(xml).unwrap();
        let sig = doc
            .descendants()
            .find(|n| n.has_tag_name("Signature"))
            .unwrap();
        assert_eq!(
            canonicalize(doc.root(), &Mode::Inclusive, &[sig.id()]),
            "<a><keep></keep>\n</a>"
        );
    }
}
