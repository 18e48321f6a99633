//! Writing CAP 1.2: from the console's compose form (hazard, area, level,
//! texts per language, expiry) to a message ingest will accept, and the
//! Cancel / correction messages derived from an alert in force.
//!
//! The XML is written by `cap::write` and read back with cap's parser
//! before it is returned, so a draft is always a valid CAP message. Exercises carry
//! `status` Exercise and a mark at the head of every headline, in that
//! headline's language. Updates and cancels name the earlier message in
//! `<references>`.

use std::collections::BTreeMap;

use cap::parse::{Limits, parse_document};
use cap::{
    Alert, Area, CapVersion, CapWord, Category, Circle, HazardKind, Info, MsgType, NamedValue,
    Point, Polygon, Reference, Scope, Status,
};
use chrono::{DateTime, FixedOffset, Offset as _, Utc};
use serde::Deserialize;

/// Why a form or message could not be written as CAP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// A field of the form that is not allowed, with its JSON path.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The bytes are not exactly one valid CAP message; every violation is
    /// listed.
    #[error("{reason}")]
    NotCap {
        reason: String,
        violations: Vec<cap::Violation>,
    },
    /// The service's own message catalogues lack a text (a bug).
    #[error("message catalogues: {0}")]
    Catalogues(String),
}

impl ComposeError {
    /// The JSON path of the field to blame, if one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            ComposeError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

type ComposeResult<T> = Result<T, ComposeError>;

/// Taiwan time, in which every message written here is dated.
const TAIWAN_OFFSET_SECS: i32 = 8 * 3600;
/// Eventcode list of Taiwan's CAP profile, which `cap::hazard` reads hazards from.
const TWP_EVENT: &str = "profile:CAP-TWP:Event:1.0";
/// Geocode table whose town and village codes are MOI's own.
const GEOCODE_TABLE: &str = "Taiwan_Geocode_112";
/// Circles larger than this are refused: a national warning is drawn with
/// codes, not a circle.
const MAX_RADIUS_KM: f64 = 300.0;
const MAX_POLYGON_POINTS: usize = 2000;

/// The area of a composed alert: exactly one of the three shapes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct AreaInput {
    /// `[[lon, lat], …]`; closed automatically when the last point differs.
    #[serde(default)]
    pub polygon: Option<Vec<[f64; 2]>>,
    /// MOI county (5), town (8) or village (11) codes.
    #[serde(default)]
    pub codes: Option<Vec<String>>,
    #[serde(default)]
    pub circle: Option<CircleInput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircleInput {
    pub lon: f64,
    pub lat: f64,
    pub radius_km: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextInput {
    pub headline: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub instruction: Option<String>,
}

/// The console's compose form (`POST /api/v1/drafts`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComposeRequest {
    /// `rainfall`, `flood`, `debris_flow`, `earthquake`, … (cap's hazard kinds).
    pub hazard: String,
    /// The event as people call it; defaults to the hazard's Chinese name.
    #[serde(default)]
    pub event: Option<String>,
    pub area: AreaInput,
    pub severity: String,
    pub urgency: String,
    pub certainty: String,
    /// `green`, `yellow`, `orange`, `red`.
    #[serde(default)]
    pub colour: Option<String>,
    /// Language tag → texts; `zh-TW` is required.
    pub texts: BTreeMap<String, TextInput>,
    pub expires: DateTime<FixedOffset>,
    #[serde(default)]
    pub exercise: bool,
    /// Alert id of the alert this one updates.
    #[serde(default)]
    pub references: Option<String>,
}

/// Who writes, and when.
#[derive(Debug, Clone)]
pub struct Authoring {
    pub sender: String,
    pub sender_name: String,
    pub now: DateTime<Utc>,
}

/// A CAP message ready to be written as XML.
#[derive(Debug, Clone)]
pub struct Message {
    pub alert: Alert,
}

fn invalid(field: &str, message: impl Into<String>) -> ComposeError {
    ComposeError::Invalid {
        field: field.to_owned(),
        reason: message.into(),
    }
}

pub fn taiwan_time(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(TAIWAN_OFFSET_SECS).unwrap_or_else(|| Utc.fix());
    // CAP times are whole seconds.
    let at = at.with_timezone(&offset);
    at - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&at)))
}

