//! The layers of the configuration, and what each setting accepts.

// `figment::Jail::expect_with` fixes the closure's error type; we cannot box it.
#![allow(clippy::result_large_err)]

use super::*;
use std::time::Duration;

#[test]
fn file_then_env_override_defaults() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "custom.toml",
            "listen = \"127.0.0.1:9999\"\n[rate_limit]\nwidget_burst = 5\n",
        )?;
        jail.set_env("TRICKLE_DATABASE_URL", "postgres://u:pw@db/x");
        jail.set_env(
            "TRICKLE_DATABASE_DIRECT_URL",
            "postgres://u:direct-pw@db:5432/x",
        );
        jail.set_env("TRICKLE_RATE_LIMIT__WIDGET_PER_MINUTE", "7");
        jail.set_env("TRICKLE_TEST_POSTGRES_URL", "postgres://elsewhere/test");
        jail.set_env("TRICKLE_RETENTION__JOBS_DAYS", "0");
        let s = Settings::load(Some(Path::new("custom.toml"))).unwrap();
        assert_eq!(s.listen.port(), 9999);
        assert_eq!(s.database_url, "postgres://u:pw@db/x");
        assert_eq!(
            (s.rate_limit.widget_per_minute, s.rate_limit.widget_burst),
            (7, 5)
        );
        assert_eq!(
            s.database_direct_url.as_deref(),
            Some("postgres://u:direct-pw@db:5432/x")
        );
        assert!(!format!("{s:?}").contains("pw"), "no password is printed");
        assert!(format!("{s:?}").contains("postgres://u:***@db:5432/x"));
        assert_eq!(
            (s.retention.jobs_days, s.retention.deliveries_days),
            (0, 30),
            "0 keeps jobs forever; the rest keep their defaults"
        );
        Ok(())
    });
}

#[test]
fn the_secrets_key_comes_from_the_environment_and_never_prints() {
    figment::Jail::expect_with(|jail| {
        let key = "q4Vx3kqZ7m1Yb0f2c8LrT5nW9sH6dJ1eA3uG7pK2oZc=";
        jail.set_env("TRICKLE_SECRETS_KEY", key);
        jail.set_env("TRICKLE_KEY_GRACE_SECONDS", "60");
        let s = Settings::load(None).unwrap();
        assert_eq!(s.secrets_key.as_deref(), Some(key));
        assert_eq!(s.key_grace_seconds, 60);
        let printed = format!("{s:?}");
        assert!(!printed.contains(key) && printed.contains("secrets_key: Some(\"***\")"));
        assert_eq!(Settings::default().key_grace_seconds, 86_400);
        Ok(())
    });
}

#[test]
fn the_shipped_example_configurations_parse() {
    // Inside a Jail: other tests' jails set TRICKLE_* variables process-wide, and
    // jails run one at a time.
    figment::Jail::expect_with(|_| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let example = Settings::load(Some(&root.join("trickle.example.toml"))).unwrap();
        assert_eq!(example.rate_limit.widget_per_minute, 600);
        assert_eq!(example.retention, RetentionSettings::default());
        let enrichment = Settings::load(Some(&root.join("examples/enrichment.toml"))).unwrap();
        assert!(enrichment.enrichment.geoip.is_some() && enrichment.enrichment.email.is_some());
        assert!(enrichment.enrichment.http.contains_key("company"));
        assert_eq!(enrichment.webhooks.disable_after_failures, 50);
        Ok(())
    });
}

#[test]
fn unknown_keys_and_missing_files_are_errors() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("bad.toml", "lissen = \"x\"\n")?;
        assert!(Settings::load(Some(Path::new("bad.toml"))).is_err());
        assert!(Settings::load(Some(Path::new("nope.toml"))).is_err());
        Ok(())
    });
}

#[test]
fn trusted_proxies_are_cidr_blocks_or_addresses() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "proxies.toml",
            "trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\", \"2001:db8::/32\"]\n",
        )?;
        let s = Settings::load(Some(Path::new("proxies.toml"))).unwrap();
        let trusted = |ip: &str| s.trusted_proxies.contains(ip.parse().unwrap());
        assert!(trusted("10.200.0.1") && trusted("192.0.2.7") && trusted("2001:db8::5"));
        assert!(
            trusted("::ffff:10.0.0.1"),
            "IPv4-mapped peers count as IPv4"
        );
        assert!(!trusted("192.0.2.8") && !trusted("11.0.0.1"));
        jail.create_file("bad.toml", "trusted_proxies = [\"10.0.0.0/33\"]\n")?;
        let error = Settings::load(Some(Path::new("bad.toml"))).unwrap_err();
        assert!(error.to_string().contains("10.0.0.0/33"), "{error}");
        jail.set_env("TRICKLE_TRUSTED_PROXIES", "[\"172.16.0.0/12\"]");
        let s = Settings::load(Some(Path::new("proxies.toml"))).unwrap();
        assert!(s.trusted_proxies.contains("172.16.1.1".parse().unwrap()));
        Ok(())
    });
}

