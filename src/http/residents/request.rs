//! The residents' request bodies and their validation into the store's
//! records. Every refusal names the JSON path of the field to blame
//! (`devices[0].address`) and a stable code; no message repeats the value,
//! since most of these fields are personal data.

use cap::{Colour, HazardKind, Intensity};
use notifier::Locale;
use notifier::outbound::OutboundPolicy;
use serde::Deserialize;
use store::{Device, DeviceChannel, PreferencesRecord, RelayNeed, Sensitive};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};

/// Places a subscriber may register (home, work, parents, …).
pub const MAX_PLACES: usize = 10;
/// Devices a subscriber may register.
pub const MAX_DEVICES: usize = 5;
/// A place label is a name, not a note.
pub const MAX_LABEL_CHARS: usize = 40;
/// The longest Taiwanese postal address is well under 100 characters.
pub const MAX_ADDRESS_CHARS: usize = 200;
pub const MAX_RELAY_NAME_CHARS: usize = 80;
pub const MAX_RELAY_NOTE_CHARS: usize = 300;
/// Location sharing lasts at most a day; the traveller renews it.
pub const MAX_LOCATION_TTL_MINUTES: u32 = 24 * 60;
/// Rainfall warning levels residents may set as a threshold, least serious
/// first (CWA: 大雨, 豪雨, 大豪雨, 超大豪雨).
pub const RAINFALL_LEVELS: [&str; 4] = [
    "heavy",
    "extremely_heavy",
    "torrential",
    "extremely_torrential",
];

// The limits in the `#[schema]` attributes below are this module's
// constants; a test in `openapi` checks that they agree.

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(value_type = crate::schemas::Locale)]
    pub locale: String,
    #[serde(default)]
    #[schema(max_items = 5)]
    pub devices: Vec<DeviceRequest>,
    #[serde(default)]
    #[schema(max_items = 10)]
    pub places: Vec<PlaceRequest>,
    #[serde(default)]
    pub preferences: Option<PreferencesRequest>,
}

/// Only the fields given are changed; `devices` replaces every device.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRequest {
    #[schema(value_type = Option<crate::schemas::Locale>)]
    pub locale: Option<String>,
    #[schema(max_items = 5)]
    pub devices: Option<Vec<DeviceRequest>>,
    pub preferences: Option<PreferencesRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    #[schema(value_type = crate::schemas::Channel)]
    pub channel: DeviceChannel,
    /// FCM registration token (32–4096 of A–Z a–z 0–9 - _ : .), MQTT
    /// device id (1–64 of A–Z a–z 0–9 - _), e-mail address, phone number
    /// in E.164 (`+886912345678`) or webhook URL (http/https, at most 2048
    /// characters, no user name or password; its host must be a public
    /// address or resolve to one: loopback, private, link-local, shared,
    /// multicast and reserved addresses are refused unless the operator
    /// allows them in `[channels.webhook] allow`; redirects are not
    /// followed).
    pub address: String,
    /// Webhook signing secret; webhooks only, required for them.
    #[schema(min_length = 16, max_length = 256)]
    pub secret: Option<String>,
}

/// A place by address (geocoded) or by point (located).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PlaceRequest {
    /// A Taiwanese address, geocoded: an ambiguous one is refused
    /// (`address_ambiguous`, candidates in `details`).
    Address {
        #[schema(min_length = 1, max_length = 40)]
        label: String,
        #[schema(min_length = 1, max_length = 200)]
        address: String,
    },
    /// A point, located in its village (`outside_coverage` when in none).
    Point {
        #[schema(min_length = 1, max_length = 40)]
        label: String,
        #[schema(minimum = -180, maximum = 180)]
        lon: f64,
        #[schema(minimum = -90, maximum = 90)]
        lat: f64,
    },
}

