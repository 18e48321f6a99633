//! The end-to-end heartbeat: every `interval`, an Exercise CAP message for
//! the canary's village goes in through the issuer path (ingest, engine,
//! queue, channel) like any alert, and the canary device's delivery must be
//! recorded as sent within `deadline`. When it is not, the alarm: an ERROR
//! log, `hazardline_heartbeat_ok 0` and a /readyz reason.
//!
//! The canary is an engine subscriber of its own (pseudonym
//! [`CANARY_PSEUDONYM`], exercises opted in) whose one place is the
//! village's interior point; the exercise is a 300 m circle around it, so
//! it reaches only people who opted in to exercises and live next door.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ingest::feed::issuer::{SubmitOutcome, submit};
use notifier::notice::{Address, AlertVersion, SubscriberId};
use notifier::queue::{DeliveryKey, DeliveryStatus};
use tokio_util::sync::CancellationToken;

use crate::engine::{Place, Subscriber};
use crate::serve::config::{HeartbeatConfig, ServeConfig};
pub use crate::serve::heartbeat_status::HeartbeatStatus;
use crate::serve::state::AppState;

pub use app::flow::CANARY_PSEUDONYM;
/// How often the canary's delivery status is looked up while waiting.
const POLL: Duration = Duration::from_millis(250);

/// The canary subscriber and the point of its village, from the
/// configuration (checked when the configuration was loaded).
pub fn canary(config: &HeartbeatConfig, atlas: &geodata::Atlas) -> Result<Subscriber, String> {
    let code = config.area.as_deref().unwrap_or_default();
    let village = atlas
        .villages()
        .iter()
        .find(|v| v.code == code)
        .ok_or_else(|| format!("heartbeat.area: no village with code {code}"))?;
    let point = village
        .label_point
        .ok_or_else(|| format!("heartbeat.area: village {code} has no interior point"))?;
    let address = canary_address(config)?;
    Ok(Subscriber {
        pseudonym: CANARY_PSEUDONYM.into(),
        locale: notifier::Locale::ZhTw,
        addresses: vec![address],
        places: vec![Place {
            name: village.name.clone(),
            lon: point.x,
            lat: point.y,
        }],
        preferences: matcher::prefs::Preferences {
            kinds: matcher::prefs::KindSet::ALL,
            exercises: true,
            ..matcher::prefs::Preferences::default()
        },
        quiet_hours: None,
    })
}

fn canary_address(config: &HeartbeatConfig) -> Result<Address, String> {
    let value = config.canary_address.clone().unwrap_or_default();
    let channel = config.canary_channel.as_deref().unwrap_or_default();
    let device = store::Device {
        channel: match channel {
            "fcm" => store::DeviceChannel::Fcm,
            "mqtt" => store::DeviceChannel::Mqtt,
            "email" => store::DeviceChannel::Email,
            "sms" => store::DeviceChannel::Sms,
            other => {
                return Err(format!(
                    "heartbeat.canary_channel: {other:?} is not fcm, mqtt, email or sms"
                ));
            }
        },
        address: store::Sensitive(value),
        secret: None,
    };
    // The same checks as a resident's device.
    app::subscribers::convert::device_address(0, &device)
        .map_err(|e| format!("heartbeat.canary_address: {}", e.reason()))
}

/// The exercise message for one beat.
pub fn exercise_cap(config: &ServeConfig, lon: f64, lat: f64, now: DateTime<Utc>) -> String {
    // CAP forbids "Z"; the offset is written out.
    let sent = now.format("%Y-%m-%dT%H:%M:%S+00:00");
    let expires = (now + chrono::Duration::minutes(10)).format("%Y-%m-%dT%H:%M:%S+00:00");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>HEARTBEAT-{id}</identifier>
  <sender>heartbeat@{domain}</sender>
  <sent>{sent}</sent>
  <status>Exercise</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <note>Hazardline end-to-end heartbeat</note>
  <info>
    <language>zh-TW</language>
    <category>Other</category>
    <event>系統測試</event>
    <urgency>Future</urgency>
    <severity>Minor</severity>
    <certainty>Unlikely</certainty>
    <expires>{expires}</expires>
    <headline>系統測試（演習）</headline>
    <description>系統例行測試，無需採取任何行動。</description>
    <area>
      <areaDesc>heartbeat</areaDesc>
      <circle>{lat:.6},{lon:.6} 0.3</circle>
    </area>
  </info>
</alert>"#,
        id = now.timestamp(),
        domain = config.issuers.sender_domain,
    )
}

