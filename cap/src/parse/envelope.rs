//! Finding the `<alert>` elements in whatever wraps them.
//!
//! | root | where alerts are | links |
//! |---|---|---|
//! | `alert` | the root | – |
//! | Atom `feed` | `entry/content/alert` (or `entry/alert`) | entries without inline CAP: the `link` typed `application/cap+xml`, else an untyped or XML-typed alternate link |
//! | RSS `rss` | `channel/item/alert` (any depth under the item) | items without inline CAP: a CAP-typed `enclosure`, else `link` |
//! | EDXL-DE `EDXLDistribution` | `contentObject/xmlContent/embeddedXMLContent/alert` | – |
//! | anything else | its `alert` children (e.g. `<alerts>`) | – |
//!
//! Alerts are matched by local name, whatever their namespace; the alert
//! reader reports a wrong namespace as a violation. An `<alert>` outside
//! the place a wrapper defines (e.g. directly under an Atom `feed`) is not
//! part of the feed and is left alone, as Atom's foreign-markup rule says.

use roxmltree::{Document, Node};

use super::{DocumentError, DocumentFormat};

const ATOM_NS: &str = "http://www.w3.org/2005/Atom";

pub(super) struct Found<'a, 'i> {
    pub format: DocumentFormat,
    pub alerts: Vec<Node<'a, 'i>>,
    pub links: Vec<String>,
}

pub(super) fn find_alerts<'a, 'i>(
    doc: &'a Document<'i>,
    warnings: &mut Vec<String>,
) -> Result<Found<'a, 'i>, DocumentError> {
    let root = doc.root_element();
    let name = root.tag_name().name();
    let found = match name {
        "alert" => Found {
            format: DocumentFormat::Cap,
            alerts: vec![root],
            links: Vec::new(),
        },
        "feed" => atom(root, warnings)?,
        "rss" => rss(root, warnings)?,
        "EDXLDistribution" => edxl(root)?,
        _ if name.eq_ignore_ascii_case("html") => {
            return Err(DocumentError::HtmlPage {
                title: html_title(root),
            });
        }
        _ => {
            let alerts: Vec<_> = children(root, "alert").collect();
            if alerts.is_empty() {
                return Err(DocumentError::NoCap {
                    detail: format!(
                        "root element <{name}>{} is neither a CAP alert, an alert list, Atom, RSS nor EDXL-DE",
                        ns_suffix(root)
                    ),
                });
            }
            Found {
                format: DocumentFormat::AlertList,
                alerts,
                links: Vec::new(),
            }
        }
    };
    Ok(found)
}

