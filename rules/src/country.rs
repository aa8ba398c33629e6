//! Countries: ISO 3166-1 alpha-2 codes, plus `XK` (Kosovo, user-assigned but in wide
//! use), the list the server always accepted. The widget names them in the user's
//! language with the browser's `Intl.DisplayNames`.

use alloc::string::String;

use crate::refusal::{Refusal, Rule, refuse};

/// Every accepted code, ascending, separated by single spaces.
pub const CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW";

/// Checks a trimmed country code, in either case, and returns it upper-cased.
pub fn normalise(s: &str) -> Result<String, Refusal> {
    let upper = s.to_ascii_uppercase();
    let known = upper.len() == 2 && upper.bytes().all(|b| b.is_ascii_uppercase());
    if known && CODES.split(' ').any(|c| c == upper) {
        Ok(upper)
    } else {
        refuse(Rule::Format, "expected an ISO 3166-1 alpha-2 country code")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_pairs() {
        let codes: alloc::vec::Vec<_> = CODES.split(' ').collect();
        assert_eq!(codes.len(), 250);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(normalise("de").as_deref(), Ok("DE"));
        for bad in ["XX", "DEU", "D", "UK", "ＤＥ", ""] {
            assert!(normalise(bad).is_err(), "{bad}");
        }
    }
}
