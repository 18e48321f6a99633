//! Which alerts are in force: dedupe, Update/Cancel chains and expiry.
//!
//! The active set is a function of the set of messages received and of the
//! clock, never of the order they came in:
//!
//! > an alert is **active** at `now` when its `msgType` is `Alert` or
//! > `Update`, no received `Update` or `Cancel` names it in `<references>`,
//! > and `now` is before its expiry.
//!
//! Its expiry is the latest `<expires>` of its `<info>` blocks; an `<info>`
//! without `<expires>` (or a message without `<info>`) counts as expiring
//! [`LifecycleConfig::default_lifetime`] after `sent`, so that an alert
//! nobody cancels cannot stay in force for ever.
//!
//! Messages are identified as CAP references name them: sender, identifier
//! and `sent` compared as instants (agencies write zones inconsistently),
//! within [`LifecycleConfig::reference_tolerance`]: CWA's 2024 feed refers
//! to a message sent at `14:57:47` as `14:57:48` (sub-second rounding), and
//! an identifier is unique per sender anyway. A reference whose `sent` does
//! not parse names every message with that sender and identifier. A
//! reference to a message never received is kept and reported
//! ([`Applied::unresolved_references`]); when that message arrives later it
//! is superseded on arrival, so replaying a feed in any order gives the same
//! active set.
//!
//! References are honoured only within one [`Authority`] (see
//! [`crate::authority`]): every message is applied with its authority; a
//! reference names only messages of the same authority, and a reference
//! kept for a message not yet received ends it on arrival only if it comes
//! from the same authority. [`Lifecycle::foreign_references`] tells the
//! pipeline which references of a message name another authority's alerts,
//! so that it can refuse the message before anything acts on it.
//!
//! [`Lifecycle::apply`] and [`Lifecycle::expire`] report the changes the
//! matcher acts on as [`LifecycleEvent`]s.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::authority::Authority;
use cap::model::{Alert, MsgType, Reference};

/// CWA's longest-running warnings (typhoon) are re-issued at least every
/// few hours; a day without an `<expires>` and without an Update means the
/// issuer forgot to cancel.
pub const DEFAULT_LIFETIME_HOURS: i64 = 24;
/// Largest difference between a reference's `sent` and the referenced
/// message's `sent` still taken as the same message. One second is the
/// skew seen in real CWA references; two leaves margin, and a sender never
/// reuses an identifier within seconds.
pub const DEFAULT_REFERENCE_TOLERANCE_SECS: i64 = 2;

#[derive(Debug, Clone)]
pub struct LifecycleConfig {
    /// Lifetime of an `<info>` that gives no `<expires>`.
    pub default_lifetime: Duration,
    /// How far a reference's `sent` may be from the message it names.
    pub reference_tolerance: Duration,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            default_lifetime: Duration::hours(DEFAULT_LIFETIME_HOURS),
            reference_tolerance: Duration::seconds(DEFAULT_REFERENCE_TOLERANCE_SECS),
        }
    }
}

/// A change in the active set, for the matcher.
#[derive(Debug, Clone, PartialEq)]
pub enum LifecycleEvent {
    /// A new alert is in force (also an Update whose predecessors were not
    /// in force: for the people it reaches it is new).
    New(Alert),
    /// An Update replaced the alerts it references that were in force
    /// (oldest first; at least one).
    Updated {
        previous: Vec<Alert>,
        current: Alert,
    },
    /// A Cancel ended the alerts it references that were in force.
    Cancelled { previous: Vec<Alert>, cancel: Alert },
    /// An alert reached its expiry, or was replaced by an Update that had
    /// itself already expired when it arrived.
    Expired(Alert),
}

/// The identity CAP references use, with `sent` as an instant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    pub sender: String,
    pub identifier: String,
    pub sent: DateTime<Utc>,
}

impl Identity {
    pub fn of(alert: &Alert) -> Self {
        Identity {
            sender: alert.sender.clone(),
            identifier: alert.identifier.clone(),
            sent: alert.sent.with_timezone(&Utc),
        }
    }

    fn name(&self) -> Name {
        (self.sender.clone(), self.identifier.clone())
    }
}

