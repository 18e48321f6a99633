//! From one notice and one recipient to the deliveries to queue: render
//! once in the recipient's language, one [`Delivery`] per address.
//!
//! The service calls, per matched recipient:
//! [`Coalescer::admit`](crate::policy::Coalescer::admit) →
//! [`loudness`](crate::policy::loudness) → [`deliveries`] →
//! [`DeliveryQueue::enqueue`](crate::queue::DeliveryQueue::enqueue) for each.

use chrono::{DateTime, Utc};

use crate::channel::{AlertFacts, Delivery};
use crate::notice::{Notice, Recipient, RecipientPlace};
use crate::policy::Loudness;
use crate::render::{RenderError, Renderer};

/// The deliveries of `notice` to `recipient`, whose place is `place`.
/// `quiet_ends`: when the recipient's quiet hours end, if a silent delivery
/// is asked for; channels that cannot be silent wait until then.
pub fn deliveries(
    renderer: &Renderer,
    notice: &Notice,
    recipient: &Recipient,
    place: &RecipientPlace,
    loudness: Loudness,
    quiet_ends: Option<DateTime<Utc>>,
) -> Result<Vec<Delivery>, RenderError> {
    let message = renderer.render(notice, place, recipient.locale)?;
    let facts = AlertFacts::from(notice);
    Ok(recipient
        .addresses
        .iter()
        .map(|address| Delivery {
            subscriber: recipient.subscriber.clone(),
            address: address.clone(),
            facts: facts.clone(),
            message: message.clone(),
            loudness,
            not_before: match loudness {
                Loudness::Silent if !address.channel().can_be_silent() => quiet_ends,
                _ => None,
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Locale;
    use crate::notice::{Address, DeviceToken, PhoneNumber, SubscriberId};
    use crate::queue::{DeliveryKey, Lane};

    #[test]
    fn one_delivery_per_address_with_distinct_keys() {
        let renderer = Renderer::new().unwrap();
        let mut notice = crate::testing_notice();
        notice.urgency = cap::Urgency::Immediate;
        let recipient = Recipient {
            subscriber: SubscriberId("s-1".into()),
            locale: Locale::Th,
            addresses: vec![
                Address::Fcm {
                    token: DeviceToken::new("t"),
                },
                Address::Sms {
                    to: PhoneNumber::new("+886912000000"),
                },
            ],
        };
        let place = RecipientPlace {
            name: "Xinyi".into(),
            shelter: None,
        };
        let deliveries = deliveries(
            &renderer,
            &notice,
            &recipient,
            &place,
            Loudness::Audible,
            None,
        )
        .unwrap();
        assert_eq!(deliveries.len(), 2);
        assert_ne!(
            DeliveryKey::of(&deliveries[0]),
            DeliveryKey::of(&deliveries[1])
        );
        assert!(
            deliveries
                .iter()
                .all(|d| d.message.locale == Locale::Th && Lane::of(d) == Lane::Urgent)
        );
        assert!(deliveries.iter().all(|d| d.not_before.is_none()));
    }

    #[test]
    fn sms_waits_for_quiet_hours_to_end() {
        let renderer = Renderer::new().unwrap();
        let notice = crate::testing_notice();
        let recipient = Recipient {
            subscriber: SubscriberId("s-1".into()),
            locale: Locale::En,
            addresses: vec![
                Address::Fcm {
                    token: DeviceToken::new("t"),
                },
                Address::Sms {
                    to: PhoneNumber::new("+886912000000"),
                },
            ],
        };
        let place = RecipientPlace {
            name: "Xinyi".into(),
            shelter: None,
        };
        let end = chrono::DateTime::parse_from_rfc3339("2026-11-22T23:00:00Z")
            .unwrap()
            .to_utc();
        let deliveries = deliveries(
            &renderer,
            &notice,
            &recipient,
            &place,
            Loudness::Silent,
            Some(end),
        )
        .unwrap();
        assert_eq!(deliveries[0].not_before, None, "push goes now, silently");
        assert_eq!(deliveries[1].not_before, Some(end));
    }
}
