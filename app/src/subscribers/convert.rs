//! Stored subscriber records (strings, sealed fields opened) → the engine's
//! subscribers (matcher enums, notifier addresses). Every value a resident
//! could have typed is checked here, with the JSON path of the field to
//! blame, so a bad record is refused the same way at registration and at
//! start-up.

use cap::{Colour, HazardKind, Intensity};
use chrono::NaiveTime;
use geodata::Atlas;
use matcher::prefs::{KindSet, Preferences, RainfallLevel};
use notifier::Locale;
use notifier::notice::{Address, DeviceToken, EmailAddress, PhoneNumber, Secret, WebhookUrl};
use notifier::policy::QuietHours;
use store::{DeviceChannel, PreferencesRecord, SubscriberRecord};

use engine::{Place, Subscriber};

/// Why a subscriber record cannot be used: a field to blame (with its JSON
/// path), or the service's own message catalogues.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// A value that is not allowed.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// A point outside every administrative area.
    #[error("{field}: {reason}")]
    OutsideCoverage { field: String, reason: String },
    #[error("the message catalogues did not load")]
    Catalogues,
}

impl ConvertError {
    fn invalid(field: &str, reason: impl Into<String>) -> ConvertError {
        ConvertError::Invalid {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    fn outside(field: &str, reason: impl Into<String>) -> ConvertError {
        ConvertError::OutsideCoverage {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// What is wrong, without the field's name.
    pub fn reason(&self) -> String {
        match self {
            ConvertError::Invalid { reason, .. } | ConvertError::OutsideCoverage { reason, .. } => {
                reason.clone()
            }
            ConvertError::Catalogues => self.to_string(),
        }
    }

    /// The JSON path of the field to blame, if one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConvertError::Invalid { field, .. } | ConvertError::OutsideCoverage { field, .. } => {
                Some(field)
            }
            ConvertError::Catalogues => None,
        }
    }
}

/// What a message calls a traveller's shared current location, from the
/// catalogue of `locale`.
fn current_location_name(locale: Locale) -> Result<String, ConvertError> {
    notifier::render::shipped()
        .ok()
        .and_then(|renderer| renderer.fixed_text(locale, "current-location"))
        .map(str::to_owned)
        .ok_or(ConvertError::Catalogues)
}

/// The engine's view of a stored subscriber: places (and a shared current
/// location, whatever its expiry: the caller drops expired ones), language,
/// addresses and preferences.
pub fn engine_subscriber(
    record: &SubscriberRecord,
    atlas: &Atlas,
) -> Result<Subscriber, ConvertError> {
    let locale = Locale::from_language_tag(&record.locale).ok_or_else(|| {
        ConvertError::invalid(
            "locale",
            "unsupported language; use zh-TW, en, ja, ko, th, vi, fil or id",
        )
    })?;
    let addresses = record
        .devices
        .iter()
        .enumerate()
        .map(|(i, device)| device_address(i, device))
        .collect::<Result<Vec<_>, _>>()?;
    let mut places = Vec::with_capacity(record.places.len() + 1);
    for (i, place) in record.places.iter().enumerate() {
        check_point(atlas, place.lon, place.lat, &format!("places[{i}]"))?;
        places.push(Place {
            name: place.label.expose().to_owned(),
            lon: place.lon,
            lat: place.lat,
        });
    }
    if let Some(location) = &record.location {
        check_point(atlas, location.lon, location.lat, "location")?;
        places.push(Place {
            name: current_location_name(locale)?,
            lon: location.lon,
            lat: location.lat,
        });
    }
    let (preferences, quiet_hours) = preferences_of(&record.preferences)?;
    Ok(Subscriber {
        pseudonym: record.id.0.clone(),
        locale,
        addresses,
        places,
        preferences,
        quiet_hours,
    })
}

/// The same, leaving out a shared location that has expired at `now`.
pub fn engine_subscriber_at(
    record: &SubscriberRecord,
    atlas: &Atlas,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Subscriber, ConvertError> {
    if record.location.as_ref().is_some_and(|l| l.expires <= now) {
        let mut current = record.clone();
        current.location = None;
        return engine_subscriber(&current, atlas);
    }
    engine_subscriber(record, atlas)
}

fn check_point(atlas: &Atlas, lon: f64, lat: f64, field: &str) -> Result<(), ConvertError> {
    if !(lon.is_finite() && lat.is_finite()) {
        return Err(ConvertError::invalid(
            field,
            "longitude and latitude must be numbers",
        ));
    }
    if atlas.locate(lon, lat).is_none() {
        return Err(ConvertError::outside(
            field,
            "the point is outside every covered area",
        ));
    }
    Ok(())
}

/// The notifier address of device `i` of a subscriber, checked.
pub fn device_address(i: usize, device: &store::Device) -> Result<Address, ConvertError> {
    let field = format!("devices[{i}].address");
    let value = device.address.expose().trim();
    if value.is_empty() {
        return Err(ConvertError::invalid(&field, "address is empty"));
    }
    Ok(match device.channel {
        DeviceChannel::Fcm => Address::Fcm {
            token: DeviceToken::new(value),
        },
        DeviceChannel::Mqtt => {
            // The device id becomes a topic level: no wildcards or levels.
            if value.contains(['/', '+', '#']) {
                return Err(ConvertError::invalid(
                    &field,
                    "an MQTT device id may not contain '/', '+' or '#'",
                ));
            }
            Address::Mqtt {
                device: value.to_owned(),
            }
        }
        DeviceChannel::Email => {
            if !value.contains('@') {
                return Err(ConvertError::invalid(&field, "not an e-mail address"));
            }
            Address::Email {
                to: EmailAddress::new(value),
            }
        }
        DeviceChannel::Sms => {
            let digits = value.strip_prefix('+').unwrap_or("");
            if digits.len() < 8 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(ConvertError::invalid(
                    &field,
                    "a phone number in E.164 form (+886...) is required",
                ));
            }
            Address::Sms {
                to: PhoneNumber::new(value),
            }
        }
        DeviceChannel::Webhook => {
            if !value.starts_with("https://") && !value.starts_with("http://") {
                return Err(ConvertError::invalid(
                    &field,
                    "a webhook address must be an http(s) URL",
                ));
            }
            let secret = device.secret.as_ref().ok_or_else(|| {
                ConvertError::invalid(
                    &format!("devices[{i}].secret"),
                    "a webhook needs a signing secret",
                )
            })?;
            Address::Webhook {
                url: WebhookUrl::new(value),
                secret: Secret::new(secret.expose()),
            }
        }
    })
}

/// Stored preference strings → the matcher's preferences and quiet hours.
pub fn preferences_of(
    record: &PreferencesRecord,
) -> Result<(Preferences, Option<QuietHours>), ConvertError> {
    let kinds = if record.kinds.is_empty() {
        KindSet::ALL
    } else {
        let parsed = record
            .kinds
            .iter()
            .enumerate()
            .map(|(i, name)| {
                hazard_kind(name).ok_or_else(|| {
                    ConvertError::invalid(&format!("preferences.kinds[{i}]"), "unknown hazard kind")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        KindSet::of(&parsed)
    };
    let min_colour = record
        .min_colour
        .as_deref()
        .map(|c| {
            colour(c).ok_or_else(|| {
                ConvertError::invalid("preferences.min_colour", "use yellow, orange or red")
            })
        })
        .transpose()?;
    let min_intensity = record
        .min_intensity
        .as_deref()
        .map(|i| {
            i.parse::<Intensity>().map_err(|_| {
                ConvertError::invalid(
                    "preferences.min_intensity",
                    "use a CWA intensity: 1..4, 5-, 5+, 6-, 6+, 7",
                )
            })
        })
        .transpose()?;
    let min_rainfall = record
        .min_rainfall
        .as_deref()
        .map(|r| {
            rainfall(r).ok_or_else(|| {
                ConvertError::invalid(
                    "preferences.min_rainfall",
                    "use heavy, extremely_heavy, torrential or extremely_torrential",
                )
            })
        })
        .transpose()?;
    for (i, language) in record.languages.iter().enumerate() {
        if Locale::from_language_tag(language).is_none() {
            return Err(ConvertError::invalid(
                &format!("preferences.languages[{i}]"),
                "unsupported language",
            ));
        }
    }
    let quiet_hours = record
        .quiet_hours
        .as_ref()
        .map(|(start, end)| {
            Ok::<_, ConvertError>(QuietHours {
                start: clock_time(start, "preferences.quiet_hours.start")?,
                end: clock_time(end, "preferences.quiet_hours.end")?,
            })
        })
        .transpose()?;
    let preferences = Preferences {
        kinds,
        min_colour,
        min_intensity,
        min_rainfall,
        languages: record.languages.clone(),
        exercises: record.exercises,
        ..Preferences::default()
    };
    Ok((preferences, quiet_hours))
}

pub fn hazard_kind(name: &str) -> Option<HazardKind> {
    HazardKind::ALL.into_iter().find(|k| k.as_str() == name)
}

pub fn colour(name: &str) -> Option<Colour> {
    [Colour::Green, Colour::Yellow, Colour::Orange, Colour::Red]
        .into_iter()
        .find(|c| c.as_str() == name)
}

pub fn rainfall(name: &str) -> Option<RainfallLevel> {
    match name {
        "heavy" => Some(RainfallLevel::Heavy),
        "extremely_heavy" => Some(RainfallLevel::ExtremelyHeavy),
        "torrential" => Some(RainfallLevel::Torrential),
        "extremely_torrential" => Some(RainfallLevel::ExtremelyTorrential),
        _ => None,
    }
}

fn clock_time(text: &str, field: &str) -> Result<NaiveTime, ConvertError> {
    NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| ConvertError::invalid(field, "use HH:MM (24-hour)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{Device, KeyHash, PlaceRecord, Sensitive, SubscriberId};

    fn record(atlas: &Atlas) -> SubscriberRecord {
        let village = atlas
            .villages()
            .iter()
            .find_map(|v| v.label_point)
            .expect("demo villages have interior points");
        SubscriberRecord {
            id: SubscriberId("s_test".into()),
            created_at: chrono::Utc::now(),
            key_hash: KeyHash([0; 32]),
            locale: "en-US".into(),
            devices: vec![Device {
                channel: DeviceChannel::Mqtt,
                address: Sensitive("phone-1".into()),
                secret: None,
            }],
            places: vec![PlaceRecord {
                id: 0,
                label: Sensitive("Home".into()),
                address: None,
                lon: village.x,
                lat: village.y,
                village: None,
            }],
            location: None,
            preferences: PreferencesRecord {
                kinds: vec!["earthquake".into(), "tsunami".into()],
                min_intensity: Some("5-".into()),
                quiet_hours: Some(("22:00".into(), "07:00".into())),
                ..PreferencesRecord::default()
            },
            relay: None,
        }
    }

    #[test]
    fn a_stored_record_becomes_an_engine_subscriber() {
        let atlas = geodata::demo::atlas();
        let subscriber = engine_subscriber(&record(&atlas), &atlas).unwrap();
        assert_eq!(subscriber.pseudonym, "s_test");
        assert_eq!(subscriber.locale, Locale::En);
        assert_eq!(subscriber.places.len(), 1);
        assert!(
            matches!(&subscriber.addresses[..], [Address::Mqtt { device }] if device == "phone-1")
        );
        assert!(subscriber.preferences.kinds.contains(HazardKind::Tsunami));
        assert!(!subscriber.preferences.kinds.contains(HazardKind::Rainfall));
        assert_eq!(
            subscriber.preferences.min_intensity,
            Some(Intensity::I5Lower)
        );
        assert!(subscriber.quiet_hours.is_some());
    }

    #[test]
    fn bad_values_name_their_field() {
        let atlas = geodata::demo::atlas();
        let mut bad = record(&atlas);
        bad.preferences.kinds.push("volcano".into());
        let error = engine_subscriber(&bad, &atlas).unwrap_err();
        assert_eq!(error.field(), Some("preferences.kinds[2]"));

        let mut bad = record(&atlas);
        bad.places[0].lon = 0.0;
        bad.places[0].lat = 0.0;
        let error = engine_subscriber(&bad, &atlas).unwrap_err();
        assert!(matches!(error, ConvertError::OutsideCoverage { .. }));
        assert_eq!(error.field(), Some("places[0]"));

        let mut bad = record(&atlas);
        bad.devices[0].channel = DeviceChannel::Sms;
        let error = engine_subscriber(&bad, &atlas).unwrap_err();
        assert_eq!(error.field(), Some("devices[0].address"));

        let mut bad = record(&atlas);
        bad.preferences.quiet_hours = Some(("25:00".into(), "07:00".into()));
        let error = engine_subscriber(&bad, &atlas).unwrap_err();
        assert_eq!(error.field(), Some("preferences.quiet_hours.start"));
    }

    #[test]
    fn an_expired_location_is_left_out() {
        let atlas = geodata::demo::atlas();
        let mut with_location = record(&atlas);
        let now = chrono::Utc::now();
        with_location.location = Some(store::CurrentLocation {
            lon: with_location.places[0].lon,
            lat: with_location.places[0].lat,
            at: now - chrono::Duration::hours(2),
            expires: now - chrono::Duration::hours(1),
        });
        let subscriber = engine_subscriber_at(&with_location, &atlas, now).unwrap();
        assert_eq!(subscriber.places.len(), 1);
        let earlier = now - chrono::Duration::minutes(90);
        let subscriber = engine_subscriber_at(&with_location, &atlas, earlier).unwrap();
        assert_eq!(subscriber.places.len(), 2);
    }
}