/// A fresh identifier: the sending date and 64 random bits.
pub fn new_identifier(now: DateTime<Utc>) -> String {
    let id = crate::ids::new_id("x");
    format!(
        "HZL-{}-{}",
        taiwan_time(now).format("%Y%m%d%H%M%S"),
        id.trim_start_matches("x_")
    )
}

fn hazard_kind(name: &str) -> Option<HazardKind> {
    HazardKind::ALL.into_iter().find(|k| k.as_str() == name)
}

/// Taiwan CAP profile event code, CAP category and Chinese name of a
/// hazard.
fn hazard_codes(kind: HazardKind) -> (&'static str, Category, &'static str) {
    use HazardKind::*;
    match kind {
        Rainfall => ("rainfall", Category::Met, "大雨"),
        Flood => ("flood", Category::Met, "淹水"),
        DebrisFlow => ("debrisFlow", Category::Geo, "土石流"),
        Earthquake => ("earthquake", Category::Geo, "地震"),
        Typhoon => ("typhoon", Category::Met, "颱風"),
        Thunderstorm => ("thunderstorm", Category::Met, "雷雨"),
        Tsunami => ("tsunami", Category::Geo, "海嘯"),
        Heat => ("heat", Category::Met, "高溫"),
        Cold => ("cold", Category::Met, "低溫"),
        Fog => ("fog", Category::Met, "濃霧"),
        Wind => ("wind", Category::Met, "強風"),
        Other => ("other", Category::Other, "災害"),
    }
}

/// The shipped message catalogues, which hold every word written here.
fn catalogues() -> ComposeResult<&'static notifier::Renderer> {
    notifier::render::shipped().map_err(|e| ComposeError::Catalogues(e.to_string()))
}

/// What an area the office drew (a polygon or a circle) is called in
/// `locale`, from the catalogue; `None` for an area given by codes, which
/// is named by its places.
fn drawn_area_desc(input: &AreaInput, locale: notifier::Locale) -> ComposeResult<Option<String>> {
    let catalogues = catalogues()?;
    if input.polygon.is_some() {
        return catalogues
            .fixed_text(locale, "area-drawn")
            .map(|text| Some(text.to_owned()))
            .ok_or_else(|| ComposeError::Catalogues("no area-drawn text".into()));
    }
    if let Some(circle) = &input.circle {
        return catalogues
            .area_within(locale, &circle.radius_km.to_string())
            .map(Some)
            .map_err(|e| ComposeError::Catalogues(e.to_string()));
    }
    Ok(None)
}

/// The catalogue locale of a CAP `<info>` language; a language the service
/// does not write reads English.
fn locale_of(language: &str) -> notifier::Locale {
    notifier::Locale::from_language_tag(language).unwrap_or(notifier::Locale::En)
}

/// `headline` with the catalogue's exercise mark of its language at the
/// head when `exercise` (once: a headline already marked is left alone).
fn marked(language: &str, headline: &str, exercise: bool) -> ComposeResult<String> {
    let mark = catalogues()?.exercise_marker(locale_of(language));
    Ok(if exercise && !headline.starts_with(mark) {
        format!("{mark} {headline}")
    } else {
        headline.to_owned()
    })
}

