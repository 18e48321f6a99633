//! A packed, static R-tree over points: Hilbert-sorted points in one array,
//! with a box per group of [`LEAF_SIZE`] points and per group of
//! [`FANOUT`] boxes above that.
//!
//! # Why not a dynamic R-tree
//! The tree is built once from all places and answers many queries; a
//! packed layout needs no per-node pointers or vectors, so it holds a
//! whole country in about 18 bytes per place (16 for the point, 2 for the
//! boxes) and descends through contiguous arrays. Every node covers a
//! contiguous range of the point array, so a node that lies wholly inside
//! an area yields its places as one range without looking at them.
//! Changes go to the overlay in [`crate::index`], never into this tree.
//!
//! # Cost
//! Build: O(n log n) (one sort of 64-bit Hilbert keys). Memory:
//! 16 bytes per point + 32 bytes per node; with 16 points per leaf and
//! 16 children per node that is 16 + 2.13 bytes per point.

use crate::bbox::Bbox;

/// Points per leaf.
pub const LEAF_SIZE: usize = 16;
/// Children per inner node.
pub const FANOUT: usize = 16;

/// The static tree. Positions `0..len()` index the points in tree order.
#[derive(Debug, Clone, Default)]
pub struct PackedTree {
    points: Vec<[f64; 2]>,
    /// `levels[0]` holds one box per leaf, the last level the roots.
    levels: Vec<Vec<Bbox>>,
}

impl PackedTree {
    /// Builds the tree; returns it with `order`, where `order[position]`
    /// is the index in `points` of the point stored at `position`.
    pub fn build(points: &[[f64; 2]]) -> (PackedTree, Vec<u32>) {
        let order = hilbert_order(points);
        let sorted: Vec<[f64; 2]> = order.iter().map(|&i| points[i as usize]).collect();
        let mut levels = Vec::new();
        let mut level: Vec<Bbox> = sorted
            .chunks(LEAF_SIZE)
            .map(|chunk| {
                let mut b = Bbox::EMPTY;
                for p in chunk {
                    b.extend(p[0], p[1]);
                }
                b
            })
            .collect();
        while level.len() > FANOUT {
            let up = level
                .chunks(FANOUT)
                .map(|chunk| {
                    let mut b = Bbox::EMPTY;
                    for c in chunk {
                        b.union(c);
                    }
                    b
                })
                .collect();
            levels.push(level);
            level = up;
        }
        levels.push(level);
        (
            PackedTree {
                points: sorted,
                levels,
            },
            order,
        )
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    #[inline]
    pub fn point(&self, position: usize) -> [f64; 2] {
        self.points[position]
    }

    pub fn points(&self) -> &[[f64; 2]] {
        &self.points
    }

    /// Bytes held by points and boxes.
    pub fn heap_bytes(&self) -> usize {
        self.points.len() * 16
            + self
                .levels
                .iter()
                .map(|l| l.len() * std::mem::size_of::<Bbox>())
                .sum::<usize>()
    }

    pub(crate) fn top_level(&self) -> usize {
        self.levels.len().saturating_sub(1)
    }

    pub(crate) fn level_len(&self, level: usize) -> usize {
        self.levels.get(level).map_or(0, Vec::len)
    }

    #[inline]
    pub(crate) fn node_box(&self, level: usize, node: usize) -> &Bbox {
        &self.levels[level][node]
    }

    /// The children of an inner node (at `level - 1`).
    #[inline]
    pub(crate) fn children(&self, level: usize, node: usize) -> std::ops::Range<usize> {
        let lo = node * FANOUT;
        lo..((node + 1) * FANOUT).min(self.levels[level - 1].len())
    }

    /// The positions of the points under a node.
    #[inline]
    pub(crate) fn point_range(&self, level: usize, node: usize) -> std::ops::Range<usize> {
        let span = LEAF_SIZE * FANOUT.pow(level as u32);
        let lo = node * span;
        lo..(lo + span).min(self.points.len())
    }
}

/// Indices of `points` sorted along a Hilbert curve of order 16 over
/// their bounding box (ties broken by index, so the order is deterministic).
fn hilbert_order(points: &[[f64; 2]]) -> Vec<u32> {
    let mut bbox = Bbox::EMPTY;
    for p in points {
        bbox.extend(p[0], p[1]);
    }
    let sx = 65535.0 / (bbox.max_x - bbox.min_x).max(f64::MIN_POSITIVE);
    let sy = 65535.0 / (bbox.max_y - bbox.min_y).max(f64::MIN_POSITIVE);
    let mut keys: Vec<u64> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = ((p[0] - bbox.min_x) * sx) as u32;
            let y = ((p[1] - bbox.min_y) * sy) as u32;
            (u64::from(hilbert_index(x, y)) << 32) | i as u64
        })
        .collect();
    radix_sort(&mut keys);
    keys.into_iter().map(|k| k as u32).collect()
}

