//! The `geoip` provider: country, region, city and time zone from a
//! MaxMind-format `.mmdb` file.
//!
//! Understands the MaxMind GeoIP2/GeoLite2 (and DB-IP) City and Country
//! layouts (`country.iso_code`, `subdivisions[0].names.en`, `city.names.en`,
//! `location.time_zone`) and the flattened ip-location-db layout
//! (`country_code`, `state1`, `city`, `timezone`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ConfigError, GeoipConfig, Lookup, Provider, ProviderError, Subject, ttl_from_hours};

/// Looks IP addresses up in an `.mmdb` file read into memory once.
pub(crate) struct GeoipProvider {
    ttl: Duration,
    reader: maxminddb::Reader<Vec<u8>>,
}

impl GeoipProvider {
    /// Opens the database; a missing or invalid file is a [`ConfigError`].
    pub(crate) fn new(config: &GeoipConfig) -> Result<Self, ConfigError> {
        let path = &config.database;
        if path.as_os_str().is_empty() {
            return Err(ConfigError::new("geoip", "database is not set"));
        }
        let reader = maxminddb::Reader::open_readfile(path).map_err(|e| {
            ConfigError::new(
                "geoip",
                format!("cannot open database {}: {e}", path.display()),
            )
        })?;
        Ok(GeoipProvider {
            ttl: ttl_from_hours("geoip", config.ttl_hours)?,
            reader,
        })
    }

    /// Decodes the record for a public address.
    fn find(&self, ip: IpAddr) -> Result<Option<Record>, maxminddb::MaxMindDbError> {
        self.reader.lookup(ip)?.decode::<Record>()
    }
}

#[async_trait::async_trait]
impl Provider for GeoipProvider {
    fn name(&self) -> &str {
        "geoip"
    }

    fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Its one input, always known (a missing one is looked up as nothing known).
    fn kind(&self) -> &str {
        "geoip"
    }

    fn input_names(&self) -> Vec<String> {
        vec!["ip".into()]
    }

    fn inputs(&self, subject: &Subject) -> Option<Vec<String>> {
        Some(vec![
            subject.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        ])
    }

    async fn lookup(&self, subject: &Subject) -> Result<Lookup, ProviderError> {
        let Some(ip) = subject.ip.map(canonical) else {
            return Ok(Lookup::NothingKnown);
        };
        if !is_public(ip) {
            return Ok(Lookup::NothingKnown);
        }
        match self.find(ip) {
            Ok(Some(record)) => Ok(Lookup::from_fields(record.into_fields())),
            Ok(None) => Ok(Lookup::NothingKnown),
            Err(e) => Err(ProviderError::Permanent(format!(
                "geoip database lookup failed: {e}"
            ))),
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// False for private, loopback, link-local, shared, documentation, multicast
/// and other special-purpose addresses, which no database locates.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10
    let benchmarking = a == 198 && (b == 18 || b == 19); // 198.18.0.0/15
    let special = a == 0 || a >= 240 || (a == 192 && b == 0 && ip.octets()[2] == 0);
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || shared
        || benchmarking
        || special)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7
    let link_local = first & 0xffc0 == 0xfe80; // fe80::/10
    let documentation = first == 0x2001 && ip.segments()[1] == 0x0db8; // 2001:db8::/32
    let unspecified_or_loopback = ip.is_unspecified() || ip.is_loopback();
    !(unspecified_or_loopback || ip.is_multicast() || unique_local || link_local || documentation)
}

/// The fields of a record this provider reads, from either layout.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Record {
    country: Option<Place>,
    subdivisions: Option<Vec<Place>>,
    city: Option<CityField>,
    location: Option<Location>,
    country_code: Option<String>,
    country_name: Option<String>,
    state1: Option<String>,
    timezone: Option<String>,
}

/// `city` is a place in the MaxMind layout and a plain name in the flattened one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CityField {
    Name(String),
    Place(Place),
}

/// A MaxMind place (country, subdivision, city).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Place {
    iso_code: Option<String>,
    names: Option<Names>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Names {
    en: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Location {
    time_zone: Option<String>,
}

impl Place {
    fn english_name(&self) -> Option<String> {
        self.names.as_ref().and_then(|n| n.en.clone())
    }
}

impl Record {
    /// `country`, `country_name`, `region`, `city`, `time_zone`, whichever are known.
    fn into_fields(self) -> Map<String, Value> {
        let country = self.country.as_ref();
        let city = match self.city {
            Some(CityField::Name(name)) => Some(name),
            Some(CityField::Place(place)) => place.english_name(),
            None => None,
        };
        let region = self
            .subdivisions
            .as_ref()
            .and_then(|s| s.first())
            .and_then(Place::english_name);
        let candidates = [
            (
                "country",
                country
                    .and_then(|c| c.iso_code.clone())
                    .or(self.country_code)
                    .map(|c| c.to_uppercase()),
            ),
            (
                "country_name",
                country.and_then(Place::english_name).or(self.country_name),
            ),
            ("region", region.or(self.state1)),
            ("city", city),
            (
                "time_zone",
                self.location.and_then(|l| l.time_zone).or(self.timezone),
            ),
        ];
        candidates
            .into_iter()
            .filter_map(|(key, value)| {
                let value = value?.trim().to_owned();
                (!value.is_empty()).then(|| (key.to_owned(), Value::String(value)))
            })
            .collect()
    }
}
