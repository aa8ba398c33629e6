//! Phone numbers, in international format only: `+`, the country calling code, the
//! national number; digits with spaces, `-`, `.`, `/` and parentheses between them.
//!
//! The shape checked here is cheap enough for the widget: a known calling code, and a
//! national number whose length is possible for that code. A national trunk prefix
//! written after the code, as in `+44 (0)20 …`, is dropped first, always, as the
//! `phonenumber` crate does (so `+7 812 …` loses its `8` and is too short on both
//! sides). North American numbers (`+1`) need ten digits with an area code starting
//! with 2–9 (or seven starting with 310, Canada's shared-cost numbers), and keep a
//! leading `1` (then refused).
//! The server (feature `e164`) then asks libphonenumber whether the number is valid
//! and stores its E.164 form.

use alloc::string::String;

use crate::refusal::{Refusal, Rule, refuse};

/// A country calling code: national numbers have `min` to `max` digits, and `prefix` is
/// the national trunk prefix (may be empty). From libphonenumber's metadata (the union
/// of every region and number type sharing the code); `tests/against_crates.rs` checks
/// the table against the `phonenumber` crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallingCode {
    /// The code (`44`).
    pub code: u16,
    /// Fewest digits of a national number.
    pub min: u8,
    /// Most digits of a national number.
    pub max: u8,
    /// The trunk prefix dialled before national numbers at home (`0`), or empty.
    pub prefix: &'static str,
}

const fn cc(code: u16, min: u8, max: u8, prefix: &'static str) -> CallingCode {
    CallingCode {
        code,
        min,
        max,
        prefix,
    }
}

