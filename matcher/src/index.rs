//! The subscriber place index: every registered place, searchable by area.
//!
//! # Layout and memory per place
//! Places with a point sit in a static [`PackedTree`] bulk-loaded at
//! start (16 bytes for the point + 2.1 bytes of boxes), with, per tree
//! position, the subscriber id (4 bytes) and [`Attrs`] (preference
//! reference, village, place number: 8 bytes), a tombstone bit and one
//! entry of the key lookup (4 bytes): about 34.3 bytes per place in all,
//! of which the spatial index proper (points, tree, ids) is 22.1.
//!
//! Changes never touch the tree: an inserted or moved place goes to a
//! small overlay scanned linearly by every query; a removed or moved one
//! gets a tombstone. When the overlay or the tombstones pass a threshold
//! (see [`CompactionPolicy`]) the next change rebuilds the tree from the
//! live places, so a change costs amortised O(log n) and a query never
//! scans more than the threshold's overlay.
//!
//! Places known only to their village or town (no point) are kept apart
//! in a short list; they can only ever "may be affected" by a shape.

use std::collections::HashMap;

use crate::codes::{TownCode, VillageCode};
use crate::tree::PackedTree;

/// A subscriber, by the dense number the subscriber store gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriberId(pub u32);

/// One of a subscriber's places (home, work, parents…): its number among
/// that subscriber's places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlaceKey {
    pub subscriber: SubscriberId,
    pub place: u8,
}

/// Which [`crate::prefs::Preferences`] apply to a place (an index into
/// the preference table kept beside the index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PrefsRef(pub u32);

/// Where a place is, as precisely as it is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Location {
    /// A point (WGS84 degrees) and, when geodata resolved it, its village.
    Point {
        lon: f64,
        lat: f64,
        village: Option<VillageCode>,
    },
    /// Known only to the village.
    Village(VillageCode),
    /// Known only to the town.
    Town(TownCode),
}

/// A place to index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaceRecord {
    pub key: PlaceKey,
    pub location: Location,
    pub prefs: PrefsRef,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("place {place} of subscriber {subscriber} is listed twice")]
    DuplicatePlace { subscriber: u32, place: u8 },
    #[error("more than {max} distinct villages")]
    TooManyVillages { max: usize },
    #[error("more than {max} places")]
    TooManyPlaces { max: usize },
    #[error("place {place} of subscriber {subscriber} has a non-finite coordinate")]
    NotFinite { subscriber: u32, place: u8 },
}

/// When changes are folded back into the static tree.
#[derive(Debug, Clone, Copy)]
pub struct CompactionPolicy {
    /// The overlay may always hold this many places: small enough that a
    /// linear scan costs a few microseconds per query.
    pub overlay_floor: usize,
    /// …and up to this share of the static places (the rebuild this
    /// triggers costs O(n log n), so it must be rare).
    pub overlay_share: f64,
    /// Rebuild when this share of the static places are tombstones.
    pub dead_share: f64,
}

impl Default for CompactionPolicy {
    fn default() -> Self {
        CompactionPolicy {
            overlay_floor: 4096,
            overlay_share: 1.0 / 256.0,
            dead_share: 1.0 / 8.0,
        }
    }
}

/// Per-position attributes beside the tree (8 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Attrs {
    pub prefs: u32,
    /// Index into the village table; [`NO_VILLAGE`] when unknown.
    pub village: u16,
    pub place: u8,
}

pub(crate) const NO_VILLAGE: u16 = u16::MAX;

#[derive(Debug, Clone, Copy)]
pub(crate) struct OverlayPlace {
    pub point: [f64; 2],
    pub subscriber: u32,
    pub attrs: Attrs,
}

/// A place without a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CoarsePlace {
    pub key: PlaceKey,
    pub area: CoarseArea,
    pub prefs: PrefsRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CoarseArea {
    Village(VillageCode),
    Town(TownCode),
}