#[test]
fn the_old_trust_forwarded_for_is_refused_when_true() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("old.toml", "trust_forwarded_for = false\n")?;
        let s = Settings::load(Some(Path::new("old.toml"))).unwrap();
        assert!(
            s.trusted_proxies.0.is_empty(),
            "false was the default: nothing trusted"
        );
        jail.create_file("old_true.toml", "trust_forwarded_for = true\n")?;
        let error = Settings::load(Some(Path::new("old_true.toml"))).unwrap_err();
        assert!(error.to_string().contains("trusted_proxies"), "{error}");
        jail.set_env("TRICKLE_TRUST_FORWARDED_FOR", "true");
        let error = Settings::load(Some(Path::new("old.toml"))).unwrap_err();
        assert!(error.to_string().contains("trusted_proxies"), "{error}");
        Ok(())
    });
}

#[test]
fn the_metrics_token_is_long_enough_and_never_printed() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("m.toml", "[metrics]\nlisten = \"127.0.0.1:9100\"\n")?;
        jail.set_env("TRICKLE_METRICS__BEARER_TOKEN", "scrape-me-0123456789");
        let s = Settings::load(Some(Path::new("m.toml"))).unwrap();
        assert_eq!(
            s.metrics.bearer_token.as_deref(),
            Some("scrape-me-0123456789")
        );
        assert_eq!(s.metrics.listen, Some("127.0.0.1:9100".parse().unwrap()));
        assert!(!format!("{s:?}").contains("scrape-me"));
        jail.set_env("TRICKLE_METRICS__BEARER_TOKEN", "short");
        assert!(Settings::load(Some(Path::new("m.toml"))).is_err());
        Ok(())
    });
}

#[test]
fn outbound_allow_list_comes_from_the_file_or_the_environment() {
    figment::Jail::expect_with(|jail| {
        assert!(
            Settings::load(None)
                .unwrap()
                .outbound
                .allow_cidrs
                .is_empty()
        );
        jail.create_file(
            "trickle.toml",
            "[outbound]\nallow_cidrs = [\"127.0.0.0/8\", \"::1/128\"]\n",
        )?;
        let from_file = Settings::load(None).unwrap().outbound.allow_cidrs;
        assert_eq!(
            from_file,
            OutboundSettings::allowing(&["127.0.0.0/8", "::1/128"]).allow_cidrs
        );
        jail.set_env(
            "TRICKLE_OUTBOUND__ALLOW_CIDRS",
            "[10.0.0.0/8, \"fd00::/8\"]",
        );
        jail.set_env("TRICKLE_OUTBOUND__CONNECT_TIMEOUT_MS", "1500");
        let from_env = Settings::load(None).unwrap().outbound;
        assert_eq!(
            from_env.allow_cidrs,
            OutboundSettings::allowing(&["10.0.0.0/8", "fd00::/8"]).allow_cidrs
        );
        assert_eq!(from_env.connect_timeout(), Duration::from_millis(1500));
        jail.set_env("TRICKLE_OUTBOUND__ALLOW_CIDRS", "[not-a-cidr]");
        assert!(
            Settings::load(None).is_err(),
            "a bad range is an error, not ignored"
        );
        Ok(())
    });
}

#[test]
fn backoff_doubles_from_the_base_up_to_the_cap() {
    let settings = JobSettings {
        backoff_base_ms: 2000,
        backoff_cap_seconds: 30,
        ..Default::default()
    };
    let delays: Vec<u64> = (1..=6).map(|a| settings.backoff(a).as_secs()).collect();
    assert_eq!(delays, [2, 4, 8, 16, 30, 30]);
    assert!(
        settings.backoff(1) <= Duration::from_secs(5),
        "the first retry comes within 5 s"
    );
    assert_eq!(settings.backoff(1_000_000), Duration::from_secs(30));
}