fn one_of<'a>(field: &str, value: &'a str, allowed: &[&'a str]) -> ComposeResult<&'a str> {
    allowed
        .iter()
        .find(|a| **a == value)
        .copied()
        .ok_or_else(|| invalid(field, format!("one of {}", allowed.join(", "))))
}

/// A CAP enumeration given by its word, checked against cap's word table.
fn cap_word<T: CapWord>(field: &str, value: &str) -> ComposeResult<T> {
    T::from_word(value).ok_or_else(|| {
        let words: Vec<&str> = T::WORDS.iter().map(|(w, _)| *w).collect();
        invalid(field, format!("one of {}", words.join(", ")))
    })
}

/// Builds the CAP area of a compose form; codes are checked against the
/// atlas, coordinates for range and shape.
pub fn area_of(atlas: &geodata::Atlas, input: &AreaInput) -> ComposeResult<Area> {
    let given = [
        input.polygon.is_some(),
        input.codes.is_some(),
        input.circle.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        return Err(invalid(
            "area",
            "give exactly one of polygon, codes or circle",
        ));
    }
    let in_range = |lon: f64, lat: f64| {
        lon.is_finite()
            && lat.is_finite()
            && (-180.0..=180.0).contains(&lon)
            && (-90.0..=90.0).contains(&lat)
    };
    if let Some(points) = &input.polygon {
        if points.len() < 3 || points.len() > MAX_POLYGON_POINTS {
            return Err(invalid(
                "area.polygon",
                format!("3 to {MAX_POLYGON_POINTS} points [lon, lat]"),
            ));
        }
        if let Some(i) = points.iter().position(|[lon, lat]| !in_range(*lon, *lat)) {
            return Err(invalid(
                &format!("area.polygon[{i}]"),
                "longitude -180..180, latitude -90..90",
            ));
        }
        let mut ring: Vec<Point> = points
            .iter()
            .map(|[lon, lat]| Point {
                lat: *lat,
                lon: *lon,
            })
            .collect();
        if ring.first() != ring.last() {
            ring.push(ring[0]);
        }
        if ring.len() < 4 {
            return Err(invalid("area.polygon", "at least three distinct points"));
        }
        check_drawn_polygon(points)?;
        return Ok(Area {
            polygons: vec![Polygon { points: ring }],
            ..area(drawn_area_desc(input, notifier::Locale::ZhTw)?.unwrap_or_default())
        });
    }
    if let Some(circle) = &input.circle {
        if !in_range(circle.lon, circle.lat) {
            return Err(invalid(
                "area.circle",
                "longitude -180..180, latitude -90..90",
            ));
        }
        if !(circle.radius_km > 0.0 && circle.radius_km <= MAX_RADIUS_KM) {
            return Err(invalid(
                "area.circle.radius_km",
                format!("more than 0 and at most {MAX_RADIUS_KM} km"),
            ));
        }
        return Ok(Area {
            circles: vec![Circle {
                center: Point {
                    lat: circle.lat,
                    lon: circle.lon,
                },
                radius_km: circle.radius_km,
            }],
            ..area(drawn_area_desc(input, notifier::Locale::ZhTw)?.unwrap_or_default())
        });
    }
    let codes = input.codes.as_deref().unwrap_or_default();
    if codes.is_empty() {
        return Err(invalid("area.codes", "at least one area code"));
    }
    let mut names = Vec::new();
    let mut geocodes = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let Some(area) = atlas.area(code) else {
            return Err(invalid(
                &format!("area.codes[{i}]"),
                format!("`{code}` is not a known county, town or village code"),
            ));
        };
        names.push(atlas.full_name(area));
        let Some(geocode) = geocode_for(atlas, area) else {
            return Err(invalid(
                &format!("area.codes[{i}]"),
                format!("`{code}` has no Taiwan_Geocode value in the loaded code tables"),
            ));
        };
        geocodes.push(geocode);
    }
    Ok(Area {
        geocodes,
        ..area(names.join("、"))
    })
}

/// An area with only its description.
fn area(area_desc: String) -> Area {
    Area {
        area_desc,
        polygons: Vec::new(),
        circles: Vec::new(),
        geocodes: Vec::new(),
        altitude: None,
        ceiling: None,
    }
}