/// A found place: a static position, or (offset by the tree's length) an
/// overlay slot. Valid until the index next changes.
pub type Hit = u32;

/// What a [`Hit`] stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaceView {
    pub key: PlaceKey,
    pub point: [f64; 2],
    pub village: Option<VillageCode>,
    pub prefs: PrefsRef,
}

/// Interned village codes, so that a place stores 2 bytes for its village.
#[derive(Debug, Clone, Default)]
pub(crate) struct VillageTable {
    codes: Vec<VillageCode>,
    lookup: HashMap<VillageCode, u16>,
}

impl VillageTable {
    fn intern(&mut self, code: Option<VillageCode>) -> Result<u16, IndexError> {
        let Some(code) = code else {
            return Ok(NO_VILLAGE);
        };
        if let Some(&i) = self.lookup.get(&code) {
            return Ok(i);
        }
        let i = u16::try_from(self.codes.len())
            .ok()
            .filter(|&i| i != NO_VILLAGE)
            .ok_or(IndexError::TooManyVillages {
                max: usize::from(NO_VILLAGE),
            })?;
        self.codes.push(code);
        self.lookup.insert(code, i);
        Ok(i)
    }

    pub fn get(&self, i: u16) -> Option<VillageCode> {
        self.codes.get(usize::from(i)).copied()
    }

    pub fn find(&self, code: VillageCode) -> Option<u16> {
        self.lookup.get(&code).copied()
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }
}

/// The index. See the module documentation for layout and costs.
#[derive(Debug, Clone, Default)]
pub struct PlaceIndex {
    pub(crate) tree: PackedTree,
    pub(crate) subscribers: Vec<u32>,
    pub(crate) attrs: Vec<Attrs>,
    pub(crate) dead: Vec<u64>,
    pub(crate) dead_count: usize,
    /// Tree positions sorted by (subscriber, place), for changes; built on
    /// the first change so that a bulk load for matching does not pay it.
    by_key: std::sync::OnceLock<Vec<u32>>,
    /// Subscriber `i` is position `by_key[i]` (bulk-loaded bare points).
    dense_ids: bool,
    pub(crate) overlay: Vec<OverlayPlace>,
    overlay_slot: HashMap<PlaceKey, u32>,
    pub(crate) coarse: Vec<CoarsePlace>,
    pub(crate) villages: VillageTable,
    policy: CompactionPolicy,
}

/// How the ids of bulk-loaded points are given.
enum Ids {
    /// Point `i` is place 0 of subscriber `i`, preference set 0, no village.
    Dense,
    /// Per point: subscriber and attributes.
    Given(Vec<u32>, Vec<Attrs>),
}

enum Slot {
    Static(usize),
    Overlay(usize),
    Coarse(usize),
}

impl PlaceIndex {
    /// Bulk-loads `records`. Fails on a repeated key.
    pub fn build(records: Vec<PlaceRecord>) -> Result<PlaceIndex, IndexError> {
        let mut villages = VillageTable::default();
        let mut points = Vec::with_capacity(records.len());
        let mut subscribers = Vec::with_capacity(records.len());
        let mut attrs = Vec::with_capacity(records.len());
        let mut coarse = Vec::new();
        for r in &records {
            match r.location {
                Location::Point { lon, lat, village } => {
                    if !(lon.is_finite() && lat.is_finite()) {
                        return Err(IndexError::NotFinite {
                            subscriber: r.key.subscriber.0,
                            place: r.key.place,
                        });
                    }
                    points.push([lon, lat]);
                    subscribers.push(r.key.subscriber.0);
                    attrs.push(Attrs {
                        prefs: r.prefs.0,
                        village: villages.intern(village)?,
                        place: r.key.place,
                    });
                }
                Location::Village(v) => coarse.push(CoarsePlace {
                    key: r.key,
                    area: CoarseArea::Village(v),
                    prefs: r.prefs,
                }),
                Location::Town(t) => coarse.push(CoarsePlace {
                    key: r.key,
                    area: CoarseArea::Town(t),
                    prefs: r.prefs,
                }),
            }
        }
        drop(records);
        let mut index = PlaceIndex::from_parts(points, Ids::Given(subscribers, attrs), villages)?;
        for c in coarse {
            if index.locate(c.key).is_some() {
                return Err(IndexError::DuplicatePlace {
                    subscriber: c.key.subscriber.0,
                    place: c.key.place,
                });
            }
            index.coarse.push(c);
        }
        Ok(index)
    }