/// Runs beats until shutdown.
pub async fn run(state: AppState, lon: f64, lat: f64, shutdown: CancellationToken) {
    let config = state.config.heartbeat.clone();
    // The canary's one device: its delivery is the one looked up.
    let address = match canary_address(&config) {
        Ok(address) => address,
        Err(error) => {
            tracing::error!(%error, "heartbeat not started");
            return;
        }
    };
    let interval = Duration::from_secs(config.interval_secs.max(1));
    loop {
        let verdict = beat(&state, lon, lat, &address, &shutdown).await;
        match &verdict {
            Ok(_) => {
                tracing::info!("heartbeat: canary delivery confirmed");
                state
                    .metrics
                    .heartbeat(true, Some(state.app.clock.now().timestamp()));
            }
            Err(reason) => {
                tracing::error!(reason = %reason, "heartbeat FAILED: the canary's exercise did not get through");
                state.metrics.heartbeat(false, None);
            }
        }
        state.heartbeat.record(verdict);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

async fn beat(
    state: &AppState,
    lon: f64,
    lat: f64,
    address: &Address,
    shutdown: &CancellationToken,
) -> Result<DateTime<Utc>, String> {
    let now = state.app.clock.now();
    let cap = exercise_cap(&state.config, lon, lat, now);
    let keys = match submit(
        state.app.alerts.pipeline(),
        cap.as_bytes(),
        state.app.alerts.issuer_source(),
        None,
    )
    .await
    {
        Ok(SubmitOutcome::Accepted { keys }) => keys,
        Ok(SubmitOutcome::Rejected { reasons, .. }) => {
            let labels: Vec<&str> = reasons.iter().map(|(label, _)| label.as_str()).collect();
            return Err(format!(
                "the exercise was refused by ingest: {}",
                labels.join(", ")
            ));
        }
        Err(error) => return Err(format!("ingest failed: {error}")),
    };
    let Some(key) = keys.first() else {
        return Err("ingest accepted nothing".into());
    };
    let delivery = DeliveryKey::new(
        AlertVersion::from(key),
        SubscriberId(CANARY_PSEUDONYM.into()),
        address,
    );
    let deadline = tokio::time::Instant::now()
        + Duration::from_secs(state.config.heartbeat.deadline_secs.max(1));
    let queue = state.app.outbox.delivery_queue();
    loop {
        match queue.status(&delivery).await {
            Ok(Some(DeliveryStatus::Sent)) => return Ok(state.app.clock.now()),
            Ok(Some(DeliveryStatus::Failed | DeliveryStatus::InvalidAddress)) => {
                return Err("the canary delivery failed".into());
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "heartbeat: queue lookup failed"),
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "no delivery to the canary within {} s",
                state.config.heartbeat.deadline_secs
            ));
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Err("shutting down".into()),
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> HeartbeatConfig {
        HeartbeatConfig {
            enabled: true,
            area: Some("99000030001".into()),
            canary_channel: Some("mqtt".into()),
            canary_address: Some("canary-1".into()),
            ..HeartbeatConfig::default()
        }
    }

    #[test]
    fn the_exercise_is_valid_cap_marked_as_an_exercise() {
        let now = Utc::now();
        let text = exercise_cap(&ServeConfig::default(), 123.225, 23.05, now);
        let document = cap::parse_document(text.as_bytes(), &cap::Limits::default()).unwrap();
        let message = &document.messages[0];
        assert!(message.violations.is_empty(), "{:?}", message.violations);
        let alert = message.alert.as_ref().unwrap();
        assert_eq!(alert.status, cap::Status::Exercise);
        assert!(alert.sender.ends_with("@issuers.hazardline.invalid"));
    }

    #[test]
    fn the_canary_lives_in_its_village_and_opted_in_to_exercises() {
        let atlas = geodata::demo::atlas();
        let canary = canary(&config(), &atlas).unwrap();
        assert!(canary.preferences.exercises);
        let place = &canary.places[0];
        let located = atlas.locate(place.lon, place.lat).unwrap();
        assert_eq!(located.village_code(), "99000030001");

        let mut unknown = config();
        unknown.area = Some("12345".into());
        assert!(canary_err(&unknown, &atlas).contains("heartbeat.area"));
        let mut bad = config();
        bad.canary_channel = Some("pigeon".into());
        assert!(canary_err(&bad, &atlas).contains("heartbeat.canary_channel"));
    }

    fn canary_err(config: &HeartbeatConfig, atlas: &geodata::Atlas) -> String {
        match canary(config, atlas) {
            Ok(_) => panic!("accepted"),
            Err(error) => error,
        }
    }
}
