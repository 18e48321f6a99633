//! Alert areas: what a CAP `<area>` asks for, resolved and prepared for
//! searching.
//!
//! # Semantics
//! An area is the union of its polygons, circles and geocodes. A place
//! with a point is inside when a polygon or circle covers the point
//! (boundary included), or when its stored village is one a geocode names
//! (geocodes are matched by code, never by geometry). A place known only
//! to its village or town "may be affected" when a polygon or circle
//! intersects that village's or town's boundary, or when a geocode names a
//! village of its town; it is inside when a geocode names its village.
//! A geocode that cannot be resolved is an error: an alert is never
//! silently matched to nobody.

use cap::{Intensity, NamedValue};
use geo::{Intersects, LineString, MultiPolygon, Polygon};

use crate::circle::PreparedCircle;
use crate::codes::{AreaCodeError, AreaCodes, VillageCode};
use crate::index::CoarseArea;
use crate::polygon::PreparedPolygon;

/// A circle as CAP gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircleSpec {
    pub lon: f64,
    pub lat: f64,
    pub radius_km: f64,
}

/// One area of an alert, before preparation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AreaSpec {
    /// `areaDesc`, for error messages.
    pub description: String,
    pub polygons: Vec<MultiPolygon<f64>>,
    pub circles: Vec<CircleSpec>,
    pub geocodes: Vec<NamedValue>,
    /// Earthquakes: the local intensity in this area, as `cap::hazard` read it.
    pub intensity: Option<Intensity>,
}

impl AreaSpec {
    /// The area of a CAP `<area>` (CAP writes `lat,lon`; the model names
    /// both), with the intensity `cap::hazard` derived for it.
    pub fn from_cap(area: &cap::Area, intensity: Option<Intensity>) -> AreaSpec {
        AreaSpec {
            description: area.area_desc.clone(),
            polygons: area
                .polygons
                .iter()
                .map(|p| {
                    let ring: LineString<f64> = p.points.iter().map(|q| (q.lon, q.lat)).collect();
                    MultiPolygon::new(vec![Polygon::new(ring, vec![])])
                })
                .collect(),
            circles: area
                .circles
                .iter()
                .map(|c| CircleSpec {
                    lon: c.center.lon,
                    lat: c.center.lat,
                    radius_km: c.radius_km,
                })
                .collect(),
            geocodes: area.geocodes.clone(),
            intensity,
        }
    }
}

/// Why an area cannot be matched.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AreaError {
    #[error("area {area:?}: geocode {value_name}={value:?} cannot be resolved: {source}")]
    UnresolvedGeocode {
        area: String,
        value_name: String,
        value: String,
        source: AreaCodeError,
    },
    #[error("area {area:?}: geocode {value_name}={value:?} names no village")]
    EmptyGeocode {
        area: String,
        value_name: String,
        value: String,
    },
    #[error("area {area:?} has no polygon, circle or geocode")]
    Empty { area: String },
    #[error("area {area:?}: circle radius {radius_km} km is not a finite non-negative number")]
    BadRadius { area: String, radius_km: f64 },
}

/// Whether a place is surely inside, or only may be affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Presence {
    /// Known only to its village or town, which the area touches.
    MayBeAffected,
    /// Its point is covered, or a geocode names its village.
    Inside,
}

/// An area ready for searching.
#[derive(Debug, Clone)]
pub struct PreparedArea {
    pub(crate) description: String,
    pub(crate) polygons: Vec<(PreparedPolygon, MultiPolygon<f64>)>,
    pub(crate) circles: Vec<PreparedCircle>,
    /// Villages named by geocodes, sorted and without repeats.
    pub(crate) villages: Vec<VillageCode>,
    pub(crate) intensity: Option<Intensity>,
}