/// The CAP geocode that names exactly `area`: the 112 table (MOI's own
/// codes; counties padded to 8 digits) when the loaded tables have it, else
/// the newest older edition whose entry maps to the area. Checked by
/// resolving it back, so every receiver reading the same tables agrees.
fn geocode_for(atlas: &geodata::Atlas, area: &geodata::Area) -> Option<NamedValue> {
    let resolves_to_area = |table: &str, value: &str| {
        atlas
            .resolve_geocode(table, value)
            .is_ok_and(|r| r.moi_code == area.code)
    };
    let moi_value = match area.level {
        geodata::codes::Level::County => format!("{}000", area.code),
        _ => area.code.clone(),
    };
    if resolves_to_area(GEOCODE_TABLE, &moi_value) {
        return Some(NamedValue {
            value_name: GEOCODE_TABLE.to_owned(),
            value: moi_value,
        });
    }
    let mut entries: Vec<&geodata::CodeEntry> = atlas
        .code_entries()
        .iter()
        .filter(|e| e.moi_code.as_deref() == Some(area.code.as_str()))
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.table.edition()));
    entries.into_iter().find_map(|e| {
        let table = e.table.value_name();
        resolves_to_area(&table, &e.code).then(|| NamedValue {
            value_name: table,
            value: e.code.clone(),
        })
    })
}

/// The message a compose form describes. `updates` is the alert in force it
/// updates, when `references` names one.
pub fn compose(
    atlas: &geodata::Atlas,
    request: &ComposeRequest,
    who: &Authoring,
    updates: Option<&Alert>,
) -> ComposeResult<Message> {
    let kind = hazard_kind(&request.hazard).ok_or_else(|| {
        let names: Vec<&str> = HazardKind::ALL.iter().map(|k| k.as_str()).collect();
        invalid("hazard", format!("one of {}", names.join(", ")))
    })?;
    let severity = cap_word("severity", &request.severity)?;
    let urgency = cap_word("urgency", &request.urgency)?;
    let certainty = cap_word("certainty", &request.certainty)?;
    let colour = match &request.colour {
        Some(c) => Some(one_of("colour", c, &["green", "yellow", "orange", "red"])?),
        None => None,
    };
    if !request.texts.contains_key("zh-TW") {
        return Err(invalid("texts", "a zh-TW text is required"));
    }
    for (language, text) in &request.texts {
        if notifier::Locale::from_language_tag(language).is_none() {
            return Err(invalid(
                &format!("texts.{language}"),
                "a language the service writes (zh-TW, en, ja, ko, th, vi, fil, id)",
            ));
        }
        if text.headline.trim().is_empty() {
            return Err(invalid(
                &format!("texts.{language}.headline"),
                "a headline is required",
            ));
        }
    }
    let sent = taiwan_time(who.now);
    if request.expires <= sent {
        return Err(invalid("expires", "must be in the future"));
    }
    let area = area_of(atlas, &request.area)?;
    let (event_code, category, event_name) = hazard_codes(kind);
    let event = request
        .event
        .clone()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| event_name.to_owned());
    // zh-TW first: the engine reads the Chinese block as the primary one.
    let mut languages: Vec<&String> = request.texts.keys().collect();
    languages.sort_by_key(|l| (l.as_str() != "zh-TW", l.to_string()));
    let infos = languages
        .into_iter()
        .map(|language| {
            let text = &request.texts[language];
            Ok(Info {
                language: language.clone(),
                categories: vec![category],
                event: event.clone(),
                response_types: Vec::new(),
                urgency,
                severity,
                certainty,
                audience: None,
                event_codes: vec![NamedValue {
                    value_name: TWP_EVENT.to_owned(),
                    value: event_code.to_owned(),
                }],
                effective: None,
                onset: None,
                expires: Some(request.expires),
                sender_name: Some(who.sender_name.clone()),
                headline: Some(marked(language, text.headline.trim(), request.exercise)?),
                description: text.description.clone().filter(|d| !d.trim().is_empty()),
                instruction: text.instruction.clone().filter(|d| !d.trim().is_empty()),
                web: None,
                contact: None,
                parameters: colour
                    .map(|c| {
                        vec![NamedValue {
                            value_name: "alert_color".to_owned(),
                            value: c.to_owned(),
                        }]
                    })
                    .unwrap_or_default(),
                resources: Vec::new(),
                areas: vec![Area {
                    area_desc: drawn_area_desc(&request.area, locale_of(language))?
                        .unwrap_or_else(|| area.area_desc.clone()),
                    ..area.clone()
                }],
            })
        })
        .collect::<ComposeResult<Vec<_>>>()?;
    let status = if request.exercise {
        Status::Exercise
    } else {
        Status::Actual
    };
    let msg_type = if updates.is_some() {
        MsgType::Update
    } else {
        MsgType::Alert
    };
    let note = request
        .exercise
        .then(|| "EXERCISE 演習 — not a real alert".to_owned());
    let references = updates.map(Reference::to).into_iter().collect();
    Ok(message(who, status, msg_type, note, references, infos))
}