impl PlaceRequest {
    pub fn label(&self) -> &str {
        match self {
            PlaceRequest::Address { label, .. } | PlaceRequest::Point { label, .. } => label,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    /// Hazards to be told about; empty: every hazard.
    #[serde(default)]
    #[schema(value_type = Vec<crate::schemas::Hazard>)]
    pub kinds: Vec<String>,
    #[schema(value_type = Option<crate::schemas::Colour>)]
    pub min_colour: Option<String>,
    #[schema(value_type = Option<crate::schemas::Intensity>)]
    pub min_intensity: Option<String>,
    #[schema(value_type = Option<crate::schemas::Rainfall>)]
    pub min_rainfall: Option<String>,
    /// Further languages to be told in.
    #[serde(default)]
    #[schema(value_type = Vec<crate::schemas::Locale>, max_items = 8)]
    pub languages: Vec<String>,
    /// Also receive exercises and tests.
    #[serde(default)]
    pub exercises: bool,
    pub quiet_hours: Option<QuietHoursRequest>,
}

/// Taiwan time; may wrap past midnight.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHoursRequest {
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub start: String,
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub end: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationRequest {
    #[schema(minimum = -180, maximum = 180)]
    pub lon: f64,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    /// How long the point is kept.
    #[schema(minimum = 1, maximum = 1440)]
    pub ttl_minutes: u32,
}

/// Names and notes must not contain invisible or direction-changing
/// characters (bidi controls, zero-width characters, other format or
/// control characters): `invalid_field` naming the field and the code
/// point.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelayRequest {
    #[schema(min_length = 1, max_length = 80)]
    pub name: String,
    /// E.164.
    pub phone: Option<String>,
    #[schema(max_length = 300)]
    pub note: Option<String>,
    /// MOI village code of one of the resident's places (any other is
    /// refused, `invalid_field`); default: the first place's village.
    pub village: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::field(ErrorCode::InvalidField, field, message)
}

/// The canonical tag of one of the eight supported locales (`zh-Hant-TW`
/// and other spellings a device reports are accepted).
pub fn locale(tag: &str, field: &str) -> Result<String, ApiError> {
    tag.parse::<Locale>()
        .map(|l| l.tag().to_string())
        .map_err(|_| {
            invalid(
                field,
                "unsupported locale (supported: zh-TW, en, ja, ko, th, vi, fil, id)",
            )
        })
}

/// Text a person typed: trimmed, not empty, at most `max` characters, no
/// invisible or direction-changing characters (the rule is
/// [`crate::serve::staff_text`]'s: addresses, labels and relay texts may
/// all end up in front of staff).
pub fn text(value: &str, field: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("at most {max} characters")));
    }
    crate::serve::staff_text::refuse_hidden(value, field)?;
    Ok(value.to_string())
}

pub fn label(value: &str, field: &str) -> Result<String, ApiError> {
    text(value, field, MAX_LABEL_CHARS)
}

pub fn coordinates(lon: f64, lat: f64, field: &str) -> Result<(f64, f64), ApiError> {
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(invalid(
            &format!("{field}lon"),
            "longitude must be in -180..180",
        ));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(invalid(
            &format!("{field}lat"),
            "latitude must be in -90..90",
        ));
    }
    Ok((lon, lat))
}

/// E.164: `+`, a country code not starting with 0, 8 to 15 digits in all.
pub fn phone(value: &str, field: &str) -> Result<String, ApiError> {
    let digits = value.strip_prefix('+').unwrap_or("");
    let ok = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(value.to_string())
    } else {
        Err(invalid(
            field,
            "phone numbers are written in E.164 form, e.g. +886912345678",
        ))
    }
}

/// A plausible mailbox: `local@domain.tld`, no spaces, within RFC 5321's
/// lengths. Whether it exists is learnt when mail bounces.
pub fn email(value: &str, field: &str) -> Result<String, ApiError> {
    let bad = || invalid(field, "not an e-mail address");
    let (local, domain) = value.rsplit_once('@').ok_or_else(bad)?;
    let labels_ok = domain.split('.').count() >= 2
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    let ok = !local.is_empty()
        && local.len() <= 64
        && value.len() <= 254
        && !local.contains('@')
        && local.chars().all(|c| !c.is_whitespace() && !c.is_control())
        && labels_ok;
    if ok {
        Ok(value.to_string())
    } else {
        Err(bad())
    }
}

