//! From one notice and one recipient to the deliveries to queue: render
//! once in the recipient's language, one [`Delivery`] per address.
//!
//! The service calls, per matched recipient:
//! [`Coalescer::admit`](crate::policy::Coalescer::admit) →
//! [`loudness`](crate::policy::loudness) → [`deliveries`] →
//! [`DeliveryQueue::enqueue`](crate::queue::DeliveryQueue::enqueue) for each.

use crate::channel::{AlertFacts, Delivery};
use crate::notice::{Notice, Recipient, RecipientPlace};
use crate::policy::Loudness;
use crate::render::{RenderError, Renderer};

/// The deliveries of `notice` to `recipient`, whose place is `place`.
pub fn deliveries(
    renderer: &Renderer,
    notice: &Notice,
    recipient: &Recipient,
    place: &RecipientPlace,
    loudness: Loudness,
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
        notice.urgency = ingest::Urgency::Immediate;
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
        let deliveries =
            deliveries(&renderer, &notice, &recipient, &place, Loudness::Audible).unwrap();
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
    }
}
