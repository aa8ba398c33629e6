//! The geoip provider against `.mmdb` files written by the tests.

use std::path::Path;

use serde_json::{Value, json};

use super::support::{found, ip_subject, write_mmdb};
use crate::providers::geoip::is_public;
use crate::providers::{EnrichmentConfig, GeoipConfig, Provider, Subject, build_providers};

/// A GeoLite2-City record as MaxMind ships it (abridged).
fn london_city_record() -> Value {
    json!({
        "city": { "geoname_id": 2643743, "names": { "en": "London", "de": "London", "ja": "ロンドン" } },
        "continent": { "code": "EU", "geoname_id": 6255148, "names": { "en": "Europe" } },
        "country": { "geoname_id": 2635167, "iso_code": "GB", "names": { "en": "United Kingdom", "fr": "Royaume-Uni" } },
        "location": { "accuracy_radius": 100, "latitude": 51.5142, "longitude": -0.0931, "time_zone": "Europe/London" },
        "postal": { "code": "EC4R" },
        "registered_country": { "geoname_id": 6252001, "iso_code": "US", "names": { "en": "United States" } },
        "subdivisions": [
            { "geoname_id": 6269131, "iso_code": "ENG", "names": { "en": "England" } },
            { "geoname_id": 3333218, "iso_code": "WND", "names": { "en": "City of Westminster" } }
        ]
    })
}

/// A City-layout record with only country-level facts (as for many IPv6 networks).
fn japan_city_record() -> Value {
    json!({
        "continent": { "code": "AS", "names": { "en": "Asia" } },
        "country": { "iso_code": "JP", "names": { "en": "Japan" } },
        "location": { "accuracy_radius": 100, "latitude": 35.69, "longitude": 139.69, "time_zone": "Asia/Tokyo" }
    })
}

fn city_db(dir: &Path) -> std::path::PathBuf {
    let records = [
        ("81.2.69.128/26", london_city_record()),
        ("2001:218::/32", japan_city_record()),
        // Records for special-purpose networks exist, but must never be reported.
        ("10.0.0.0/8", london_city_record()),
        ("127.0.0.0/8", london_city_record()),
    ];
    write_mmdb(dir, "GeoLite2-City", true, &records)
}

fn provider(database: &Path) -> std::sync::Arc<dyn Provider> {
    let config = EnrichmentConfig {
        geoip: Some(GeoipConfig {
            database: database.to_owned(),
            ..GeoipConfig::default()
        }),
        ..EnrichmentConfig::default()
    };
    let mut providers =
        build_providers(&config, &super::support::loopback()).expect("geoip builds");
    assert_eq!(providers.len(), 1);
    providers.remove(0)
}

#[tokio::test]
async fn city_layout_ipv4() {
    let dir = tempfile::tempdir().unwrap();
    let geoip = provider(&city_db(dir.path()));
    assert_eq!(geoip.name(), "geoip");
    assert_eq!(geoip.ttl(), std::time::Duration::from_secs(720 * 3600));
    let expected = json!({
        "country": "GB", "country_name": "United Kingdom", "region": "England",
        "city": "London", "time_zone": "Europe/London"
    });
    assert_eq!(
        found(&*geoip, &ip_subject("81.2.69.142")).await,
        Some(expected.clone())
    );
    // An IPv4-mapped IPv6 address is the IPv4 address.
    assert_eq!(
        found(&*geoip, &ip_subject("::ffff:81.2.69.142")).await,
        Some(expected)
    );
}

#[tokio::test]
async fn city_layout_ipv6_country_only_record() {
    let dir = tempfile::tempdir().unwrap();
    let geoip = provider(&city_db(dir.path()));
    let expected = json!({ "country": "JP", "country_name": "Japan", "time_zone": "Asia/Tokyo" });
    assert_eq!(
        found(&*geoip, &ip_subject("2001:218:1234::1")).await,
        Some(expected)
    );
}