/// FCM registration tokens are URL-safe base64 with `:` separators, about
/// 150–200 characters; the bounds leave room for format changes.
pub fn fcm_token(value: &str, field: &str) -> Result<String, ApiError> {
    let ok = (32..=4096).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'));
    if ok {
        Ok(value.to_string())
    } else {
        Err(invalid(
            field,
            "not an FCM registration token (32–4096 characters of A–Z a–z 0–9 - _ : .)",
        ))
    }
}

/// An MQTT device id becomes one level of a topic: no `/`, `+` or `#`.
pub fn mqtt_device(value: &str, field: &str) -> Result<String, ApiError> {
    let ok = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if ok {
        Ok(value.to_string())
    } else {
        Err(invalid(
            field,
            "an MQTT device id is 1–64 characters of A–Z a–z 0–9 - _",
        ))
    }
}

/// An absolute http(s) URL with a host.
/// An absolute http(s) URL whose host is public or allowed by the
/// operator (`[channels.webhook] allow`). The error names the rule broken,
/// never the URL.
pub fn webhook_url(value: &str, field: &str, policy: &OutboundPolicy) -> Result<String, ApiError> {
    if value.len() > 2048 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            field,
            "a webhook is an absolute http(s) URL of at most 2048 printable characters",
        ));
    }
    policy
        .check_url(value)
        .map(|_| value.to_string())
        .map_err(|e| invalid(field, format!("webhook URL refused: {e}")))
}

pub fn devices(
    requests: Vec<DeviceRequest>,
    field: &str,
    webhooks: &OutboundPolicy,
) -> Result<Vec<Device>, ApiError> {
    if requests.len() > MAX_DEVICES {
        return Err(invalid(field, format!("at most {MAX_DEVICES} devices")));
    }
    requests
        .into_iter()
        .enumerate()
        .map(|(i, d)| device(d, &format!("{field}[{i}]"), webhooks))
        .collect()
}

fn device(
    request: DeviceRequest,
    field: &str,
    webhooks: &OutboundPolicy,
) -> Result<Device, ApiError> {
    let at = format!("{field}.address");
    let address = match request.channel {
        DeviceChannel::Fcm => fcm_token(&request.address, &at)?,
        DeviceChannel::Mqtt => mqtt_device(&request.address, &at)?,
        DeviceChannel::Email => email(&request.address, &at)?,
        DeviceChannel::Sms => phone(&request.address, &at)?,
        DeviceChannel::Webhook => webhook_url(&request.address, &at, webhooks)?,
    };
    let secret = match (request.channel, request.secret) {
        (DeviceChannel::Webhook, Some(secret)) => {
            if !(16..=256).contains(&secret.len()) {
                return Err(invalid(
                    &format!("{field}.secret"),
                    "a webhook secret is 16–256 bytes",
                ));
            }
            Some(Sensitive(secret))
        }
        (_, None) => None,
        (_, Some(_)) => {
            return Err(invalid(
                &format!("{field}.secret"),
                "only webhooks take a secret",
            ));
        }
    };
    Ok(Device {
        channel: request.channel,
        address: Sensitive(address),
        secret,
    })
}

/// A string naming a value of a serde enum, as its JSON name.
fn enum_name<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).ok()
}

/// `HH:MM`, 24-hour.
pub fn clock_time(value: &str, field: &str) -> Result<String, ApiError> {
    chrono::NaiveTime::parse_from_str(value, "%H:%M")
        .map(|t| t.format("%H:%M").to_string())
        .map_err(|_| invalid(field, "a time of day as HH:MM (24-hour)"))
}