/// A CAP 1.2 public message from `who`, sent now.
fn message(
    who: &Authoring,
    status: Status,
    msg_type: MsgType,
    note: Option<String>,
    references: Vec<Reference>,
    infos: Vec<Info>,
) -> Message {
    Message {
        alert: Alert {
            cap_version: CapVersion::V1_2,
            identifier: new_identifier(who.now),
            sender: who.sender.clone(),
            sent: taiwan_time(who.now),
            status,
            msg_type,
            source: None,
            scope: Scope::Public,
            restriction: None,
            addresses: Vec::new(),
            codes: Vec::new(),
            note,
            references,
            incidents: Vec::new(),
            infos,
        },
    }
}

/// Why an alert in force ends.
#[derive(Debug, Clone)]
pub enum Ending {
    /// The danger is over or the warning is withdrawn, with the office's
    /// reason.
    Cancel { reason: String },
    /// The alert was sent in error: everyone told is told so.
    Correction { text: Option<String> },
}

/// A Cancel of `alert` (an alert in force) with the same areas and facts,
/// so that the engine tells exactly the people it told.
pub fn ending(alert: &Alert, ending: &Ending, who: &Authoring) -> ComposeResult<Message> {
    let catalogues = catalogues()?;
    let correction_notice = |locale| {
        catalogues
            .fixed_text(locale, "correction-notice")
            .ok_or_else(|| ComposeError::Catalogues("no correction-notice text".into()))
    };
    let exercise = alert.status != Status::Actual;
    let mut infos: Vec<Info> = alert.infos.iter().map(ending_info).collect();
    let correction = matches!(ending, Ending::Correction { .. });
    for info in &mut infos {
        let locale = locale_of(&info.language);
        match ending {
            Ending::Cancel { reason } => {
                let headline = catalogues
                    .ending_headline(locale, &info.event)
                    .map_err(|e| ComposeError::Catalogues(e.to_string()))?;
                info.headline = Some(marked(&info.language, &headline, exercise)?);
                info.description = Some(reason.clone()).filter(|r| !r.trim().is_empty());
                info.instruction = None;
            }
            Ending::Correction { text } => {
                let standard = correction_notice(locale)?;
                let instruction = match text {
                    Some(extra) if info.language.starts_with("zh") && !extra.trim().is_empty() => {
                        format!("{standard}{}", extra.trim())
                    }
                    _ => standard.to_owned(),
                };
                info.headline = Some(marked(&info.language, standard, exercise)?);
                info.description = None;
                info.instruction = Some(instruction);
            }
        }
    }
    // Each language the service writes and the original lacked gets its own
    // correction block, so every recipient reads it in their language.
    if correction && let Some(template) = infos.first().cloned() {
        for locale in notifier::Locale::ALL {
            if infos
                .iter()
                .any(|i| notifier::Locale::from_language_tag(&i.language) == Some(locale))
            {
                continue;
            }
            let text = correction_notice(locale)?;
            infos.push(Info {
                language: locale.tag().to_owned(),
                headline: Some(marked(locale.tag(), text, exercise)?),
                instruction: Some(text.to_owned()),
                ..template.clone()
            });
        }
    }
    let note = if correction {
        "correction: sent in error"
    } else {
        "cancel"
    };
    Ok(message(
        who,
        alert.status,
        MsgType::Cancel,
        Some(note.to_owned()),
        vec![Reference::to(alert)],
        infos,
    ))
}