#[tokio::test]
async fn unknown_private_loopback_and_missing_ips_are_nothing_known() {
    let dir = tempfile::tempdir().unwrap();
    let geoip = provider(&city_db(dir.path()));
    for ip in [
        "8.8.8.8",
        "81.2.69.1",
        "10.1.2.3",
        "127.0.0.1",
        "::1",
        "fe80::1",
        "2a00:1450::1",
    ] {
        assert_eq!(found(&*geoip, &ip_subject(ip)).await, None, "{ip}");
    }
    assert_eq!(found(&*geoip, &Subject::default()).await, None);
}

#[tokio::test]
async fn country_layout() {
    let dir = tempfile::tempdir().unwrap();
    let record = json!({
        "continent": { "code": "EU", "names": { "en": "Europe" } },
        "country": { "geoname_id": 2661886, "iso_code": "SE", "names": { "en": "Sweden", "de": "Schweden" } },
        "registered_country": { "iso_code": "SE", "names": { "en": "Sweden" } }
    });
    let path = write_mmdb(
        dir.path(),
        "GeoLite2-Country",
        true,
        &[("89.160.0.0/16", record)],
    );
    let geoip = provider(&path);
    let expected = json!({ "country": "SE", "country_name": "Sweden" });
    assert_eq!(
        found(&*geoip, &ip_subject("89.160.20.128")).await,
        Some(expected)
    );
}

#[tokio::test]
async fn flattened_ip_location_db_layout_ipv4_file() {
    let dir = tempfile::tempdir().unwrap();
    let record = json!({
        "country_code": "GB", "state1": "England", "state2": "", "city": "London",
        "postcode": "EC4R", "latitude": 51.5142, "longitude": -0.0931, "timezone": "Europe/London"
    });
    let path = write_mmdb(
        dir.path(),
        "dbip-city-ipv4",
        false,
        &[("81.2.69.0/24", record)],
    );
    let geoip = provider(&path);
    let expected = json!({
        "country": "GB", "region": "England", "city": "London", "time_zone": "Europe/London"
    });
    assert_eq!(
        found(&*geoip, &ip_subject("81.2.69.142")).await,
        Some(expected)
    );
    assert_eq!(found(&*geoip, &ip_subject("81.2.70.1")).await, None);
}

#[tokio::test]
async fn flattened_country_file_ipv6() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_mmdb(
        dir.path(),
        "geo-whois-asn-country-ipv6",
        true,
        &[("2a02:2e0::/29", json!({ "country_code": "de" }))],
    );
    let geoip = provider(&path);
    let expected = json!({ "country": "DE" });
    assert_eq!(
        found(&*geoip, &ip_subject("2a02:2e0:3fe:1001::1")).await,
        Some(expected)
    );
}

#[test]
fn missing_or_invalid_database_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.mmdb");
    let garbage = dir.path().join("garbage.mmdb");
    std::fs::write(&garbage, b"this is not a MaxMind database").unwrap();
    for database in [missing.clone(), garbage, std::path::PathBuf::new()] {
        let config = EnrichmentConfig {
            geoip: Some(GeoipConfig {
                database,
                ttl_hours: 1,
            }),
            ..EnrichmentConfig::default()
        };
        let error = build_providers(&config, &super::support::loopback())
            .err()
            .expect("config error");
        assert_eq!(error.provider, "geoip");
    }
    let config = EnrichmentConfig {
        geoip: Some(GeoipConfig {
            database: missing.clone(),
            ttl_hours: 1,
        }),
        ..EnrichmentConfig::default()
    };
    let message = build_providers(&config, &super::support::loopback())
        .err()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("enrichment.geoip: cannot open database"),
        "{message}"
    );
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
}

#[test]
fn special_purpose_addresses_are_not_public() {
    let private = [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.1.1",
        "100.64.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "192.0.2.1",
        "198.18.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "::",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "2001:db8::1",
    ];
    for ip in private {
        assert!(!is_public(ip.parse().unwrap()), "{ip}");
    }
    for ip in [
        "81.2.69.142",
        "8.8.8.8",
        "100.128.0.1",
        "172.32.0.1",
        "2001:218::1",
        "2a00:1450::1",
    ] {
        assert!(is_public(ip.parse().unwrap()), "{ip}");
    }
}