    /// Bulk-loads bare points: point `i` becomes place 0 of subscriber `i`,
    /// with preference set 0 and no village. For dry runs and benchmarks.
    pub fn from_points(points: Vec<[f64; 2]>) -> Result<PlaceIndex, IndexError> {
        let n = points.len();
        if u32::try_from(n).is_err() {
            return Err(IndexError::TooManyPlaces {
                max: u32::MAX as usize,
            });
        }
        PlaceIndex::from_parts(points, Ids::Dense, VillageTable::default())
    }

    fn from_parts(
        points: Vec<[f64; 2]>,
        ids: Ids,
        villages: VillageTable,
    ) -> Result<PlaceIndex, IndexError> {
        let n = points.len();
        if u32::try_from(n).is_err() {
            return Err(IndexError::TooManyPlaces {
                max: u32::MAX as usize,
            });
        }
        let (tree, order) = PackedTree::build(&points);
        drop(points);
        let dense_ids = matches!(ids, Ids::Dense);
        let (subscribers, attrs) = match ids {
            // Subscriber i is input point i: the tree order is the id list.
            Ids::Dense => (
                order,
                vec![
                    Attrs {
                        prefs: 0,
                        village: NO_VILLAGE,
                        place: 0,
                    };
                    n
                ],
            ),
            Ids::Given(subscribers, attrs) => (
                order.iter().map(|&i| subscribers[i as usize]).collect(),
                order.iter().map(|&i| attrs[i as usize]).collect(),
            ),
        };
        let index = PlaceIndex {
            dead: vec![0; n.div_ceil(64)],
            tree,
            subscribers,
            attrs,
            dead_count: 0,
            by_key: std::sync::OnceLock::new(),
            dense_ids,
            overlay: Vec::new(),
            overlay_slot: HashMap::new(),
            coarse: Vec::new(),
            villages,
            policy: CompactionPolicy::default(),
        };
        if !dense_ids {
            // Given keys may repeat: check now, with the lookup this builds.
            let by_key = index.by_key();
            for w in by_key.windows(2) {
                let (a, b) = (w[0] as usize, w[1] as usize);
                if index.key_at(a) == index.key_at(b) {
                    return Err(IndexError::DuplicatePlace {
                        subscriber: index.subscribers[a],
                        place: index.attrs[a].place,
                    });
                }
            }
        }
        Ok(index)
    }

    fn key_at(&self, pos: usize) -> (u32, u8) {
        (self.subscribers[pos], self.attrs[pos].place)
    }

    /// Tree positions in key order (built on first use).
    fn by_key(&self) -> &[u32] {
        self.by_key.get_or_init(|| {
            let n = self.subscribers.len();
            if self.dense_ids {
                let mut by_key = vec![0u32; n];
                for (pos, &s) in self.subscribers.iter().enumerate() {
                    by_key[s as usize] = pos as u32;
                }
                by_key
            } else {
                let mut by_key: Vec<u32> = (0..n as u32).collect();
                by_key.sort_unstable_by_key(|&p| self.key_at(p as usize));
                by_key
            }
        })
    }

    pub fn set_compaction_policy(&mut self, policy: CompactionPolicy) {
        self.policy = policy;
    }

    /// Live places with a point (static and overlay).
    pub fn point_places(&self) -> usize {
        self.tree.len() - self.dead_count + self.overlay.len()
    }