pub fn preferences(
    request: PreferencesRequest,
    field: &str,
) -> Result<PreferencesRecord, ApiError> {
    let mut kinds = Vec::new();
    for (i, kind) in request.kinds.iter().enumerate() {
        let Some(parsed) = enum_name::<HazardKind>(kind) else {
            return Err(invalid(
                &format!("{field}.kinds[{i}]"),
                format!(
                    "unknown hazard kind (one of {})",
                    HazardKind::ALL.map(HazardKind::as_str).join(", ")
                ),
            ));
        };
        if !kinds.contains(&parsed.as_str().to_string()) {
            kinds.push(parsed.as_str().to_string());
        }
    }
    let min_colour = match &request.min_colour {
        Some(c) => Some(
            enum_name::<Colour>(c)
                .ok_or_else(|| {
                    invalid(
                        &format!("{field}.min_colour"),
                        "one of green, yellow, orange, red",
                    )
                })?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let min_intensity = match &request.min_intensity {
        Some(i) => {
            enum_name::<Intensity>(i).ok_or_else(|| {
                invalid(
                    &format!("{field}.min_intensity"),
                    "one of 0, 1, 2, 3, 4, 5-, 5+, 6-, 6+, 7",
                )
            })?;
            Some(i.clone())
        }
        None => None,
    };
    let min_rainfall = match &request.min_rainfall {
        Some(r) if RAINFALL_LEVELS.contains(&r.as_str()) => Some(r.clone()),
        Some(_) => {
            return Err(invalid(
                &format!("{field}.min_rainfall"),
                format!("one of {}", RAINFALL_LEVELS.join(", ")),
            ));
        }
        None => None,
    };
    if request.languages.len() > Locale::ALL.len() {
        return Err(invalid(
            &format!("{field}.languages"),
            format!("at most {} languages", Locale::ALL.len()),
        ));
    }
    let mut languages: Vec<String> = Vec::new();
    for (i, tag) in request.languages.iter().enumerate() {
        let tag = locale(tag, &format!("{field}.languages[{i}]"))?;
        if !languages.contains(&tag) {
            languages.push(tag);
        }
    }
    let quiet_hours = match &request.quiet_hours {
        Some(q) => Some((
            clock_time(&q.start, &format!("{field}.quiet_hours.start"))?,
            clock_time(&q.end, &format!("{field}.quiet_hours.end"))?,
        )),
        None => None,
    };
    Ok(PreferencesRecord {
        kinds,
        min_colour,
        min_intensity,
        min_rainfall,
        languages,
        exercises: request.exercises,
        quiet_hours,
    })
}

/// Validates a relay need; `village` is resolved by the caller.
pub fn relay(request: &RelayRequest) -> Result<(String, Option<String>, Option<String>), ApiError> {
    let name = text(&request.name, "name", MAX_RELAY_NAME_CHARS)?;
    let phone = request
        .phone
        .as_deref()
        .map(|p| phone(p, "phone"))
        .transpose()?;
    let note = request
        .note
        .as_deref()
        .map(|n| text(n, "note", MAX_RELAY_NOTE_CHARS))
        .transpose()?;
    Ok((name, phone, note))
}

/// The stored form of a validated relay need.
pub fn relay_need(
    name: String,
    phone: Option<String>,
    note: Option<String>,
    village: String,
) -> RelayNeed {
    RelayNeed {
        name: Sensitive(name),
        phone: phone.map(Sensitive),
        village,
        note: note.map(Sensitive),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: Result<impl std::fmt::Debug, ApiError>) -> String {
        let error = result.unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidField);
        error.field.unwrap_or_default()
    }

    #[test]
    fn locales_are_the_eight_in_canonical_form() {
        assert_eq!(locale("zh-Hant-TW", "locale").unwrap(), "zh-TW");
        assert_eq!(locale("tl", "locale").unwrap(), "fil");
        assert_eq!(field_of(locale("de", "locale")), "locale");
    }

    #[test]
    fn phone_numbers_are_e164() {
        assert!(phone("+886912345678", "p").is_ok());
        for bad in [
            "0912345678",
            "+0886912345678",
            "+886 912 345 678",
            "+12",
            "",
        ] {
            assert!(phone(bad, "p").is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_fcm_tokens_mqtt_ids_and_webhooks() {
        assert!(email("a.b+c@example.com.tw", "e").is_ok());
        for bad in [
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@-x.com",
            "a@x..com",
        ] {
            assert!(email(bad, "e").is_err(), "{bad}");
        }
        let token = format!("dQw4w9WgXcQ:APA91b{}", "x".repeat(140));
        assert!(fcm_token(&token, "t").is_ok());
        assert!(fcm_token("short", "t").is_err());
        assert!(fcm_token(&format!("{token} "), "t").is_err());
        assert!(mqtt_device("phone-1_a", "m").is_ok());
        assert!(mqtt_device("a/b", "m").is_err());
        assert!(mqtt_device("#", "m").is_err());
        let public = OutboundPolicy::default();
        assert!(webhook_url("https://example.com/hook", "w", &public).is_ok());
        assert!(webhook_url("ftp://example.com", "w", &public).is_err());
        assert!(webhook_url("https://user@example.com", "w", &public).is_err());
        for internal in [
            "http://127.0.0.1:8080/hook",
            "http://2130706433/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/hook",
        ] {
            assert!(webhook_url(internal, "w", &public).is_err(), "{internal}");
        }
        let allowed = OutboundPolicy::allowing(&["10.0.0.0/8"]).unwrap();
        assert!(webhook_url("http://10.1.2.3/hook", "w", &allowed).is_ok());
    }

    #[test]
    fn a_bad_device_names_its_index_and_field() {
        let requests = vec![
            DeviceRequest {
                channel: DeviceChannel::Sms,
                address: "+886912345678".into(),
                secret: None,
            },
            DeviceRequest {
                channel: DeviceChannel::Email,
                address: "not-mail".into(),
                secret: None,
            },
        ];
        assert_eq!(
            field_of(devices(requests, "devices", &OutboundPolicy::default())),
            "devices[1].address"
        );
        let requests = vec![DeviceRequest {
            channel: DeviceChannel::Sms,
            address: "+886912345678".into(),
            secret: Some("0123456789abcdef".into()),
        }];
        assert_eq!(
            field_of(devices(requests, "devices", &OutboundPolicy::default())),
            "devices[0].secret"
        );
    }

    #[test]
    fn preferences_take_the_matchers_vocabulary() {
        let ok = preferences(
            PreferencesRequest {
                kinds: vec![
                    "earthquake".into(),
                    "debris_flow".into(),
                    "earthquake".into(),
                ],
                min_colour: Some("orange".into()),
                min_intensity: Some("5+".into()),
                min_rainfall: Some("torrential".into()),
                languages: vec!["EN".into(), "zh-TW".into()],
                exercises: true,
                quiet_hours: Some(QuietHoursRequest {
                    start: "22:00".into(),
                    end: "07:00".into(),
                }),
            },
            "preferences",
        )
        .unwrap();
        assert_eq!(ok.kinds, ["earthquake", "debris_flow"]);
        assert_eq!(ok.languages, ["en", "zh-TW"]);
        assert_eq!(ok.quiet_hours, Some(("22:00".into(), "07:00".into())));
        let cases: [(PreferencesRequest, &str); 5] = [
            (
                PreferencesRequest {
                    kinds: vec!["volcano".into()],
                    ..Default::default()
                },
                "preferences.kinds[0]",
            ),
            (
                PreferencesRequest {
                    min_colour: Some("purple".into()),
                    ..Default::default()
                },
                "preferences.min_colour",
            ),
            (
                PreferencesRequest {
                    min_intensity: Some("5".into()),
                    ..Default::default()
                },
                "preferences.min_intensity",
            ),
            (
                PreferencesRequest {
                    min_rainfall: Some("drizzle".into()),
                    ..Default::default()
                },
                "preferences.min_rainfall",
            ),
            (
                PreferencesRequest {
                    quiet_hours: Some(QuietHoursRequest {
                        start: "25:00".into(),
                        end: "07:00".into(),
                    }),
                    ..Default::default()
                },
                "preferences.quiet_hours.start",
            ),
        ];
        for (request, field) in cases {
            assert_eq!(field_of(preferences(request, "preferences")), field);
        }
    }

    #[test]
    fn texts_and_coordinates() {
        assert_eq!(label("  Home ", "l").unwrap(), "Home");
        assert!(label("", "l").is_err());
        assert!(label(&"家".repeat(41), "l").is_err());
        assert!(label("a\nb", "l").is_err());
        assert_eq!(
            field_of(coordinates(181.0, 0.0, "places[0].")),
            "places[0].lon"
        );
        assert_eq!(field_of(coordinates(0.0, f64::NAN, "")), "lat");
    }
}