impl PreparedArea {
    /// Resolves geocodes through `codes` and prepares the shapes.
    pub fn prepare(spec: &AreaSpec, codes: &dyn AreaCodes) -> Result<PreparedArea, AreaError> {
        let area = || spec.description.clone();
        if spec.polygons.is_empty() && spec.circles.is_empty() && spec.geocodes.is_empty() {
            return Err(AreaError::Empty { area: area() });
        }
        let mut villages = Vec::new();
        for g in &spec.geocodes {
            let found = codes
                .villages_for_geocode(&g.value_name, &g.value)
                .map_err(|source| AreaError::UnresolvedGeocode {
                    area: area(),
                    value_name: g.value_name.clone(),
                    value: g.value.clone(),
                    source,
                })?;
            if found.is_empty() {
                return Err(AreaError::EmptyGeocode {
                    area: area(),
                    value_name: g.value_name.clone(),
                    value: g.value.clone(),
                });
            }
            villages.extend(found);
        }
        villages.sort_unstable();
        villages.dedup();
        let circles = spec
            .circles
            .iter()
            .map(|c| {
                if c.radius_km.is_finite() && c.radius_km >= 0.0 {
                    Ok(PreparedCircle::new(c.lon, c.lat, c.radius_km))
                } else {
                    Err(AreaError::BadRadius {
                        area: area(),
                        radius_km: c.radius_km,
                    })
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(PreparedArea {
            description: spec.description.clone(),
            polygons: spec
                .polygons
                .iter()
                .map(|p| (PreparedPolygon::new(p), p.clone()))
                .collect(),
            circles,
            villages,
            intensity: spec.intensity,
        })
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn intensity(&self) -> Option<Intensity> {
        self.intensity
    }

    /// Whether a place at a point (with its village, if known) is inside.
    pub fn covers_point(&self, lon: f64, lat: f64, village: Option<VillageCode>) -> bool {
        self.polygons.iter().any(|(p, _)| p.covers(lon, lat))
            || self.circles.iter().any(|c| c.covers(lon, lat))
            || village.is_some_and(|v| self.villages.binary_search(&v).is_ok())
    }

    /// How a place known only to a village or town relates to the area.
    pub(crate) fn coarse_presence(
        &self,
        at: CoarseArea,
        codes: &dyn AreaCodes,
    ) -> Option<Presence> {
        match at {
            CoarseArea::Village(v) if self.villages.binary_search(&v).is_ok() => {
                return Some(Presence::Inside);
            }
            CoarseArea::Town(t) if self.villages.iter().any(|v| v.town() == t) => {
                return Some(Presence::MayBeAffected);
            }
            _ => {}
        }
        if self.polygons.is_empty() && self.circles.is_empty() {
            return None;
        }
        let geometry = match at {
            CoarseArea::Village(v) => codes.village_geometry(v),
            CoarseArea::Town(t) => codes.town_geometry(t),
        }?;
        self.touches(geometry).then_some(Presence::MayBeAffected)
    }

    /// Whether a polygon or circle of the area shares a point with
    /// `geometry` (a village's or town's boundary); circles are tested
    /// exactly, as places are ([`PreparedCircle::intersects`]).
    pub fn touches(&self, geometry: &MultiPolygon<f64>) -> bool {
        self.polygons
            .iter()
            .any(|(_, shape)| shape.intersects(geometry))
            || self.circles.iter().any(|c| c.intersects(geometry))
    }

    /// Whether the area reaches village `code` (whose boundary is
    /// `geometry`): a geocode names it, or a shape touches it.
    pub fn reaches_village(&self, code: VillageCode, geometry: &MultiPolygon<f64>) -> bool {
        self.villages.binary_search(&code).is_ok() || self.touches(geometry)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codes::TownCode;
    use std::collections::HashMap;

    /// Three villages in a row, 0.1° wide, in town 10000010; a fourth in
    /// another town.
    pub(crate) struct TestCodes {
        villages: HashMap<VillageCode, MultiPolygon<f64>>,
        towns: HashMap<TownCode, MultiPolygon<f64>>,
    }

    pub(crate) fn square(x0: f64, y0: f64, w: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![Polygon::new(
            LineString::from(vec![
                (x0, y0),
                (x0 + w, y0),
                (x0 + w, y0 + w),
                (x0, y0 + w),
                (x0, y0),
            ]),
            vec![],
        )])
    }

    pub(crate) fn village(n: u64) -> VillageCode {
        VillageCode::parse(&format!("{:011}", n)).unwrap()
    }

    impl TestCodes {
        pub(crate) fn new() -> TestCodes {
            let mut villages = HashMap::new();
            for i in 0..3u64 {
                villages.insert(
                    village(10000010001 + i),
                    square(120.0 + 0.1 * i as f64, 23.0, 0.1),
                );
            }
            villages.insert(village(10000020001), square(121.0, 23.0, 0.1));
            let mut towns = HashMap::new();
            towns.insert(
                village(10000010001).town(),
                MultiPolygon::new(vec![Polygon::new(
                    LineString::from(vec![
                        (120.0, 23.0),
                        (120.3, 23.0),
                        (120.3, 23.1),
                        (120.0, 23.1),
                        (120.0, 23.0),
                    ]),
                    vec![],
                )]),
            );
            towns.insert(village(10000020001).town(), square(121.0, 23.0, 0.1));
            TestCodes { villages, towns }
        }
    }

    impl AreaCodes for TestCodes {
        fn villages_for_geocode(
            &self,
            value_name: &str,
            value: &str,
        ) -> Result<Vec<VillageCode>, AreaCodeError> {
            match value_name {
                "VILLCODE" => VillageCode::parse(value)
                    .filter(|v| self.villages.contains_key(v))
                    .map(|v| vec![v])
                    .ok_or_else(|| AreaCodeError::UnknownCode {
                        value_name: value_name.into(),
                        value: value.into(),
                    }),
                "TOWNCODE" => {
                    let t = TownCode::parse(value);
                    let mut found: Vec<VillageCode> = self
                        .villages
                        .keys()
                        .copied()
                        .filter(|v| Some(v.town()) == t)
                        .collect();
                    found.sort();
                    if found.is_empty() {
                        Err(AreaCodeError::UnknownCode {
                            value_name: value_name.into(),
                            value: value.into(),
                        })
                    } else {
                        Ok(found)
                    }
                }
                _ => Err(AreaCodeError::UnknownKind {
                    value_name: value_name.into(),
                }),
            }
        }
        fn village_geometry(&self, code: VillageCode) -> Option<&MultiPolygon<f64>> {
            self.villages.get(&code)
        }
        fn town_geometry(&self, code: TownCode) -> Option<&MultiPolygon<f64>> {
            self.towns.get(&code)
        }
    }

    pub(crate) fn geocode(name: &str, value: &str) -> NamedValue {
        NamedValue {
            value_name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn unresolvable_geocode_is_an_error_naming_it() {
        let codes = TestCodes::new();
        let spec = AreaSpec {
            description: "somewhere".into(),
            geocodes: vec![
                geocode("VILLCODE", "10000010001"),
                geocode("VILLCODE", "99999999999"),
            ],
            ..AreaSpec::default()
        };
        let err = PreparedArea::prepare(&spec, &codes).unwrap_err();
        assert!(
            matches!(&err, AreaError::UnresolvedGeocode { value, .. } if value == "99999999999")
        );
        assert!(err.to_string().contains("somewhere"));
        let empty = AreaSpec {
            description: "nothing".into(),
            ..AreaSpec::default()
        };
        assert!(matches!(
            PreparedArea::prepare(&empty, &codes),
            Err(AreaError::Empty { .. })
        ));
    }

    #[test]
    fn coarse_places_may_be_affected() {
        let codes = TestCodes::new();
        // A small square inside the second village only.
        let spec = AreaSpec {
            polygons: vec![square(120.12, 23.02, 0.01)],
            ..AreaSpec::default()
        };
        let area = PreparedArea::prepare(&spec, &codes).unwrap();
        let v = |n| CoarseArea::Village(village(n));
        assert_eq!(
            area.coarse_presence(v(10000010002), &codes),
            Some(Presence::MayBeAffected)
        );
        assert_eq!(area.coarse_presence(v(10000010001), &codes), None);
        assert_eq!(
            area.coarse_presence(CoarseArea::Town(village(10000010001).town()), &codes),
            Some(Presence::MayBeAffected)
        );
        assert_eq!(
            area.coarse_presence(CoarseArea::Town(village(10000020001).town()), &codes),
            None
        );
        // A geocode naming the village makes its places surely inside; the
        // town's other places may be affected.
        let spec = AreaSpec {
            geocodes: vec![geocode("VILLCODE", "10000010003")],
            ..AreaSpec::default()
        };
        let area = PreparedArea::prepare(&spec, &codes).unwrap();
        assert_eq!(
            area.coarse_presence(v(10000010003), &codes),
            Some(Presence::Inside)
        );
        assert_eq!(area.coarse_presence(v(10000010002), &codes), None);
        assert_eq!(
            area.coarse_presence(CoarseArea::Town(village(10000010001).town()), &codes),
            Some(Presence::MayBeAffected)
        );
    }

    #[test]
    fn cap_area_reads_lat_lon_in_order() {
        let cap = cap::Area {
            area_desc: "square".into(),
            polygons: vec![cap::Polygon {
                points: [
                    (23.0, 120.0),
                    (23.0, 120.1),
                    (23.1, 120.1),
                    (23.1, 120.0),
                    (23.0, 120.0),
                ]
                .iter()
                .map(|&(lat, lon)| cap::Point { lat, lon })
                .collect(),
            }],
            circles: vec![cap::Circle {
                center: cap::Point {
                    lat: 24.0,
                    lon: 121.0,
                },
                radius_km: 0.0,
            }],
            geocodes: vec![],
            altitude: None,
            ceiling: None,
        };
        let area =
            PreparedArea::prepare(&AreaSpec::from_cap(&cap, None), &crate::codes::NoAreaCodes)
                .unwrap();
        assert!(area.covers_point(120.05, 23.05, None));
        assert!(area.covers_point(121.0, 24.0, None));
        assert!(!area.covers_point(23.05, 120.05, None));
    }
}