    /// Live places known only to their village or town.
    pub fn coarse_places(&self) -> usize {
        self.coarse.len()
    }

    /// Places waiting in the overlay, and tombstones in the tree.
    pub fn pending_changes(&self) -> (usize, usize) {
        (self.overlay.len(), self.dead_count)
    }

    /// Bytes of the spatial index proper: points, tree boxes and the
    /// subscriber id of every position.
    pub fn spatial_bytes(&self) -> usize {
        self.tree.heap_bytes() + self.subscribers.len() * 4
    }

    /// Bytes of everything the index holds (excluding hash-table overhead
    /// of the overlay, which the compaction policy keeps small).
    pub fn total_bytes(&self) -> usize {
        self.spatial_bytes()
            + self.attrs.len() * std::mem::size_of::<Attrs>()
            + self.dead.len() * 8
            + self.tree.len() * 4 // the key lookup, once built
            + self.overlay.len() * (std::mem::size_of::<OverlayPlace>() + 16)
            + self.coarse.len() * std::mem::size_of::<CoarsePlace>()
            + self.villages.len() * 16
    }

    fn is_dead(&self, pos: usize) -> bool {
        self.dead[pos / 64] >> (pos % 64) & 1 == 1
    }

    fn locate(&self, key: PlaceKey) -> Option<Slot> {
        if let Some(&i) = self.overlay_slot.get(&key) {
            return Some(Slot::Overlay(i as usize));
        }
        let probe = (key.subscriber.0, key.place);
        let by_key = self.by_key();
        if let Ok(i) = by_key.binary_search_by_key(&probe, |&p| self.key_at(p as usize)) {
            let pos = by_key[i] as usize;
            if !self.is_dead(pos) {
                return Some(Slot::Static(pos));
            }
        }
        self.coarse
            .iter()
            .position(|c| c.key == key)
            .map(Slot::Coarse)
    }

    /// Adds a place or moves an existing one. The tree is not rebuilt
    /// unless the compaction threshold is passed.
    pub fn upsert(&mut self, record: PlaceRecord) -> Result<(), IndexError> {
        self.remove_quietly(record.key);
        match record.location {
            Location::Point { lon, lat, village } => {
                if !(lon.is_finite() && lat.is_finite()) {
                    return Err(IndexError::NotFinite {
                        subscriber: record.key.subscriber.0,
                        place: record.key.place,
                    });
                }
                let attrs = Attrs {
                    prefs: record.prefs.0,
                    village: self.villages.intern(village)?,
                    place: record.key.place,
                };
                self.overlay_slot
                    .insert(record.key, self.overlay.len() as u32);
                self.overlay.push(OverlayPlace {
                    point: [lon, lat],
                    subscriber: record.key.subscriber.0,
                    attrs,
                });
            }
            Location::Village(v) => self.coarse.push(CoarsePlace {
                key: record.key,
                area: CoarseArea::Village(v),
                prefs: record.prefs,
            }),
            Location::Town(t) => self.coarse.push(CoarsePlace {
                key: record.key,
                area: CoarseArea::Town(t),
                prefs: record.prefs,
            }),
        }
        self.compact_if_due()
    }

    /// Removes a place; returns whether it was there.
    pub fn remove(&mut self, key: PlaceKey) -> Result<bool, IndexError> {
        let found = self.remove_quietly(key);
        self.compact_if_due()?;
        Ok(found)
    }

    fn remove_quietly(&mut self, key: PlaceKey) -> bool {
        match self.locate(key) {
            None => false,
            Some(Slot::Static(pos)) => {
                self.dead[pos / 64] |= 1 << (pos % 64);
                self.dead_count += 1;
                true
            }
            Some(Slot::Overlay(i)) => {
                self.overlay_slot.remove(&key);
                self.overlay.swap_remove(i);
                if let Some(moved) = self.overlay.get(i) {
                    let moved_key = PlaceKey {
                        subscriber: SubscriberId(moved.subscriber),
                        place: moved.attrs.place,
                    };
                    self.overlay_slot.insert(moved_key, i as u32);
                }
                true
            }
            Some(Slot::Coarse(i)) => {
                self.coarse.swap_remove(i);
                true
            }
        }
    }