/// Position of (`x`, `y`) (16-bit each) along the Hilbert curve: the
/// branch-free prefix-scan formulation (as in flatbush), a few dozen bit
/// operations instead of a 16-step loop.
fn hilbert_index(x: u32, y: u32) -> u32 {
    let mut a = x ^ y;
    let mut b = 0xFFFF ^ a;
    let mut c = 0xFFFF ^ (x | y);
    let mut d = x & (y ^ 0xFFFF);
    let mut aa = a | (b >> 1);
    let mut bb = (a >> 1) ^ a;
    let mut cc = ((c >> 1) ^ (b & (d >> 1))) ^ c;
    let mut dd = ((a & (c >> 1)) ^ (d >> 1)) ^ d;
    for shift in [2u32, 4] {
        (a, b, c, d) = (aa, bb, cc, dd);
        aa = (a & (a >> shift)) ^ (b & (b >> shift));
        bb = (a & (b >> shift)) ^ (b & ((a ^ b) >> shift));
        cc ^= (a & (c >> shift)) ^ (b & (d >> shift));
        dd ^= (b & (c >> shift)) ^ ((a ^ b) & (d >> shift));
    }
    (a, b, c, d) = (aa, bb, cc, dd);
    cc ^= (a & (c >> 8)) ^ (b & (d >> 8));
    dd ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8));
    let a = cc ^ (cc >> 1);
    let b = dd ^ (dd >> 1);
    let i0 = x ^ y;
    let i1 = b | (0xFFFF ^ (i0 | a));
    (spread_bits(i1) << 1) | spread_bits(i0)
}

/// Spreads the low 16 bits of `v` to the even bit positions.
fn spread_bits(mut v: u32) -> u32 {
    v = (v | (v << 8)) & 0x00FF_00FF;
    v = (v | (v << 4)) & 0x0F0F_0F0F;
    v = (v | (v << 2)) & 0x3333_3333;
    (v | (v << 1)) & 0x5555_5555
}

/// LSD radix sort of 64-bit keys, 16 bits per pass (the low 32 bits hold
/// the index, which is already ascending, so only the high half is sorted).
fn radix_sort(keys: &mut Vec<u64>) {
    let mut buf = vec![0u64; keys.len()];
    for shift in [32u32, 48] {
        let mut counts = vec![0usize; 1 << 16];
        for &k in keys.iter() {
            counts[((k >> shift) & 0xffff) as usize] += 1;
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &k in keys.iter() {
            let slot = &mut counts[((k >> shift) & 0xffff) as usize];
            buf[*slot] = k;
            *slot += 1;
        }
        std::mem::swap(keys, &mut buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hilbert_curve_visits_neighbours() {
        // Consecutive indices on the curve are adjacent cells.
        let mut cells = vec![(0u32, 0u32); 64 * 64];
        for x in 0..64u32 {
            for y in 0..64u32 {
                // Scale the 64×64 grid to the top bits of the 16-bit grid.
                let d = hilbert_index(x << 10, y << 10) >> 20;
                cells[d as usize] = (x, y);
            }
        }
        for w in cells.windows(2) {
            let dist = w[0].0.abs_diff(w[1].0) + w[0].1.abs_diff(w[1].1);
            assert_eq!(dist, 1, "{:?}", w);
        }
    }

    #[test]
    fn boxes_cover_their_points_and_order_is_a_permutation() {
        let points: Vec<[f64; 2]> = (0..5000)
            .map(|i| {
                let t = f64::from(i);
                [
                    120.0 + (t * 0.618).fract() * 2.0,
                    22.0 + (t * 0.414).fract() * 3.0,
                ]
            })
            .collect();
        let (tree, order) = PackedTree::build(&points);
        let mut seen = vec![false; points.len()];
        for (pos, &i) in order.iter().enumerate() {
            assert!(!seen[i as usize]);
            seen[i as usize] = true;
            assert_eq!(tree.point(pos), points[i as usize]);
        }
        for level in 0..=tree.top_level() {
            for node in 0..tree.level_len(level) {
                let b = tree.node_box(level, node);
                for pos in tree.point_range(level, node) {
                    let p = tree.point(pos);
                    assert!(b.contains_point(p[0], p[1]));
                }
            }
        }
        assert_eq!(
            tree.point_range(tree.top_level(), tree.level_len(tree.top_level()) - 1)
                .end,
            5000
        );
    }
}
