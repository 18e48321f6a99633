//! The dispatch side of the flow: workers take deliveries from the outbox
//! and send them through the channels, in the notifier's one dispatch loop
//! ([`notifier::queue::dispatch::run_dispatcher`]); addresses providers
//! report dead are removed from their subscriber (through the one write
//! path, under the edit lock), and all-clears that reached someone take
//! the ended alert off their list.

use std::sync::Arc;
use std::time::Duration;

use notifier::queue::QueueError;
use notifier::queue::dispatch::{Channels, DispatchConfig, DispatchTotals, Until, run_dispatcher};

use crate::App;

/// One dispatch worker: claims batches and sends them until `until`; a
/// claimed batch is always finished.
pub async fn dispatcher(
    app: Arc<App>,
    channels: Channels,
    config: DispatchConfig,
    idle: Duration,
    until: Until,
) -> Result<DispatchTotals, QueueError> {
    let queue = app.outbox.delivery_queue().clone();
    run_dispatcher(queue.as_ref(), &channels, &config, idle, until, |report| {
        let app = app.clone();
        async move {
            if !report.invalid.is_empty() {
                tracing::warn!(
                    count = report.invalid.len(),
                    "dead addresses reported by providers"
                );
                app.subscribers.disable_dead_addresses(report.invalid).await;
            }
            let all_clears: Vec<(store::SubscriberId, String)> = report
                .all_clears_sent
                .into_iter()
                .map(|(subscriber, version)| (store::SubscriberId(subscriber.0), version.0))
                .collect();
            app.alerts.all_clears_sent(&all_clears);
        }
    })
    .await
}