/// Every calling code libphonenumber knows, ascending.
#[rustfmt::skip]
pub const CALLING_CODES: &[CallingCode] = &[
    cc(1, 7, 10, "1"), cc(7, 10, 14, "8"), cc(20, 8, 10, "0"), cc(27, 5, 10, "0"),
    cc(30, 10, 12, ""), cc(31, 5, 11, "0"), cc(32, 8, 9, "0"), cc(33, 9, 9, "0"),
    cc(34, 9, 9, ""), cc(36, 8, 9, "06"), cc(39, 6, 12, ""), cc(40, 6, 9, "0"),
    cc(41, 9, 12, "0"), cc(43, 4, 13, "0"), cc(44, 7, 10, "0"), cc(45, 8, 8, ""),
    cc(46, 6, 12, "0"), cc(47, 5, 8, ""), cc(48, 6, 10, ""), cc(49, 4, 15, "0"),
    cc(51, 8, 9, "0"), cc(52, 10, 10, ""), cc(53, 6, 10, "0"), cc(54, 10, 11, "0"),
    cc(55, 8, 11, "0"), cc(56, 9, 11, ""), cc(57, 8, 11, "0"), cc(58, 10, 10, "0"),
    cc(60, 8, 10, "0"), cc(61, 5, 12, "0"), cc(62, 7, 17, "0"), cc(63, 6, 13, "0"),
    cc(64, 5, 10, "0"), cc(65, 8, 11, ""), cc(66, 8, 13, "0"), cc(81, 8, 17, "0"),
    cc(82, 5, 14, "0"), cc(84, 7, 10, "0"), cc(86, 7, 12, "0"), cc(90, 7, 13, "0"),
    cc(91, 8, 13, "0"), cc(92, 8, 12, "0"), cc(93, 9, 9, "0"), cc(94, 9, 9, "0"),
    cc(95, 6, 10, "0"), cc(98, 4, 10, "0"), cc(211, 9, 9, "0"), cc(212, 9, 9, "0"),
    cc(213, 8, 9, "0"), cc(216, 8, 8, ""), cc(218, 9, 9, "0"), cc(220, 7, 7, ""),
    cc(221, 9, 9, ""), cc(222, 8, 8, ""), cc(223, 8, 8, ""), cc(224, 8, 9, ""),
    cc(225, 10, 10, ""), cc(226, 8, 8, ""), cc(227, 8, 8, ""), cc(228, 8, 8, ""),
    cc(229, 8, 10, ""), cc(230, 7, 10, ""), cc(231, 7, 9, "0"), cc(232, 8, 8, "0"),
    cc(233, 8, 9, "0"), cc(234, 10, 14, "0"), cc(235, 8, 8, ""), cc(236, 8, 8, ""),
    cc(237, 8, 9, ""), cc(238, 7, 7, ""), cc(239, 7, 7, ""), cc(240, 9, 9, ""),
    cc(241, 7, 8, ""), cc(242, 9, 9, ""), cc(243, 7, 10, "0"), cc(244, 9, 9, ""),
    cc(245, 7, 9, ""), cc(246, 7, 7, ""), cc(247, 5, 6, ""), cc(248, 7, 7, ""),
    cc(249, 9, 9, "0"), cc(250, 8, 9, "0"), cc(251, 9, 9, "0"), cc(252, 6, 9, "0"),
    cc(253, 8, 8, ""), cc(254, 7, 10, "0"), cc(255, 9, 9, "0"), cc(256, 9, 9, "0"),
    cc(257, 8, 8, ""), cc(258, 8, 9, ""), cc(260, 9, 9, "0"), cc(261, 9, 9, "0"),
    cc(262, 9, 9, "0"), cc(263, 5, 10, "0"), cc(264, 8, 9, "0"), cc(265, 7, 9, "0"),
    cc(266, 8, 8, ""), cc(267, 7, 10, ""), cc(268, 8, 9, ""), cc(269, 7, 7, ""),
    cc(290, 4, 5, ""), cc(291, 7, 7, "0"), cc(297, 7, 7, ""), cc(298, 6, 6, ""),
    cc(299, 6, 6, ""), cc(350, 8, 8, ""), cc(351, 9, 9, ""), cc(352, 4, 11, ""),
    cc(353, 7, 10, "0"), cc(354, 7, 9, ""), cc(355, 6, 9, "0"), cc(356, 8, 8, ""),
    cc(357, 8, 8, ""), cc(358, 5, 12, "0"), cc(359, 6, 12, "0"), cc(370, 8, 8, "0"),
    cc(371, 8, 8, ""), cc(372, 7, 10, ""), cc(373, 8, 8, "0"), cc(374, 8, 8, "0"),
    cc(375, 6, 11, "8"), cc(376, 6, 9, ""), cc(377, 8, 9, "0"), cc(378, 8, 10, ""),
    cc(380, 9, 10, "0"), cc(381, 6, 12, "0"), cc(382, 8, 9, "0"), cc(383, 8, 12, "0"),
    cc(385, 7, 9, "0"), cc(386, 5, 8, "0"), cc(387, 8, 9, "0"), cc(389, 8, 8, "0"),
    cc(420, 9, 12, ""), cc(421, 6, 9, "0"), cc(423, 7, 9, "0"), cc(500, 5, 5, ""),
    cc(501, 7, 11, ""), cc(502, 8, 11, ""), cc(503, 7, 11, ""), cc(504, 8, 11, ""),
    cc(505, 8, 8, ""), cc(506, 8, 10, ""), cc(507, 7, 11, ""), cc(508, 6, 9, "0"),
    cc(509, 8, 8, ""), cc(590, 9, 9, "0"), cc(591, 8, 9, "0"), cc(592, 7, 7, ""),
    cc(593, 8, 11, "0"), cc(594, 9, 9, "0"), cc(595, 6, 11, "0"), cc(596, 9, 9, "0"),
    cc(597, 6, 7, ""), cc(598, 4, 13, "0"), cc(599, 7, 8, ""), cc(670, 7, 8, ""),
    cc(672, 6, 6, ""), cc(673, 7, 7, ""), cc(674, 7, 7, ""), cc(675, 7, 8, ""),
    cc(676, 5, 7, ""), cc(677, 5, 7, ""), cc(678, 5, 7, ""), cc(679, 7, 11, ""),
    cc(680, 7, 7, ""), cc(681, 6, 9, ""), cc(682, 5, 5, ""), cc(683, 4, 7, ""),
    cc(685, 5, 10, ""), cc(686, 5, 8, "0"), cc(687, 6, 6, ""), cc(688, 5, 7, ""),
    cc(689, 6, 9, ""), cc(690, 4, 7, ""), cc(691, 7, 7, ""), cc(692, 7, 7, "1"),
    cc(800, 8, 8, ""), cc(808, 8, 8, ""), cc(850, 8, 10, "0"), cc(852, 5, 11, ""),
    cc(853, 7, 8, ""), cc(855, 8, 10, "0"), cc(856, 8, 10, "0"), cc(870, 9, 12, ""),
    cc(878, 12, 12, ""), cc(880, 6, 10, "0"), cc(881, 9, 10, ""), cc(882, 7, 12, ""),
    cc(883, 8, 12, ""), cc(886, 7, 11, "0"), cc(888, 11, 11, ""), cc(960, 7, 10, ""),
    cc(961, 7, 8, "0"), cc(962, 8, 9, "0"), cc(963, 8, 9, "0"), cc(964, 8, 10, "0"),
    cc(965, 7, 8, ""), cc(966, 9, 10, "0"), cc(967, 7, 9, "0"), cc(968, 7, 9, ""),
    cc(970, 8, 10, "0"), cc(971, 5, 12, "0"), cc(972, 7, 12, "0"), cc(973, 8, 8, ""),
    cc(974, 7, 11, ""), cc(975, 7, 8, ""), cc(976, 8, 10, "0"), cc(977, 8, 11, "0"),
    cc(979, 9, 9, ""), cc(992, 9, 9, ""), cc(993, 8, 8, "8"), cc(994, 9, 9, "0"),
    cc(995, 9, 9, "0"), cc(996, 9, 10, "0"), cc(998, 9, 9, ""),
];

