//! What changed between two atlases (an older import and a newer one), and
//! how old village codes map to new ones when villages merge or split.

use std::collections::BTreeMap;

use geo::{BoundingRect, Contains};
use serde::Serialize;

use crate::atlas::Atlas;
use crate::codes::Level;
use crate::model::Area;

/// Areas added, removed, renamed or reshaped, per level.
#[derive(Debug, Default, Serialize)]
pub struct ChangeReport {
    pub added: Vec<AreaRef>,
    pub removed: Vec<AreaRef>,
    pub renamed: Vec<Renamed>,
    pub geometry_changed: Vec<AreaRef>,
    /// Old village code → the new village codes covering it, for every old
    /// village whose code no longer names the same place.
    pub village_migration: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaRef {
    pub level: Level,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Renamed {
    pub level: Level,
    pub code: String,
    pub old_name: String,
    pub new_name: String,
}

impl ChangeReport {
    /// One line of counts, e.g. "villages: 12 added, 3 removed, …".
    pub fn summary(&self) -> String {
        format!(
            "changes: {} added, {} removed, {} renamed, {} geometry changed, {} old village codes remapped",
            self.added.len(),
            self.removed.len(),
            self.renamed.len(),
            self.geometry_changed.len(),
            self.village_migration.len()
        )
    }
}

fn area_ref(atlas: &Atlas, a: &Area) -> AreaRef {
    AreaRef {
        level: a.level,
        code: a.code.clone(),
        name: atlas.full_name(a),
    }
}

/// Compares `old` with `new` area by area (by MOI code).
pub fn compare(old: &Atlas, new: &Atlas) -> ChangeReport {
    let mut report = ChangeReport::default();
    for o in old.areas() {
        match new.area(&o.code) {
            None => report.removed.push(area_ref(old, o)),
            Some(n) => {
                if o.name != n.name {
                    report.renamed.push(Renamed {
                        level: o.level,
                        code: o.code.clone(),
                        old_name: old.full_name(o),
                        new_name: new.full_name(n),
                    });
                }
                if o.geometry != n.geometry {
                    report.geometry_changed.push(area_ref(new, n));
                }
            }
        }
    }
    for n in new.areas() {
        if old.area(&n.code).is_none() {
            report.added.push(area_ref(new, n));
        }
    }
    for o in old.villages() {
        let mapped = migrate_village(o, new);
        if mapped.as_slice() != [o.code.clone()] {
            report.village_migration.insert(o.code.clone(), mapped);
        }
    }
    report
}

/// The villages of `new` that cover the old village `old_village`:
/// its own code when that still names a village containing the old
/// representative point; otherwise every new village that contains the old
/// representative point (a merge) or whose representative point lies in
/// the old boundary (a split). Sorted, without duplicates; empty only if
/// the place left the atlas entirely.
pub fn migrate_village(old_village: &Area, new: &Atlas) -> Vec<String> {
    let point = old_village.label_point;
    if let (Some(n), Some(p)) = (new.area(&old_village.code), point)
        && n.level == Level::Village
        && n.geometry.contains(&geo::Point::from(p))
        && n.name == old_village.name
    {
        return vec![n.code.clone()];
    }
    let mut codes: Vec<String> = Vec::new();
    if let Some(p) = point
        && let Some(loc) = new.locate(p.x, p.y)
    {
        codes.push(loc.village_code().to_string());
    }
    let Some(bbox) = old_village.geometry.bounding_rect() else {
        return codes;
    };
    for v in new.villages() {
        if let Some(lp) = v.label_point
            && bbox.contains(&lp)
            && old_village.geometry.contains(&geo::Point::from(lp))
        {
            codes.push(v.code.clone());
        }
    }
    codes.sort();
    codes.dedup();
    codes
}

/// The new village code of a place known by its old code and point: the
/// village the point now falls in (points are the ground truth when
/// villages are redrawn).
pub fn migrate_point(new: &Atlas, lon: f64, lat: f64) -> Option<&str> {
    new.locate(lon, lat).map(|l| l.village.code.as_str())
}