/// Sender and identifier: what a reference names before `sent` is compared.
type Name = (String, String);

/// (`sent` as a reference writes it, the referring message, its authority).
type Referrers = BTreeSet<(Option<DateTime<Utc>>, Identity, Authority)>;

fn reference_name(reference: &Reference) -> Name {
    (reference.sender.clone(), reference.identifier.clone())
}

/// What applying one message did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    pub events: Vec<LifecycleEvent>,
    /// The message was already known (same identity): nothing changed.
    pub duplicate: bool,
    /// References naming messages never received (kept, not dropped).
    pub unresolved_references: Vec<Reference>,
    /// An Update or Cancel received earlier already names this message.
    pub superseded_on_arrival: bool,
    /// The message was already past its expiry when it arrived.
    pub expired_on_arrival: bool,
    /// Messages of other authorities received earlier name this one; they
    /// were ignored (an attempt to end it in advance).
    pub foreign_referrers: usize,
}

/// A reference naming a held message of another authority.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignReference {
    pub reference: Reference,
    /// Whose the named message is.
    pub owner: Authority,
}

#[derive(Debug)]
struct Entry {
    alert: Alert,
    authority: Authority,
    expiry: DateTime<Utc>,
}

/// The set of received messages and the alerts in force among them.
#[derive(Debug, Default)]
pub struct Lifecycle {
    config: LifecycleConfig,
    messages: HashMap<Identity, Entry>,
    /// Messages held, by sender and identifier.
    by_name: HashMap<Name, BTreeSet<Identity>>,
    /// Sender and identifier → (`sent` as referenced, referring message), for
    /// every reference of every Update and Cancel (the target may be unknown).
    referenced: HashMap<Name, Referrers>,
    active: BTreeSet<Identity>,
}

impl Lifecycle {
    pub fn new(config: LifecycleConfig) -> Self {
        Lifecycle {
            config,
            ..Lifecycle::default()
        }
    }

    /// Rebuilds the state from stored messages (in any order), without
    /// events: what was in force before a restart is in force again. Each
    /// message is its sender's own authority (see [`Self::rebuild_with`]).
    pub fn rebuild(
        config: LifecycleConfig,
        alerts: impl IntoIterator<Item = Alert>,
        now: DateTime<Utc>,
    ) -> Self {
        Self::rebuild_with(
            config,
            alerts.into_iter().map(|a| {
                let authority = Authority::sender(&a.sender);
                (a, authority)
            }),
            now,
        )
    }

    /// Rebuilds from stored messages with the authority each was accepted
    /// under.
    pub fn rebuild_with(
        config: LifecycleConfig,
        messages: impl IntoIterator<Item = (Alert, Authority)>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut lifecycle = Lifecycle::new(config);
        for (alert, authority) in messages {
            lifecycle.apply_as(alert, authority, now);
        }
        lifecycle
    }

    pub fn expiry_of(&self, alert: &Alert) -> DateTime<Utc> {
        let fallback = alert.sent.with_timezone(&Utc) + self.config.default_lifetime;
        alert
            .infos
            .iter()
            .map(|info| info.expires.map_or(fallback, |e| e.with_timezone(&Utc)))
            .max()
            .unwrap_or(fallback)
    }

    pub fn contains(&self, identity: &Identity) -> bool {
        self.messages.contains_key(identity)
    }

    /// The alerts in force, ordered by identity.
    pub fn active(&self) -> Vec<&Alert> {
        self.active
            .iter()
            .filter_map(|id| self.messages.get(id).map(|e| &e.alert))
            .collect()
    }

    /// The alerts in force with the authority that owns each.
    pub fn active_with_authority(&self) -> Vec<(&Alert, &Authority)> {
        self.active
            .iter()
            .filter_map(|id| self.messages.get(id).map(|e| (&e.alert, &e.authority)))
            .collect()
    }

    /// The authority of a held message.
    pub fn authority_of(&self, identity: &Identity) -> Option<&Authority> {
        self.messages.get(identity).map(|e| &e.authority)
    }