fn ns_suffix(node: Node) -> String {
    node.tag_name()
        .namespace()
        .map(|ns| format!(" (namespace {ns})"))
        .unwrap_or_default()
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn atom<'a, 'i>(
    root: Node<'a, 'i>,
    warnings: &mut Vec<String>,
) -> Result<Found<'a, 'i>, DocumentError> {
    if root.tag_name().namespace() != Some(ATOM_NS) {
        warnings.push(format!(
            "<feed> in namespace {:?} read as Atom",
            root.tag_name().namespace().unwrap_or("")
        ));
    }
    let mut alerts = Vec::new();
    let mut links = Vec::new();
    let mut entries = 0;
    for (i, entry) in children(root, "entry").enumerate() {
        entries += 1;
        let before = alerts.len();
        alerts.extend(children(entry, "alert"));
        for content in children(entry, "content") {
            alerts.extend(children(content, "alert"));
        }
        if alerts.len() == before {
            match atom_cap_link(entry) {
                Some(href) => links.push(href.to_owned()),
                None => warnings.push(format!(
                    "Atom entry {i} has neither inline CAP nor a CAP link"
                )),
            }
        }
    }
    if entries == 0 {
        let stray = if children(root, "alert").next().is_some() {
            " (an <alert> directly under <feed> is not an entry)"
        } else {
            ""
        };
        return Err(DocumentError::NoCap {
            detail: format!("Atom feed has no <entry>{stray}"),
        });
    }
    if alerts.is_empty() && links.is_empty() {
        return Err(DocumentError::NoCap {
            detail: format!("none of the {entries} Atom entries carries or links CAP"),
        });
    }
    Ok(Found {
        format: DocumentFormat::Atom,
        alerts,
        links,
    })
}

/// The CAP document an Atom entry points to: a link typed as CAP first,
/// else an alternate (or rel-less) link that is untyped or XML-typed. HTML
/// pages are not CAP documents and are never returned.
fn atom_cap_link<'a>(entry: Node<'a, '_>) -> Option<&'a str> {
    let links: Vec<Node> = children(entry, "link").collect();
    let typed = links
        .iter()
        .find(|l| l.attribute("type").is_some_and(is_cap_type));
    let fallback = || {
        links.iter().find(|l| {
            matches!(l.attribute("rel"), None | Some("alternate"))
                && l.attribute("type").is_none_or(is_xml_type)
        })
    };
    typed
        .or_else(fallback)
        .and_then(|l| l.attribute("href"))
        .map(str::trim)
        .filter(|h| !h.is_empty())
}

fn is_cap_type(t: &str) -> bool {
    t.to_ascii_lowercase().contains("cap")
}

fn is_xml_type(t: &str) -> bool {
    let t = t.to_ascii_lowercase();
    t.contains("cap") || t.ends_with("/xml") || t.ends_with("+xml") && !t.contains("xhtml")
}

fn rss<'a, 'i>(
    root: Node<'a, 'i>,
    warnings: &mut Vec<String>,
) -> Result<Found<'a, 'i>, DocumentError> {
    let mut alerts = Vec::new();
    let mut links = Vec::new();
    let mut items = 0;
    for channel in children(root, "channel") {
        for (i, item) in children(channel, "item").enumerate() {
            items += 1;
            let before = alerts.len();
            alerts.extend(
                item.descendants()
                    .filter(|d| d.is_element() && d.tag_name().name() == "alert"),
            );
            if alerts.len() > before {
                continue;
            }
            let enclosure = children(item, "enclosure")
                .find(|e| e.attribute("type").is_some_and(is_cap_type))
                .and_then(|e| e.attribute("url"));
            let link = children(item, "link").find_map(|l| l.text());
            match enclosure.or(link).map(str::trim).filter(|l| !l.is_empty()) {
                Some(href) => links.push(href.to_owned()),
                None => warnings.push(format!("RSS item {i} has neither inline CAP nor a link")),
            }
        }
    }
    if alerts.is_empty() && links.is_empty() {
        return Err(DocumentError::NoCap {
            detail: format!("none of the {items} RSS items carries or links CAP"),
        });
    }
    Ok(Found {
        format: DocumentFormat::Rss,
        alerts,
        links,
    })
}

fn edxl<'a, 'i>(root: Node<'a, 'i>) -> Result<Found<'a, 'i>, DocumentError> {
    let alerts: Vec<_> = children(root, "contentObject")
        .flat_map(|c| children(c, "xmlContent"))
        .flat_map(|x| children(x, "embeddedXMLContent"))
        .flat_map(|e| children(e, "alert"))
        .collect();
    if alerts.is_empty() {
        return Err(DocumentError::NoCap {
            detail: "EDXL-DE distribution carries no embedded CAP alert".to_owned(),
        });
    }
    Ok(Found {
        format: DocumentFormat::EdxlDe,
        alerts,
        links: Vec::new(),
    })
}

fn html_title(root: Node) -> Option<String> {
    root.descendants()
        .find(|d| d.is_element() && d.tag_name().name().eq_ignore_ascii_case("title"))
        .and_then(|t| t.text())
        .map(|t| t.trim().chars().take(120).collect())
        .filter(|t: &String| !t.is_empty())
}
