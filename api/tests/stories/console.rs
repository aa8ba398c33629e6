//! Console stories: admins and grants, sessions found by token hash, the audit log,
//! and the list of all sites.

use chrono::{Duration as Span, Utc};
use std::sync::Arc;
use std::time::Duration;

use trickle::App;
use trickle::model::{Admin, AdminSession, NewAuditEntry, Role, now};
use trickle::store::Store;

fn admin(id: &str, email: &str, role: Role) -> Admin {
    Admin {
        admin_id: id.into(),
        email: email.into(),
        role,
        created_at: now(),
    }
}

/// An admin is stored once per e-mail, read back by id and e-mail with the hash, and
/// listed by e-mail.
async fn admins_are_unique_by_email(store: Arc<dyn Store>) {
    let ann = admin("adm_ann", "ann@example.com", Role::Owner);
    assert!(store.insert_admin(&ann, "$argon2id$hash-a").await.unwrap());
    let twin = admin("adm_twin", "ann@example.com", Role::Member);
    assert!(!store.insert_admin(&twin, "$argon2id$hash-b").await.unwrap());
    assert_eq!(store.admin("adm_twin").await.unwrap(), None);
    let (found, hash) = store
        .admin_by_email("ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found, hash.as_str()), (ann.clone(), "$argon2id$hash-a"));
    assert_eq!(store.admin("adm_ann").await.unwrap(), Some(ann.clone()));
    assert!(
        store
            .admin_by_email("bob@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let bob = admin("adm_bob", "bob@example.com", Role::Member);
    store.insert_admin(&bob, "h").await.unwrap();
    assert_eq!(store.admins().await.unwrap(), vec![ann, bob]);
}

/// Grants are per admin and site, idempotent, and need both to exist.
async fn members_are_granted_sites(store: Arc<dyn Store>) {
    let trickle = App::new(store.clone(), Duration::from_secs(30));
    let a = trickle.sites().create("A", vec![]).await.unwrap();
    let b = trickle.sites().create("B", vec![]).await.unwrap();
    store
        .insert_admin(&admin("adm_m", "m@example.com", Role::Member), "h")
        .await
        .unwrap();
    assert!(store.grant_site("adm_m", &b.site_id).await.unwrap());
    assert!(!store.grant_site("adm_m", &b.site_id).await.unwrap());
    assert!(store.grant_site("adm_m", &a.site_id).await.unwrap());
    let mut expected = vec![a.site_id.clone(), b.site_id.clone()];
    expected.sort();
    assert_eq!(store.granted_sites("adm_m").await.unwrap(), expected);
    assert!(store.granted_sites("adm_other").await.unwrap().is_empty());
    assert!(store.grant_site("adm_m", "site_missing").await.is_err());
    let names: Vec<String> = store
        .all_sites()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["A", "B"]);
}

fn session(admin_id: &str, lasts: Span) -> AdminSession {
    let at = now();
    AdminSession {
        admin_id: admin_id.into(),
        created_at: at,
        last_seen_at: at,
        expires_at: at + lasts,
    }
}

/// A session is found by its hash until it expires, touched, ended alone or with all
/// of its admin's sessions; expired ones are purged.
async fn sessions_live_until_they_end(store: Arc<dyn Store>) {
    for (id, email) in [("adm_a", "a@example.com"), ("adm_b", "b@example.com")] {
        store
            .insert_admin(&admin(id, email, Role::Owner), "h")
            .await
            .unwrap();
    }
    let live = session("adm_a", Span::hours(1));
    store.insert_session("hash-1", &live).await.unwrap();
    store
        .insert_session("hash-2", &session("adm_a", Span::hours(1)))
        .await
        .unwrap();
    store
        .insert_session("hash-3", &session("adm_b", Span::hours(1)))
        .await
        .unwrap();
    store
        .insert_session("hash-old", &session("adm_a", Span::seconds(-1)))
        .await
        .unwrap();

    let (found, who) = store.session("hash-1", Utc::now()).await.unwrap().unwrap();
    assert_eq!(
        (found.clone(), who.admin_id.as_str()),
        (live.clone(), "adm_a")
    );
    assert!(
        store
            .session("hash-old", Utc::now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session("hash-nope", Utc::now())
            .await
            .unwrap()
            .is_none()
    );
    // Past its expiry, a live session is gone too.
    let later = live.expires_at + Span::seconds(1);
    assert!(store.session("hash-1", later).await.unwrap().is_none());

    let seen = now() + Span::minutes(5);
    store.touch_session("hash-1", seen).await.unwrap();
    let (touched, _) = store.session("hash-1", Utc::now()).await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, seen);

    assert!(store.delete_session("hash-1").await.unwrap());
    assert!(!store.delete_session("hash-1").await.unwrap());
    assert_eq!(store.purge_expired_sessions(Utc::now()).await.unwrap(), 1);
    assert_eq!(store.delete_sessions_of("adm_a").await.unwrap(), 1);
    assert!(store.session("hash-2", Utc::now()).await.unwrap().is_none());
    assert!(
        store.session("hash-3", Utc::now()).await.unwrap().is_some(),
        "other admins keep theirs"
    );
}

/// The audit log lists newest first and pages by id.
async fn the_audit_log_lists_newest_first(store: Arc<dyn Store>) {
    for n in 1..=5 {
        let entry = NewAuditEntry {
            admin_id: (n % 2 == 0).then(|| "adm_x".to_owned()),
            actor: format!("actor {n}"),
            action: "site.create".into(),
            site_id: (n == 3).then(|| "site_3".to_owned()),
            subject: format!("subject {n}"),
            detail: format!("detail {n}"),
        };
        store.record_audit(&entry).await.unwrap();
    }
    let newest = store.audit_entries(None, 3).await.unwrap();
    let actors: Vec<&str> = newest.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, ["actor 5", "actor 4", "actor 3"]);
    assert_eq!(newest[1].admin_id.as_deref(), Some("adm_x"));
    assert_eq!(newest[2].site_id.as_deref(), Some("site_3"));
    assert_eq!(newest[2].detail, "detail 3");
    assert!((Utc::now() - newest[0].at).num_seconds().abs() < 60);
    let older = store.audit_entries(Some(newest[2].id), 10).await.unwrap();
    let actors: Vec<&str> = older.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, ["actor 2", "actor 1"]);
}

conformance!(
    admins_are_unique_by_email,
    members_are_granted_sites,
    sessions_live_until_they_end,
    the_audit_log_lists_newest_first,
);