    /// The owners of the held messages a reference names (any authority).
    pub fn owners_of(&self, reference: &Reference) -> BTreeSet<Authority> {
        self.named_by(reference)
            .filter_map(|id| self.messages.get(id).map(|e| e.authority.clone()))
            .collect()
    }

    /// The held messages a reference names, each with its owner.
    pub fn referenced(&self, reference: &Reference) -> Vec<(&Alert, &Authority)> {
        self.named_by(reference)
            .filter_map(|id| self.messages.get(id).map(|e| (&e.alert, &e.authority)))
            .collect()
    }

    /// References of `alert` (an Update or Cancel) that name held messages
    /// of an authority other than `authority`: the message must be refused.
    pub fn foreign_references(
        &self,
        alert: &Alert,
        authority: &Authority,
    ) -> Vec<ForeignReference> {
        if !matches!(alert.msg_type, MsgType::Update | MsgType::Cancel) {
            return Vec::new();
        }
        let mut foreign = Vec::new();
        for reference in &alert.references {
            for owner in self.owners_of(reference) {
                if owner != *authority {
                    foreign.push(ForeignReference {
                        reference: reference.clone(),
                        owner,
                    });
                }
            }
        }
        foreign
    }

    pub fn active_identities(&self) -> BTreeSet<Identity> {
        self.active.clone()
    }

    /// References of `alert` (an Update or Cancel) naming messages not held.
    pub fn unresolved_references(&self, alert: &Alert) -> Vec<Reference> {
        if !matches!(alert.msg_type, MsgType::Update | MsgType::Cancel) {
            return Vec::new();
        }
        alert
            .references
            .iter()
            .filter(|r| self.named_by(r).next().is_none())
            .cloned()
            .collect()
    }

    /// Adds one message (already trusted and validated) at `now`, as its
    /// sender's own authority.
    pub fn apply(&mut self, alert: Alert, now: DateTime<Utc>) -> Applied {
        let authority = Authority::sender(&alert.sender);
        self.apply_as(alert, authority, now)
    }

    /// Adds one message at `now` under `authority`: its references end only
    /// that authority's alerts.
    pub fn apply_as(&mut self, alert: Alert, authority: Authority, now: DateTime<Utc>) -> Applied {
        let mut applied = Applied {
            events: self.expire(now),
            ..Applied::default()
        };
        let id = Identity::of(&alert);
        if self.messages.contains_key(&id) {
            applied.duplicate = true;
            return applied;
        }
        let supersedes = matches!(alert.msg_type, MsgType::Update | MsgType::Cancel);
        let mut previous_active = Vec::new();
        if supersedes {
            for reference in &alert.references {
                if self.named_by(reference).next().is_none() {
                    applied.unresolved_references.push(reference.clone());
                }
                let targets = self.targets_of(reference, &authority);
                self.referenced
                    .entry(reference_name(reference))
                    .or_default()
                    .insert((
                        reference.sent.map(|t| t.with_timezone(&Utc)),
                        id.clone(),
                        authority.clone(),
                    ));
                for target in targets {
                    if self.active.remove(&target)
                        && let Some(entry) = self.messages.get(&target)
                    {
                        previous_active.push(entry.alert.clone());
                    }
                }
            }
        }
        previous_active.sort_by_key(|a| a.sent);

        let expiry = self.expiry_of(&alert);
        applied.superseded_on_arrival = self.is_referenced(&id, &authority);
        applied.foreign_referrers = self.foreign_referrers(&id, &authority);
        applied.expired_on_arrival = now >= expiry;
        let in_force = matches!(alert.msg_type, MsgType::Alert | MsgType::Update)
            && !applied.superseded_on_arrival
            && !applied.expired_on_arrival;
        if in_force {
            self.active.insert(id.clone());
        }

        match (alert.msg_type, in_force, previous_active.is_empty()) {
            (MsgType::Cancel, _, false) => applied.events.push(LifecycleEvent::Cancelled {
                previous: previous_active,
                cancel: alert.clone(),
            }),
            (MsgType::Update, true, false) => applied.events.push(LifecycleEvent::Updated {
                previous: previous_active,
                current: alert.clone(),
            }),
            (_, true, true) => applied.events.push(LifecycleEvent::New(alert.clone())),
            (_, false, false) => applied
                .events
                .extend(previous_active.into_iter().map(LifecycleEvent::Expired)),
            _ => {}
        }
        self.by_name
            .entry(id.name())
            .or_default()
            .insert(id.clone());
        self.messages.insert(
            id,
            Entry {
                alert,
                authority,
                expiry,
            },
        );
        applied
    }