    /// Whether the overlay or the tombstones have passed the policy.
    pub fn compaction_due(&self) -> bool {
        let n = self.tree.len() as f64;
        let overlay_limit = (self.policy.overlay_share * n).max(self.policy.overlay_floor as f64);
        self.overlay.len() as f64 > overlay_limit
            || (self.dead_count > 0 && self.dead_count as f64 > self.policy.dead_share * n)
    }

    fn compact_if_due(&mut self) -> Result<(), IndexError> {
        if self.compaction_due() {
            self.compact()?;
        }
        Ok(())
    }

    /// Rebuilds the tree from the live places, emptying the overlay and
    /// dropping tombstones. O(n log n).
    pub fn compact(&mut self) -> Result<(), IndexError> {
        let live = self.point_places();
        let mut points = Vec::with_capacity(live);
        let mut subscribers = Vec::with_capacity(live);
        let mut attrs = Vec::with_capacity(live);
        // Walk in key order so the rebuilt lookup needs no sort.
        let mut overlay: Vec<&OverlayPlace> = self.overlay.iter().collect();
        overlay.sort_unstable_by_key(|o| (o.subscriber, o.attrs.place));
        let mut o = overlay.into_iter().peekable();
        for &pos in self.by_key() {
            let pos = pos as usize;
            if self.is_dead(pos) {
                continue;
            }
            let key = (self.subscribers[pos], self.attrs[pos].place);
            while let Some(next) = o.next_if(|x| (x.subscriber, x.attrs.place) < key) {
                points.push(next.point);
                subscribers.push(next.subscriber);
                attrs.push(next.attrs);
            }
            points.push(self.tree.point(pos));
            subscribers.push(self.subscribers[pos]);
            attrs.push(self.attrs[pos]);
        }
        for next in o {
            points.push(next.point);
            subscribers.push(next.subscriber);
            attrs.push(next.attrs);
        }
        let villages = std::mem::take(&mut self.villages);
        let coarse = std::mem::take(&mut self.coarse);
        let policy = self.policy;
        *self = PlaceIndex::from_parts(points, Ids::Given(subscribers, attrs), villages)?;
        self.coarse = coarse;
        self.policy = policy;
        tracing::debug!(places = live, "place index compacted");
        Ok(())
    }

    /// The place a hit stands for.
    pub fn place(&self, hit: Hit) -> PlaceView {
        let hit = hit as usize;
        let (point, subscriber, attrs) = if hit < self.tree.len() {
            (self.tree.point(hit), self.subscribers[hit], self.attrs[hit])
        } else {
            let o = &self.overlay[hit - self.tree.len()];
            (o.point, o.subscriber, o.attrs)
        };
        PlaceView {
            key: PlaceKey {
                subscriber: SubscriberId(subscriber),
                place: attrs.place,
            },
            point,
            village: self.villages.get(attrs.village),
            prefs: PrefsRef(attrs.prefs),
        }
    }

    /// Collects the hits of live places whose point lies in the closed
    /// range of tree positions (used by searches).
    #[inline]
    pub(crate) fn take_range(&self, range: std::ops::Range<usize>, out: &mut Vec<Hit>) {
        if self.dead_count == 0 {
            out.extend(range.start as u32..range.end as u32);
        } else {
            out.extend(range.filter(|&p| !self.is_dead(p)).map(|p| p as u32));
        }
    }

    #[inline]
    pub(crate) fn take_one(&self, pos: usize, out: &mut Vec<Hit>) {
        if self.dead_count == 0 || !self.is_dead(pos) {
            out.push(pos as u32);
        }
    }
}