/// The facts of an `<info>` a Cancel repeats: language, first category,
/// event, urgency, severity, certainty, the Taiwan profile event code,
/// expiry, sender name, texts (rewritten by the caller), parameters and
/// areas.
fn ending_info(info: &Info) -> Info {
    Info {
        language: info.language.clone(),
        categories: vec![info.categories.first().copied().unwrap_or(Category::Other)],
        event: info.event.clone(),
        response_types: Vec::new(),
        urgency: info.urgency,
        severity: info.severity,
        certainty: info.certainty,
        audience: None,
        event_codes: info
            .event_codes
            .iter()
            .filter(|c| c.value_name == TWP_EVENT)
            .take(1)
            .cloned()
            .collect(),
        effective: None,
        onset: None,
        expires: info.expires,
        sender_name: info.sender_name.clone(),
        headline: info.headline.clone(),
        description: info.description.clone(),
        instruction: info.instruction.clone(),
        web: None,
        contact: None,
        parameters: info.parameters.clone(),
        resources: Vec::new(),
        areas: info.areas.clone(),
    }
}

impl Message {
    pub fn to_xml(&self) -> String {
        cap::write_alert(&self.alert)
    }

    /// Writes the message and reads it back with cap's parser.
    pub fn to_checked_xml(&self) -> ComposeResult<(String, Alert)> {
        let xml = self.to_xml();
        let alert = read_one(xml.as_bytes())?;
        Ok((xml, alert))
    }
}

/// Reads exactly one valid CAP message; anything else is `cap_rejected`
/// with every violation listed.
/// A drawn area must enclose something and must not cross itself: matching
/// would read a bow-tie as two areas or none, and people in a sliver of
/// zero width are never inside. Feed CAP keeps its leniency (the parser warns);
/// an office drawing on the console can always redraw.
fn check_drawn_polygon(points: &[[f64; 2]]) -> ComposeResult<()> {
    use geo::algorithm::validation::InvalidPolygon;
    use geo::{Area, LineString, Polygon, Validation};
    let exterior: LineString = points.iter().map(|[lon, lat]| (*lon, *lat)).collect();
    let polygon = Polygon::new(exterior, vec![]);
    // A bow-tie's signed halves cancel, so crossing is asked first.
    let crosses = polygon
        .validation_errors()
        .iter()
        .any(|e| matches!(e, InvalidPolygon::SelfIntersection(_)));
    if crosses {
        return Err(invalid(
            "area.polygon",
            "the polygon's edges cross each other; draw its outline without crossing",
        ));
    }
    if polygon.unsigned_area() <= 0.0 {
        return Err(invalid(
            "area.polygon",
            "the polygon encloses no area (its points lie on one line)",
        ));
    }
    if !polygon.is_valid() {
        return Err(invalid(
            "area.polygon",
            "the polygon's edges cross or touch each other; draw its outline without crossing",
        ));
    }
    Ok(())
}