    fn sent_matches(&self, referenced: Option<DateTime<Utc>>, sent: DateTime<Utc>) -> bool {
        referenced.is_none_or(|r| (r - sent).abs() <= self.config.reference_tolerance)
    }

    /// Held messages a reference names, of any authority.
    fn named_by<'a>(&'a self, reference: &'a Reference) -> impl Iterator<Item = &'a Identity> {
        let referenced = reference.sent.map(|t| t.with_timezone(&Utc));
        self.by_name
            .get(&reference_name(reference))
            .into_iter()
            .flatten()
            .filter(move |id| self.sent_matches(referenced, id.sent))
    }

    /// Held messages of `authority` a reference names.
    fn targets_of(&self, reference: &Reference, authority: &Authority) -> Vec<Identity> {
        self.named_by(reference)
            .filter(|id| self.authority_of(id) == Some(authority))
            .cloned()
            .collect()
    }

    /// Does an Update or Cancel of `authority` held name this message?
    fn is_referenced(&self, id: &Identity, authority: &Authority) -> bool {
        self.referenced.get(&id.name()).is_some_and(|refs| {
            refs.iter()
                .any(|(sent, _, by)| by == authority && self.sent_matches(*sent, id.sent))
        })
    }

    /// How many held Updates and Cancels of other authorities name it.
    fn foreign_referrers(&self, id: &Identity, authority: &Authority) -> usize {
        self.referenced.get(&id.name()).map_or(0, |refs| {
            refs.iter()
                .filter(|(sent, _, by)| by != authority && self.sent_matches(*sent, id.sent))
                .count()
        })
    }

    /// Removes the alerts whose expiry has come.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Vec<LifecycleEvent> {
        let due: Vec<Identity> = self
            .active
            .iter()
            .filter(|id| self.messages.get(*id).is_some_and(|e| now >= e.expiry))
            .cloned()
            .collect();
        let mut events = Vec::with_capacity(due.len());
        for id in due {
            self.active.remove(&id);
            if let Some(entry) = self.messages.get(&id) {
                events.push(LifecycleEvent::Expired(entry.alert.clone()));
            }
        }
        events
    }

    /// Forgets messages no longer in force whose expiry is older than
    /// `keep`, to bound memory. A late duplicate of a forgotten message is
    /// still caught by the store's key check.
    pub fn prune(&mut self, now: DateTime<Utc>, keep: Duration) {
        let cutoff = now - keep;
        let active = &self.active;
        self.messages
            .retain(|id, entry| active.contains(id) || entry.expiry > cutoff);
        let messages = &self.messages;
        self.by_name.retain(|_, ids| {
            ids.retain(|id| messages.contains_key(id));
            !ids.is_empty()
        });
        // References are dropped with their referring message.
        self.referenced.retain(|_, refs| {
            refs.retain(|(_, referrer, _)| messages.contains_key(referrer));
            !refs.is_empty()
        });
    }

    /// The active set recomputed from scratch by the definition in the
    /// module documentation (for tests and consistency checks).
    pub fn active_by_definition(&self, now: DateTime<Utc>) -> BTreeSet<Identity> {
        self.messages
            .iter()
            .filter(|(id, e)| {
                matches!(e.alert.msg_type, MsgType::Alert | MsgType::Update)
                    && !self.is_referenced(id, &e.authority)
                    && now < e.expiry
            })
            .map(|(id, _)| id.clone())
            .collect::<BTreeSet<_>>()
    }

    /// Number of messages held.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

/// Groups of events by kind, for logs.
pub fn event_kind(event: &LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::New(_) => "new",
        LifecycleEvent::Updated { .. } => "updated",
        LifecycleEvent::Cancelled { .. } => "cancelled",
        LifecycleEvent::Expired(_) => "expired",
    }
}
