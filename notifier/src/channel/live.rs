//! The live feed: an in-process broadcast that the web page's server-sent
//! events subscribe to. Public information only (title, text, link); no
//! subscriber is named.
//!
//! Loss: a browser that is not connected, or that lags more than the
//! buffer, misses events; the page reloads the current alerts on
//! (re)connect, so the feed is a convenience, not a record.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::{Channel, Delivery, Outcome, SendFuture};
use crate::notice::ChannelKind;

/// One event on the live feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEvent {
    pub alert: String,
    pub locale: String,
    pub title: String,
    pub text: String,
    pub link: String,
    pub exercise: bool,
}

pub struct LiveChannel {
    sender: broadcast::Sender<LiveEvent>,
}

impl LiveChannel {
    /// `buffer`: events kept for slow subscribers before they lag.
    pub fn new(buffer: usize) -> Self {
        let (sender, _) = broadcast::channel(buffer.max(1));
        LiveChannel { sender }
    }

    /// A new subscription, for one SSE connection.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }
}

impl Channel for LiveChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Live
    }

    fn send<'a>(&'a self, delivery: &'a Delivery) -> SendFuture<'a> {
        let event = LiveEvent {
            alert: delivery.facts.alert.0.clone(),
            locale: delivery.message.locale.tag().to_string(),
            title: delivery.message.full_title(),
            text: delivery.message.full_text(),
            link: delivery.facts.link.clone(),
            exercise: delivery.facts.exercise,
        };
        // No watcher is not a failure: the page reloads on connect.
        let _ = self.sender.send(event);
        Box::pin(async { Outcome::Sent })
    }
}
