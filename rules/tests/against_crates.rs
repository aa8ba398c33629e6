//! The shared checks against the crates the server relied on before them: the
//! e-mail, URL and country checks accept nothing that `email_address`, `url` and `celes`
//! refuse, and the phone shape accepts every number libphonenumber's own examples show
//! as valid, normalised as libphonenumber does.

use phonenumber::metadata::{Descriptor, Metadata};
use proptest::prelude::*;
use trickle_rules::{country, email, phone, url as rules_url};

/// The descriptors of every number type a region's metadata describes.
fn number_types(m: &Metadata) -> impl Iterator<Item = &Descriptor> {
    let d = m.descriptors();
    [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
}

fn email_address_accepts(s: &str) -> bool {
    use email_address::{EmailAddress, Options};
    let options = Options::default()
        .without_display_text()
        .without_domain_literal()
        .with_required_tld();
    EmailAddress::parse_with_options(s, options).is_ok()
}

fn url_crate_accepts(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host_str().is_some_and(|h| !h.is_empty())
            && u.username().is_empty()
            && u.password().is_none()
    })
}

#[test]
fn the_calling_code_table_is_libphonenumbers() {
    let db = &*phonenumber::metadata::DATABASE;
    let mut expected = Vec::new();
    for code in 1u16..=999 {
        let Some(metas) = db.by_code(&code) else {
            continue;
        };
        let (mut min, mut max, mut prefix) = (u16::MAX, 0, String::new());
        for m in &metas {
            for l in number_types(m).flat_map(|t| t.possible_length()) {
                (min, max) = (min.min(*l), max.max(*l));
            }
            if let Some(p) = m.national_prefix() {
                prefix = p.to_owned();
            }
        }
        expected.push(format!("cc({code}, {min}, {max}, {prefix:?})"));
    }
    let actual: Vec<_> = phone::CALLING_CODES
        .iter()
        .map(|c| format!("cc({}, {}, {}, {:?})", c.code, c.min, c.max, c.prefix))
        .collect();
    assert_eq!(
        actual,
        expected,
        "regenerate CALLING_CODES from:\n{}",
        expected.join(", ")
    );
}

/// Every example number in libphonenumber's metadata, as `+CC number` and with the
/// trunk prefix written after the code: valid there means accepted here, as the same
/// E.164 string.
#[test]
fn every_valid_example_number_passes_the_shape() {
    let db = &*phonenumber::metadata::DATABASE;
    let mut checked = 0;
    for m in db.iter() {
        for example in number_types(m).filter_map(|t| t.example()) {
            let code = m.country_code();
            let np = m.national_prefix().unwrap_or_default();
            for s in [
                format!("+{code} {example}"),
                format!("+{code} ({np}) {example}"),
            ] {
                let Ok(n) = phonenumber::parse(None, &s) else {
                    continue;
                };
                if !n.is_valid() {
                    continue;
                }
                let e164 = n.format().mode(phonenumber::Mode::E164).to_string();
                assert_eq!(
                    phone::normalise(&s).as_deref(),
                    Ok(e164.as_str()),
                    "{s} ({})",
                    m.id()
                );
                assert_eq!(phone::e164(&s).as_deref(), Ok(e164.as_str()), "{s}");
                checked += 1;
            }
        }
    }
    assert!(checked > 2000, "{checked} examples");
}

#[test]
fn the_country_list_is_celes_list() {
    let mut celes: Vec<String> = celes::Country::get_countries()
        .iter()
        .map(|c| c.alpha2.to_ascii_uppercase())
        .collect();
    celes.sort();
    assert_eq!(country::CODES.split(' ').collect::<Vec<_>>(), celes);
}

/// Inputs the crates accept and the shared checks refuse on purpose (the server's
/// acceptance narrowed by the shared checks; see docs/decisions/0003).
#[test]
fn what_the_shared_checks_refuse_beyond_the_crates() {
    for s in [
        "a@ex_ample.com",
        "a@b!c.org",
        "\"a\tb\"@x.org",
        "\u{d7a4}@x.org",
    ] {
        assert!(email_address_accepts(s) && email::split(s).is_err(), "{s}");
    }
    let urls = [
        "http:/ex.com",
        "http:///ex.com",
        "https://ex.com/a b",
        "http://[::1]/",
        "https://ex.com.",
        "https://ex..com",
        "http://ex_ample.com",
        "https://-ex.com",
        "http://ex.1a",
        "https://x.com:",
        "http://127.1",
        "http://010.0.0.1",
        "http://0x7f.0.0.1",
        "http://ex%41mple.com",
    ];
    for s in urls {
        assert!(
            url_crate_accepts(s) && rules_url::normalise(s).is_err(),
            "{s}"
        );
    }
    for s in [
        "+1 650 CALL NOW",
        "+1 650 253 0000 ext. 12",
        "+1\u{a0}650 253 0000",
    ] {
        let valid = phonenumber::parse(None, s).is_ok_and(|n| n.is_valid());
        assert!(valid && phone::normalise(s).is_err(), "{s}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn email_shape_is_a_subset_of_email_address(s in r#"[a-zA-Zé0-9.+_!"\\ <>@-]{1,6}@[a-zA-Zü0-9._!-]{1,6}\.[a-zA-Z0-9-]{0,4}"#) {
        if email::split(&s).is_ok() {
            prop_assert!(email_address_accepts(&s), "{s}");
        }
    }

    #[test]
    fn url_shape_is_a_subset_of_the_url_crate(s in r#"(https?|HTTP)://[a-zA-Zä0-9.@:_-]{0,12}[/?#\\]?[a-z0-9./%?#-]{0,8}"#) {
        if let Ok(n) = rules_url::normalise(&s) {
            prop_assert!(url_crate_accepts(&s), "{s}");
            let ascii = s.is_ascii() && !s.contains(['\\', '.', '%']) ;
            if ascii {
                prop_assert_eq!(n, url::Url::parse(&s).unwrap().to_string(), "{}", s);
            }
        }
    }

    #[test]
    fn north_american_numbers_valid_there_pass_here(n in 1_000_000_000u64..10_000_000_000) {
        let s = format!("+1 {n}");
        if phonenumber::parse(None, &s).is_ok_and(|p| p.is_valid()) {
            prop_assert_eq!(phone::normalise(&s), Ok(format!("+1{n}")));
        }
    }
}
