//! `<area>`: description, polygons, circles, geocodes, altitude/ceiling.

use roxmltree::Node;

use crate::model::{Area, CapVersion, NamedValue};

use super::geometry::{parse_circle, parse_decimal, parse_polygon};
use super::node::{Fields, Report, element_text, token_text};
use super::{MessageSummary, rules};

const AREA_FIELDS: &[&str] = &[
    "areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling",
];

pub(super) fn read_area(
    node: Node,
    ns: Option<&str>,
    path: &dyn std::fmt::Display,
    version: CapVersion,
    report: &mut Report,
    summary: &mut MessageSummary,
) -> Option<Area> {
    let fields = Fields::new(node, ns, path, AREA_FIELDS, report);
    let area_desc = fields.required_text("areaDesc", report);

    let mut polygons = Vec::new();
    for (p, n) in fields.all("polygon") {
        let text = element_text(n, &p, report);
        if text.trim().is_empty() {
            // NWS writes <polygon></polygon> for "no polygon"; the meaning
            // is plain, so it reads as absent.
            report.warn(p, "empty polygon ignored");
            continue;
        }
        summary.polygons += 1;
        match parse_polygon(&text) {
            Ok(polygon) => polygons.push(polygon),
            Err(problems) => {
                for pr in problems {
                    report.violation(p, pr.rule, pr.message);
                }
            }
        }
    }
    let mut circles = Vec::new();
    for (p, n) in fields.all("circle") {
        let text = element_text(n, &p, report);
        if text.trim().is_empty() {
            report.warn(p, "empty circle ignored");
            continue;
        }
        summary.circles += 1;
        match parse_circle(&text) {
            Ok(circle) => circles.push(circle),
            Err(problems) => {
                for pr in problems {
                    report.violation(p, pr.rule, pr.message);
                }
            }
        }
    }
    let mut geocodes = Vec::new();
    for (p, n) in fields.all("geocode") {
        summary.geocodes += 1;
        if let Some(g) = read_named_value(n, ns, &p, version, report) {
            geocodes.push(g);
        }
    }

    let altitude = read_number(&fields, "altitude", report);
    let ceiling = read_number(&fields, "ceiling", report);
    if fields.has("ceiling") && !fields.has("altitude") {
        report.violation(
            fields.child_path("ceiling"),
            rules::CONDITIONAL,
            "<ceiling> may only be used with <altitude>",
        );
    }

    Some(Area {
        area_desc: area_desc?,
        polygons,
        circles,
        geocodes,
        altitude: altitude.ok()?,
        ceiling: ceiling.ok()?,
    })
}

/// An optional decimal element: `Ok(None)` when absent, `Err` when broken.
fn read_number(fields: &Fields, name: &str, report: &mut Report) -> Result<Option<f64>, ()> {
    let Some(text) = fields.token(name, report) else {
        return if fields.has(name) { Err(()) } else { Ok(None) };
    };
    match parse_decimal(&text) {
        Some(v) => Ok(Some(v)),
        None => {
            report.violation(
                fields.child_path(name),
                rules::NUMBER,
                format!("<{name}> {text:?} is not a decimal number"),
            );
            Err(())
        }
    }
}

/// A `valueName`/`value` pair (eventCode, parameter, geocode). CAP 1.1 and
/// 1.2 use two child elements, both required; CAP 1.0 writes
/// `valueName=value` as the element's text. Values are kept as written
/// apart from surrounding white space, so codes like `09020` keep their
/// leading zero.
pub(super) fn read_named_value(
    node: Node,
    ns: Option<&str>,
    path: &dyn std::fmt::Display,
    version: CapVersion,
    report: &mut Report,
) -> Option<NamedValue> {
    if version == CapVersion::V1_0 {
        let text = token_text(node, &path, report)?;
        return match text.split_once('=') {
            Some((name, value)) => Some(NamedValue {
                value_name: name.trim().to_owned(),
                value: value.trim().to_owned(),
            }),
            None => {
                report.violation(
                    path,
                    rules::REQUIRED,
                    format!("{text:?} is not of the CAP 1.0 form valueName=value"),
                );
                None
            }
        };
    }
    if let Some(plain) = plain_named_value(node, ns) {
        return Some(plain);
    }
    let fields = Fields::new(node, ns, path, &["valueName", "value"], report);
    let value_name = fields.required_token("valueName", report);
    let value = if fields.has("value") {
        // An empty value is legal (xs:string) and seen in real parameters.
        fields.one("value", report).map(|n| {
            element_text(n, &fields.child_path("value"), report)
                .trim()
                .to_owned()
        })
    } else {
        report.violation(
            fields.child_path("value"),
            rules::REQUIRED,
            "required <value> is missing",
        );
        None
    };
    Some(NamedValue {
        value_name: value_name?,
        value: value?,
    })
}

/// The common, clean shape `<valueName>n</valueName><value>v</value>`, read
/// without the general machinery (geocodes and parameters are the most
/// numerous elements of a message). Anything else, including anything
/// that deserves a warning or a violation, returns `None` and takes the
/// general path.
fn plain_named_value(node: Node, ns: Option<&str>) -> Option<NamedValue> {
    let mut elements = node.children().filter(Node::is_element);
    let (name_el, value_el) = (elements.next()?, elements.next()?);
    if elements.next().is_some()
        || name_el.tag_name().name() != "valueName"
        || value_el.tag_name().name() != "value"
        || name_el.tag_name().namespace() != ns
        || value_el.tag_name().namespace() != ns
    {
        return None;
    }
    let name = single_text(name_el)?;
    let value = single_text(value_el)?;
    if name.is_empty() || name.trim().len() != name.len() {
        return None;
    }
    Some(NamedValue {
        value_name: name.to_owned(),
        value: value.trim().to_owned(),
    })
}

/// The text of an element whose content is one text node or nothing.
fn single_text<'a>(node: Node<'a, '_>) -> Option<&'a str> {
    let mut children = node.children();
    match (children.next(), children.next()) {
        (None, _) => Some(""),
        (Some(t), None) if t.is_text() => t.text(),
        _ => None,
    }
}
