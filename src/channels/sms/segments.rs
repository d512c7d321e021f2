//! How many SMS segments a text costs. A text that fits the GSM 03.38 alphabet travels as
//! 7-bit septets (160 per single SMS, 153 per part of a concatenated one, since the UDH takes
//! the rest); one character outside it turns the whole text into UCS-2 (70, or 67 per part).

/// The alphabet a text is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// The size of a text on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLength {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    pub segments: usize,
}

/// The GSM 03.38 basic character set, in code order (0x1B, the escape, left out).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Characters of the extension table: an escape septet plus one, so they cost two.
const GSM7_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Septets `c` takes in GSM-7, or `None` when it is not in the alphabet.
pub fn gsm7_septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The encoding, length and number of segments of `text`. Parts are packed the way phones
/// and SMSCs do: an escape pair (GSM-7) or a surrogate pair (UCS-2) is never split.
pub fn measure(text: &str) -> SmsLength {
    let gsm: Option<Vec<usize>> = text.chars().map(gsm7_septets).collect();
    let (encoding, widths, single, part) = match gsm {
        Some(widths) => (Encoding::Gsm7, widths, 160, 153),
        None => (Encoding::Ucs2, text.chars().map(char::len_utf16).collect(), 70, 67),
    };
    let units = widths.iter().sum();
    let segments = if units <= single { 1 } else { parts(&widths, part) };
    SmsLength { encoding, units, segments }
}

/// Greedy packing of characters of the given widths into parts of `capacity` units.
fn parts(widths: &[usize], capacity: usize) -> usize {
    let mut parts = 1;
    let mut used = 0;
    for &width in widths {
        if used + width > capacity {
            parts += 1;
            used = 0;
        }
        used += width;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_letters_are_in_the_gsm_alphabet() {
        for c in "ÆØÅæøå".chars() {
            assert_eq!(gsm7_septets(c), Some(1), "{c}");
        }
        assert_eq!(gsm7_septets('€'), Some(2));
        assert_eq!(gsm7_septets('['), Some(2));
        assert_eq!(gsm7_septets('–'), None);
        assert_eq!(gsm7_septets('ç'), None, "only the capital Ç is in the basic set");
    }

    #[test]
    fn gsm7_texts_fit_160_then_153_per_part() {
        let m = measure(&"a".repeat(160));
        assert_eq!((m.encoding, m.units, m.segments), (Encoding::Gsm7, 160, 1));
        assert_eq!(measure(&"a".repeat(161)).segments, 2);
        assert_eq!(measure(&"a".repeat(306)).segments, 2);
        assert_eq!(measure(&"a".repeat(307)).segments, 3);
        assert_eq!(measure("").segments, 1);
    }

    #[test]
    fn extension_characters_count_twice_and_are_not_split() {
        let m = measure(&"€".repeat(80));
        assert_eq!((m.encoding, m.units, m.segments), (Encoding::Gsm7, 160, 1));
        assert_eq!(measure(&"€".repeat(81)).segments, 2);
        // 152 septets, then a two-septet character that would straddle the part boundary
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(measure(&text).units, 164);
        let straddling = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(measure(&straddling).units, 306);
        assert_eq!(measure(&straddling).segments, 3, "the € moves to the second part");
    }

    #[test]
    fn one_character_outside_gsm7_makes_the_text_ucs2() {
        let m = measure(&format!("{}–", "a".repeat(69)));
        assert_eq!((m.encoding, m.units, m.segments), (Encoding::Ucs2, 70, 1));
        assert_eq!(measure(&"ç".repeat(71)).segments, 2);
        assert_eq!(measure(&"ç".repeat(134)).segments, 2);
        assert_eq!(measure(&"ç".repeat(135)).segments, 3);
    }

    #[test]
    fn characters_outside_the_bmp_take_two_ucs2_units() {
        let m = measure("😀");
        assert_eq!((m.encoding, m.units), (Encoding::Ucs2, 2));
        // 66 units, then a surrogate pair that does not fit in the first 67-unit part
        let text = format!("{}😀{}", "ç".repeat(66), "ç".repeat(10));
        assert_eq!(measure(&text).units, 78);
        assert_eq!(measure(&text).segments, 2);
    }
}