pub fn read_one(bytes: &[u8]) -> ComposeResult<Alert> {
    let not_cap = |reason: String| ComposeError::NotCap {
        reason,
        violations: Vec::new(),
    };
    let document = parse_document(bytes, &Limits::default())
        .map_err(|e| not_cap(format!("not a CAP document: {e}")))?;
    let mut messages = document.messages;
    if messages.len() != 1 {
        return Err(not_cap(format!(
            "expected one CAP message, found {}",
            messages.len()
        )));
    }
    let message = messages.remove(0);
    match message.alert {
        Some(alert) => Ok(alert),
        None => Err(ComposeError::NotCap {
            reason: "the CAP message is invalid".into(),
            violations: message.violations,
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn who() -> Authoring {
        Authoring {
            sender: "wudao@issuers.hazardline.invalid".into(),
            sender_name: "霧島縣災害應變中心".into(),
            now: Utc.with_ymd_and_hms(2026, 11, 22, 2, 0, 0).unwrap(),
        }
    }

    fn request(area: serde_json::Value, exercise: bool) -> ComposeRequest {
        serde_json::from_value(serde_json::json!({
            "hazard": "debris_flow",
            "area": area,
            "severity": "Severe", "urgency": "Immediate", "certainty": "Likely",
            "colour": "red",
            "texts": {
                "en": {"headline": "Debris flow warning", "instruction": "Leave the valley <now> & go uphill"},
                "zh-TW": {"headline": "土石流紅色警戒", "instruction": "立即撤離"}
            },
            "expires": "2026-11-22T18:00:00+08:00",
            "exercise": exercise
        }))
        .unwrap()
    }

    #[test]
    fn composed_codes_alert_reads_back_with_every_fact() {
        let atlas = geodata::demo::atlas();
        let req = request(
            serde_json::json!({"codes": ["99000010", "99000020001"]}),
            false,
        );
        let (xml, alert) = compose(&atlas, &req, &who(), None)
            .unwrap()
            .to_checked_xml()
            .unwrap();
        assert!(xml.contains("&lt;now&gt; &amp;"));
        assert_eq!(alert.status, Status::Actual);
        assert_eq!(alert.infos.len(), 2);
        assert_eq!(alert.infos[0].language, "zh-TW");
        let info = &alert.infos[0];
        assert_eq!(cap::hazard::info_hazard(info), HazardKind::DebrisFlow);
        assert_eq!(cap::hazard::info_colour(info), cap::Colour::Red);
        let villages = engine::relay::villages_covered(&atlas, &alert).unwrap();
        assert_eq!(villages.len(), 5, "{villages:?}");
        assert!(villages.contains("99000020001"));
    }

    #[test]
    fn exercises_are_marked_in_every_headline() {
        let atlas = geodata::demo::atlas();
        let req = request(
            serde_json::json!({"circle": {"lon": 123.1, "lat": 23.1, "radius_km": 2.0}}),
            true,
        );
        let (_, alert) = compose(&atlas, &req, &who(), None)
            .unwrap()
            .to_checked_xml()
            .unwrap();
        assert_eq!(alert.status, Status::Exercise);
        let headlines: Vec<&str> = alert
            .infos
            .iter()
            .map(|i| i.headline.as_deref().unwrap())
            .collect();
        assert_eq!(
            headlines,
            ["【演習】 土石流紅色警戒", "[EXERCISE] Debris flow warning"]
        );
    }

    #[test]
    fn degenerate_and_self_intersecting_polygons_are_refused() {
        let atlas = geodata::demo::atlas();
        for (points, word) in [
            (
                serde_json::json!([[123.0, 23.0], [123.1, 23.0], [123.2, 23.0]]),
                "no area",
            ),
            (
                serde_json::json!([[123.0, 23.0], [123.1, 23.1], [123.1, 23.0], [123.0, 23.1]]),
                "cross",
            ),
        ] {
            let req = request(serde_json::json!({ "polygon": points }), false);
            let Err(error) = compose(&atlas, &req, &who(), None) else {
                panic!("{points} was accepted");
            };
            assert_eq!(error.field(), Some("area.polygon"));
            assert!(error.to_string().contains(word), "{error}");
        }
    }

    #[test]
    fn polygon_is_closed_and_written_lat_first() {
        let atlas = geodata::demo::atlas();
        let req = request(
            serde_json::json!({"polygon": [[123.0, 23.0], [123.1, 23.0], [123.1, 23.1]]}),
            false,
        );
        let (_, alert) = compose(&atlas, &req, &who(), None)
            .unwrap()
            .to_checked_xml()
            .unwrap();
        let ring = &alert.infos[0].areas[0].polygons[0].points;
        assert_eq!(ring.len(), 4);
        assert_eq!((ring[1].lon, ring[1].lat), (123.1, 23.0));
    }

    #[test]
    fn bad_forms_name_the_field() {
        let atlas = geodata::demo::atlas();
        let mut req = request(serde_json::json!({"codes": ["12345678"]}), false);
        assert_eq!(
            compose(&atlas, &req, &who(), None).unwrap_err().field(),
            Some("area.codes[0]")
        );
        req.area = serde_json::from_value(serde_json::json!({"codes": ["99000010"]})).unwrap();
        req.severity = "Terrible".into();
        assert_eq!(
            compose(&atlas, &req, &who(), None).unwrap_err().field(),
            Some("severity")
        );
        req.severity = "Severe".into();
        req.texts.remove("zh-TW");
        assert_eq!(
            compose(&atlas, &req, &who(), None).unwrap_err().field(),
            Some("texts")
        );
    }

    #[test]
    fn correction_cancels_with_the_same_areas_in_every_language() {
        let atlas = geodata::demo::atlas();
        let req = request(serde_json::json!({"codes": ["99000010"]}), false);
        let (_, original) = compose(&atlas, &req, &who(), None)
            .unwrap()
            .to_checked_xml()
            .unwrap();
        let mut later = who();
        later.now += chrono::Duration::minutes(5);
        let message = ending(&original, &Ending::Correction { text: None }, &later).unwrap();
        let (_, cancel) = message.to_checked_xml().unwrap();
        assert_eq!(cancel.msg_type, MsgType::Cancel);
        assert_eq!(cancel.references[0].identifier, original.identifier);
        assert_eq!(cancel.infos.len(), 8);
        assert!(
            cancel
                .infos
                .iter()
                .all(|i| i.areas == original.infos[0].areas)
        );
        assert!(
            cancel.infos[0]
                .instruction
                .as_deref()
                .unwrap()
                .starts_with("更正")
        );
    }

    /// Every word an ending writes comes from the catalogue of the block's
    /// language: the Cancel headline and the correction text, marked as an
    /// exercise with the catalogue's own mark.
    #[test]
    fn ending_texts_come_from_the_catalogues_in_each_language() {
        let atlas = geodata::demo::atlas();
        let catalogues = notifier::render::shipped().unwrap();
        let req = request(serde_json::json!({"codes": ["99000010"]}), true);
        let (_, original) = compose(&atlas, &req, &who(), None)
            .unwrap()
            .to_checked_xml()
            .unwrap();
        let cancel = ending(
            &original,
            &Ending::Cancel {
                reason: String::new(),
            },
            &who(),
        )
        .unwrap();
        let (_, cancel) = cancel.to_checked_xml().unwrap();
        for info in &cancel.infos {
            let locale = notifier::Locale::from_language_tag(&info.language).unwrap();
            let expected = format!(
                "{} {}",
                catalogues.exercise_marker(locale),
                catalogues.ending_headline(locale, &info.event).unwrap()
            );
            assert_eq!(info.headline.as_deref(), Some(expected.as_str()));
        }
        let correction = ending(&original, &Ending::Correction { text: None }, &who()).unwrap();
        let (_, correction) = correction.to_checked_xml().unwrap();
        let vi = correction
            .infos
            .iter()
            .find(|i| i.language == "vi")
            .expect("a Vietnamese block is added");
        let text = catalogues
            .fixed_text(notifier::Locale::Vi, "correction-notice")
            .unwrap();
        assert_eq!(vi.instruction.as_deref(), Some(text));
        assert!(vi.headline.as_deref().unwrap().starts_with("[DIỄN TẬP]"));
    }

    /// A drawn area is described in each block's own language, from the
    /// catalogues.
    #[test]
    fn drawn_areas_are_described_in_each_language() {
        let atlas = geodata::demo::atlas();
        let catalogues = notifier::render::shipped().unwrap();
        let req = request(
            serde_json::json!({"circle": {"lon": 123.1, "lat": 23.1, "radius_km": 2.5}}),
            false,
        );
        let (_, alert) = compose(&atlas, &req, &who(), None)
            .unwrap()
            .to_checked_xml()
            .unwrap();
        for info in &alert.infos {
            let locale = notifier::Locale::from_language_tag(&info.language).unwrap();
            assert_eq!(
                info.areas[0].area_desc,
                catalogues.area_within(locale, "2.5").unwrap()
            );
        }
        assert_ne!(
            alert.infos[0].areas[0].area_desc,
            alert.infos[1].areas[0].area_desc
        );
        let req = request(
            serde_json::json!({"polygon": [[123.1, 23.1], [123.2, 23.1], [123.2, 23.2]]}),
            false,
        );
        let (_, alert) = compose(&atlas, &req, &who(), None)
            .unwrap()
            .to_checked_xml()
            .unwrap();
        let en = alert.infos.iter().find(|i| i.language == "en").unwrap();
        assert_eq!(
            Some(en.areas[0].area_desc.as_str()),
            catalogues.fixed_text(notifier::Locale::En, "area-drawn")
        );
    }
}