/// The calling code a string of digits starts with (codes are prefix-free).
pub fn calling_code(digits: &str) -> Option<&'static CallingCode> {
    (1..=3.min(digits.len())).find_map(|n| {
        let code: u16 = digits[..n].parse().ok()?;
        CALLING_CODES.iter().find(|c| c.code == code)
    })
}

fn bad<T>() -> Result<T, Refusal> {
    refuse(Rule::Format, "not a valid phone number")
}

/// Checks a trimmed phone number's shape and returns it as `+` and digits, without
/// separators or a trunk prefix: the E.164 form for every number libphonenumber
/// accepts unchanged (the server stores libphonenumber's own E.164 form).
pub fn normalise(s: &str) -> Result<String, Refusal> {
    let Some(rest) = s.strip_prefix('+') else {
        return refuse(
            Rule::Format,
            "use the international format: + and the country code",
        );
    };
    let separator = |c: char| matches!(c, ' ' | '-' | '.' | '/' | '(' | ')');
    if !rest.chars().all(|c| c.is_ascii_digit() || separator(c)) {
        return bad();
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let Some(cc) = calling_code(&digits) else {
        return bad();
    };
    let code_len = if cc.code >= 100 {
        3
    } else if cc.code >= 10 {
        2
    } else {
        1
    };
    let mut national = &digits[code_len..];
    let (min, max) = (usize::from(cc.min), usize::from(cc.max));
    if cc.code != 1 && !cc.prefix.is_empty() {
        national = national.strip_prefix(cc.prefix).unwrap_or(national);
        // A national number never starts with its trunk prefix; one that still does
        // (`+31 000…`) would lose another digit each time it is normalised again.
        if national.starts_with(cc.prefix) {
            return bad();
        }
    }
    let nanp = |n: &str| {
        (n.len() == 10 && !n.starts_with(['0', '1'])) || (n.len() == 7 && n.starts_with("310"))
    };
    if national.len() < min || national.len() > max || (cc.code == 1 && !nanp(national)) {
        return bad();
    }
    let mut out = String::with_capacity(digits.len() + 1);
    out.push('+');
    out.push_str(&digits[..code_len]);
    out.push_str(national);
    Ok(out)
}

/// The server's check (feature `e164`): the shape above, then libphonenumber's
/// validity; returns libphonenumber's E.164 form.
#[cfg(feature = "e164")]
pub fn e164(s: &str) -> Result<String, Refusal> {
    use alloc::string::ToString;
    normalise(s)?;
    match phonenumber::parse(None, s) {
        Ok(n) if n.is_valid() => Ok(n.format().mode(phonenumber::Mode::E164).to_string()),
        _ => bad(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let ok = |s: &str| normalise(s).ok();
        assert_eq!(ok("+1 (650) 253-0000").as_deref(), Some("+16502530000"));
        assert_eq!(ok("+44 (0)20 7946 0000").as_deref(), Some("+442079460000"));
        assert_eq!(ok("+49 30 901820").as_deref(), Some("+4930901820"));
        assert_eq!(ok("+ 7 495 123-45-67").as_deref(), Some("+74951234567"));
        assert_eq!(ok("+36 06 1 234 5678").as_deref(), Some("+3612345678"));
        for bad in [
            "0044 20 7946 0000",
            "12345",
            "+",
            "+999 1234 5678",
            "+1 123 456 7890",
            "+1 555 0100",
            "+1 1 650 253 0000",
            "+7 812 123 4567",
            "+44 20 7946 0000 0",
            "+1 650 CALL NOW",
            "+1 650 253 0000 ext. 1",
            "++1 650 253 0000",
            "+1\u{a0}650 253 0000",
            "+31000000",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_table_is_sorted_and_codes_are_prefix_free() {
        assert!(CALLING_CODES.windows(2).all(|w| w[0].code < w[1].code));
        for c in CALLING_CODES {
            let digits = alloc::format!("{}", c.code);
            assert_eq!(calling_code(&digits).map(|f| f.code), Some(c.code));
            assert!(c.min <= c.max);
        }
    }
}
