//! Right-to-left text on paper (Arabic): which way a paragraph reads, and the order in which
//! the stretches of one line are drawn, by the Unicode Bidirectional Algorithm (UAX #9).
//! The shaper gets each stretch in one direction, so a date or a phone number inside an
//! Arabic sentence keeps its digits in reading order.

use unicode_bidi::{BidiInfo, Level};

/// Whether `c` opens or closes a directional isolate (LRI, RLI, FSI, PDI): kept in the text
/// for the algorithm, never drawn.
pub fn is_isolate_mark(c: char) -> bool {
    ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` as a first-strong isolate: a phone number, a case number or a date inserted into
/// an Arabic sentence keeps its own direction, rather than taking the sentence's (UAX #9
/// makes the digits of "+45 70 10 10 10" after Arabic letters Arabic numbers, reversing the
/// groups).
pub fn isolate(text: &str) -> String {
    format!("\u{2068}{text}\u{2069}")
}

/// A stretch of one piece of a line, all in one direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Stretch {
    /// Index of the piece (in logical order) this stretch belongs to.
    pub piece: usize,
    pub text: String,
    pub rtl: bool,
}

/// Whether a paragraph reads right to left: its first strong character decides (rules P2, P3).
pub fn is_rtl_paragraph(text: &str) -> bool {
    BidiInfo::new(text, None).paragraphs.first().is_some_and(|p| p.level.is_rtl())
}

/// The pieces of one line, given in logical order, as stretches in visual order (left to
/// right on the page). A piece can give several stretches, and a stretch never spans two.
pub fn visual_order(pieces: &[&str], rtl: bool) -> Vec<Stretch> {
    let text: String = pieces.concat();
    let mut bounds = Vec::with_capacity(pieces.len() + 1);
    let mut at = 0;
    for piece in pieces {
        bounds.push(at);
        at += piece.len();
    }
    bounds.push(at);
    let info = BidiInfo::new(&text, Some(if rtl { Level::rtl() } else { Level::ltr() }));
    let Some(paragraph) = info.paragraphs.first() else { return Vec::new() };
    let (levels, runs) = info.visual_runs(paragraph, paragraph.range.clone());
    let mut out = Vec::new();
    for run in runs {
        let run_rtl = levels.get(run.start).is_some_and(|l| l.is_rtl());
        let mut stretches: Vec<Stretch> = bounds
            .windows(2)
            .enumerate()
            .filter_map(|(piece, w)| {
                let (start, end) = (w[0].max(run.start), w[1].min(run.end));
                let drawn: String = text.get(start..end)?.chars().filter(|c| !is_isolate_mark(*c)).collect();
                (!drawn.is_empty()).then_some(Stretch { piece, text: drawn, rtl: run_rtl })
            })
            .collect();
        // within a right-to-left run, the later piece stands further left
        if run_rtl {
            stretches.reverse();
        }
        out.extend(stretches);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_is_left_to_right_and_one_stretch_per_piece() {
        assert!(!is_rtl_paragraph("Svar senest 1. december 2026."));
        let order = visual_order(&["Svar ", "senest", " 1. december"], false);
        let texts: Vec<&str> = order.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["Svar ", "senest", " 1. december"]);
        assert!(order.iter().all(|s| !s.rtl));
    }

    #[test]
    fn arabic_reads_right_to_left_with_numbers_left_to_right_inside() {
        let text = "رد قبل 22 نوفمبر 2026.";
        assert!(is_rtl_paragraph(text));
        let order = visual_order(&[text], true);
        // visual order: the full stop (the logical end) is leftmost, the first word rightmost
        assert_eq!(order.first().map(|s| s.text.as_str()), Some("."));
        assert_eq!(order.last().map(|s| (s.text.as_str(), s.rtl)), Some(("رد قبل ", true)));
        // the digits stay a left-to-right stretch, in their own order
        assert!(order.iter().any(|s| s.text == "2026" && !s.rtl), "{order:?}");
        assert!(order.iter().any(|s| s.text == "22" && !s.rtl), "{order:?}");
    }

    #[test]
    fn isolated_numbers_keep_their_order_and_the_marks_are_not_drawn() {
        let bare = visual_order(&["الهاتف: +45 70 10 10 10"], true);
        // without an isolate the groups of digits come out reversed, as UAX #9 says
        assert_eq!(bare.first().map(|s| s.text.as_str()), Some("10"));
        let text = format!("الهاتف: {}", isolate("+45 70 10 10 10"));
        let order = visual_order(&[text.as_str()], true);
        assert_eq!(order.first().map(|s| (s.text.as_str(), s.rtl)), Some(("+45 70 10 10 10", false)), "{order:?}");
        assert!(order.iter().all(|s| !s.text.chars().any(is_isolate_mark)));
    }

    #[test]
    fn a_latin_paragraph_may_hold_arabic_and_a_stretch_never_spans_two_pieces() {
        assert!(!is_rtl_paragraph("Ring til Borgerservice (مركز خدمة) på 70 10 10 10"));
        let order = visual_order(&["مركز ", "خدمة"], true);
        // two pieces (say regular and bold) in one right-to-left run: the second stands left
        assert_eq!(
            order,
            [
                Stretch { piece: 1, text: "خدمة".into(), rtl: true },
                Stretch { piece: 0, text: "مركز ".into(), rtl: true }
            ]
        );
    }
}
