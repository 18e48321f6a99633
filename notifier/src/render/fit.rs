//! Shortening text to a budget without breaking what a reader sees.
//!
//! Cuts fall on grapheme cluster boundaries (a Thai consonant keeps its vowel
//! and tone marks, a Vietnamese letter its diacritics, an emoji its
//! modifiers) and are marked with the locale's ellipsis.

use unicode_segmentation::UnicodeSegmentation;

/// Byte offsets at which `text` may be cut: the start of every grapheme
/// cluster, then the end of the text.
pub(crate) fn cut_points(text: &str) -> Vec<usize> {
    let mut points: Vec<usize> = text.grapheme_indices(true).map(|(i, _)| i).collect();
    points.push(text.len());
    points
}

/// The longest prefix of `text` (cut at a grapheme boundary, followed by
/// `ellipsis` when anything was cut) for which `fits` holds, or `None` when
/// not even the ellipsis alone fits. `fits` must be monotone: if a text
/// fits, every prefix of it fits too.
pub(crate) fn longest_fitting(
    text: &str,
    ellipsis: &str,
    mut fits: impl FnMut(&str) -> bool,
) -> Option<String> {
    if fits(text) {
        return Some(text.to_string());
    }
    let points = cut_points(text);
    let candidate = |k: usize| {
        let mut s = String::with_capacity(points[k] + ellipsis.len());
        s.push_str(text[..points[k]].trim_end());
        s.push_str(ellipsis);
        s
    };
    // Binary search on the number of graphemes kept (the full text, index
    // `points.len() - 1`, is already known not to fit).
    let (mut lo, mut hi) = (0usize, points.len() - 1);
    if !fits(&candidate(0)) {
        return None;
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(&candidate(mid)) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // Prefer ending on a whole word when that costs little. Scripts written
    // without spaces (Thai, Chinese, Japanese) have no such boundary nearby
    // and keep the grapheme cut; a shorter prefix fits whenever a longer
    // one does, so the word cut needs no new check.
    let word_start = text[..points[lo]]
        .split_word_bound_indices()
        .filter(|(_, word)| word.chars().all(char::is_whitespace))
        .map(|(i, _)| i)
        .next_back();
    if let Some(cut) = word_start
        && cut > 0
        && lo - points.iter().position(|p| *p >= cut).unwrap_or(lo) <= WORD_CUT_SLACK
    {
        let mut s = String::with_capacity(cut + ellipsis.len());
        s.push_str(text[..cut].trim_end());
        s.push_str(ellipsis);
        return Some(s);
    }
    Some(candidate(lo))
}

/// How many graphemes a word-boundary cut may give up.
const WORD_CUT_SLACK: usize = 12;

/// `text` shortened to at most `max_chars` characters (Unicode scalar values).
pub(crate) fn truncate_chars(text: &str, max_chars: usize, ellipsis: &str) -> String {
    longest_fitting(text, ellipsis, |s| s.chars().count() <= max_chars).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_grapheme_boundaries() {
        // "น้ำท่วม" (flood): the tone and vowel marks stay with their consonant.
        let thai = "น้ำท่วมหนักมาก";
        for max in 1..thai.chars().count() {
            let cut = truncate_chars(thai, max, "…");
            assert!(cut.chars().count() <= max, "{cut} longer than {max}");
            let kept = cut.trim_end_matches('…');
            assert!(thai.starts_with(kept));
            assert!(
                cut_points(thai).contains(&kept.len()),
                "cut inside a cluster: {cut}"
            );
        }
    }

    #[test]
    fn keeps_text_that_fits_and_marks_cuts() {
        assert_eq!(truncate_chars("Leave now", 9, "..."), "Leave now");
        assert_eq!(truncate_chars("Leave now", 8, "..."), "Leave...");
        assert_eq!(truncate_chars("Leave now", 2, "..."), "");
    }

    #[test]
    fn prefers_whole_words_when_cheap() {
        assert_eq!(
            truncate_chars("Keep away from streams and slopes", 22, "..."),
            "Keep away from..."
        );
        // One long word: the grapheme cut stays.
        assert_eq!(
            truncate_chars("Donaudampfschifffahrtsgesellschaft", 10, "..."),
            "Donauda..."
        );
        // No spaces (Thai): the grapheme cut stays.
        let thai = "อพยพไปยังที่ปลอดภัยทันที";
        let cut = truncate_chars(thai, 10, "…");
        assert_eq!(cut.chars().count(), 10, "{cut}");
    }
}
