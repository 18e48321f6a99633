//! CAP `<polygon>` and `<circle>` text.
//!
//! A polygon is white-space separated `lat,lon` pairs (WGS84 decimal
//! degrees), at least four, the first equal to the last (CAP 1.2 §3.2.4).
//! A circle is `lat,lon radius` with the radius in kilometres. Numbers are
//! plain decimals (`-23.5`, `121`); exponents, `inf` and `NaN` are refused.
//! Every problem of a value is reported, not only the first.

use crate::model::{Circle, Point, Polygon};

use super::rules;

/// One thing wrong with a polygon or circle; `rule` is its violation id.
#[derive(Debug, Clone, PartialEq)]
pub struct GeometryProblem {
    pub rule: &'static str,
    pub message: String,
}

fn problem(rule: &'static str, message: String) -> GeometryProblem {
    GeometryProblem { rule, message }
}

/// Parses and checks a polygon.
///
/// ```
/// use cap::parse::geometry::parse_polygon;
/// let p = parse_polygon("23.1,121.2 23.2,121.2 23.2,121.3 23.1,121.2").unwrap();
/// assert_eq!(p.points.len(), 4);
/// assert!(parse_polygon("23.1,121.2 23.2,121.2 23.2,121.3").is_err());
/// ```
pub fn parse_polygon(text: &str) -> Result<Polygon, Vec<GeometryProblem>> {
    let mut problems = Vec::new();
    let mut points = Vec::new();
    for (i, pair) in text.split_whitespace().enumerate() {
        match parse_point(pair) {
            Ok(p) => {
                problems.extend(range_problems(&p, &format!("point {}", i + 1)));
                points.push(p);
            }
            Err(msg) => problems.push(problem(
                rules::POLYGON_SYNTAX,
                format!("point {} {pair:?}: {msg}", i + 1),
            )),
        }
    }
    let syntax_ok = problems.iter().all(|p| p.rule != rules::POLYGON_SYNTAX);
    if syntax_ok {
        if points.len() < 4 {
            problems.push(problem(
                rules::POLYGON_POINTS,
                format!("{} points; a polygon needs at least 4", points.len()),
            ));
        }
        if let (Some(first), Some(last)) = (points.first(), points.last())
            && first != last
        {
            problems.push(problem(
                rules::POLYGON_CLOSED,
                format!(
                    "not closed: first point {},{} differs from last {},{}",
                    first.lat, first.lon, last.lat, last.lon
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(Polygon { points })
    } else {
        Err(problems)
    }
}

/// Parses and checks a circle.
///
/// ```
/// use cap::parse::geometry::parse_circle;
/// let c = parse_circle("23.768,121.538 0.000").unwrap();
/// assert_eq!(c.radius_km, 0.0);
/// ```
pub fn parse_circle(text: &str) -> Result<Circle, Vec<GeometryProblem>> {
    let mut parts = text.split_whitespace();
    let (Some(centre), Some(radius), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(vec![problem(
            rules::CIRCLE_SYNTAX,
            format!("{text:?} is not \"lat,lon radius\""),
        )]);
    };
    let mut problems = Vec::new();
    let center = match parse_point(centre) {
        Ok(p) => {
            problems.extend(range_problems(&p, "centre"));
            Some(p)
        }
        Err(msg) => {
            problems.push(problem(
                rules::CIRCLE_SYNTAX,
                format!("centre {centre:?}: {msg}"),
            ));
            None
        }
    };
    let radius_km = match parse_decimal(radius) {
        Some(r) if r >= 0.0 => Some(r),
        _ => {
            problems.push(problem(
                rules::CIRCLE_SYNTAX,
                format!("radius {radius:?} is not a non-negative number of km"),
            ));
            None
        }
    };
    match (center, radius_km) {
        (Some(center), Some(radius_km)) if problems.is_empty() => Ok(Circle { center, radius_km }),
        _ => Err(problems),
    }
}

/// Writes a polygon in CAP form; [`parse_polygon`] reads it back equal.
pub fn format_polygon(polygon: &Polygon) -> String {
    let pairs: Vec<String> = polygon
        .points
        .iter()
        .map(|p| format!("{},{}", p.lat, p.lon))
        .collect();
    pairs.join(" ")
}

/// Writes a circle in CAP form; [`parse_circle`] reads it back equal.
pub fn format_circle(circle: &Circle) -> String {
    format!(
        "{},{} {}",
        circle.center.lat, circle.center.lon, circle.radius_km
    )
}

fn parse_point(pair: &str) -> Result<Point, &'static str> {
    let (lat, lon) = pair.split_once(',').ok_or("not a lat,lon pair")?;
    match (parse_decimal(lat), parse_decimal(lon)) {
        (Some(lat), Some(lon)) => Ok(Point { lat, lon }),
        _ => Err("coordinates are not decimal numbers"),
    }
}

fn range_problems(p: &Point, what: &str) -> Vec<GeometryProblem> {
    let mut out = Vec::new();
    if !(-90.0..=90.0).contains(&p.lat) {
        out.push(problem(
            rules::COORDINATE_RANGE,
            format!("{what}: latitude {} outside -90..90", p.lat),
        ));
    }
    if !(-180.0..=180.0).contains(&p.lon) {
        out.push(problem(
            rules::COORDINATE_RANGE,
            format!("{what}: longitude {} outside -180..180", p.lon),
        ));
    }
    out
}

/// A plain decimal: optional sign, digits, optional fraction.
pub(super) fn parse_decimal(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !plain(int) || !plain(frac) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_of(r: Result<impl std::fmt::Debug, Vec<GeometryProblem>>) -> Vec<&'static str> {
        r.err().unwrap_or_default().iter().map(|p| p.rule).collect()
    }

    #[test]
    fn polygon_rules() {
        let ok = "22.0,120.0 22.5,120.0 22.5,120.5 22.0,120.0";
        assert_eq!(parse_polygon(ok).unwrap().points.len(), 4);
        assert_eq!(
            rules_of(parse_polygon("22.0,120.0 22.5,120.0 22.5,120.5 22.0,120.1")),
            vec![rules::POLYGON_CLOSED]
        );
        assert_eq!(
            rules_of(parse_polygon("22.0,120.0 22.5,120.0 22.0,120.0")),
            vec![rules::POLYGON_POINTS]
        );
        assert_eq!(
            rules_of(parse_polygon("22.0,120.0 22.5,120.0 22.0,120.1")),
            vec![rules::POLYGON_POINTS, rules::POLYGON_CLOSED]
        );
        assert_eq!(
            rules_of(parse_polygon("91,120 22.5,181 22.5,120.5 91,120")),
            vec![
                rules::COORDINATE_RANGE,
                rules::COORDINATE_RANGE,
                rules::COORDINATE_RANGE
            ]
        );
        assert_eq!(
            rules_of(parse_polygon("22.0;120.0 22.5,120.0 22.5,1e2 22.0,120.0")),
            vec![rules::POLYGON_SYNTAX, rules::POLYGON_SYNTAX]
        );
        assert_eq!(rules_of(parse_polygon("")), vec![rules::POLYGON_POINTS]);
    }

    #[test]
    fn circle_rules() {
        let c = parse_circle(" 32.9525,-115.5527 0 ").unwrap();
        assert_eq!(
            (c.center.lat, c.center.lon, c.radius_km),
            (32.9525, -115.5527, 0.0)
        );
        assert_eq!(
            rules_of(parse_circle("32.9,-115.5")),
            vec![rules::CIRCLE_SYNTAX]
        );
        assert_eq!(
            rules_of(parse_circle("32.9,-115.5 -1")),
            vec![rules::CIRCLE_SYNTAX]
        );
        assert_eq!(
            rules_of(parse_circle("32.9,-115.5 1 2")),
            vec![rules::CIRCLE_SYNTAX]
        );
        assert_eq!(
            rules_of(parse_circle("-95,200 5")),
            vec![rules::COORDINATE_RANGE, rules::COORDINATE_RANGE]
        );
        assert_eq!(
            rules_of(parse_circle("NaN,1 5")),
            vec![rules::CIRCLE_SYNTAX]
        );
    }

    #[test]
    fn decimals_are_plain() {
        assert_eq!(parse_decimal("-23.5"), Some(-23.5));
        assert_eq!(parse_decimal("+121"), Some(121.0));
        assert_eq!(parse_decimal(".5"), Some(0.5));
        assert_eq!(parse_decimal("5."), Some(5.0));
        for bad in ["", "-", ".", "1e5", "inf", "NaN", "1,5", "0x10", " 1"] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
    }
}
