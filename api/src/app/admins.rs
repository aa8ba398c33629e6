//! Console admins: accounts, argon2id passwords, roles, and the sites granted to members.
//!
//! Passwords are hashed with argon2id at the `argon2` crate's defaults (19 MiB, two
//! passes: OWASP's minimum), on the blocking pool so that hashing never stalls the
//! async workers. E-mails are stored lower-cased.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::distr::{Alphanumeric, SampleString};
use std::sync::LazyLock;

use super::App;
use super::audit::{Actor, Change};
use crate::error::{Error, Result};
use crate::model::{Admin, AdminChange, AdminOverview, Role, now};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes (hashing cost is bounded by the input).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Characters of a generated password (about 119 bits).
const GENERATED_PASSWORD_CHARS: usize = 20;

/// A fresh random password, as `trickle admin create` prints it.
pub fn generate_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), GENERATED_PASSWORD_CHARS)
}

/// The argon2id PHC string of a password, computed on the blocking pool.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        rand::fill(&mut salt);
        let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| Error::invalid("invalid_password", "password", e.to_string()))
    })
    .await
    .expect("password hashing does not panic")
}

/// Whether `password` matches the PHC string `hash`; on the blocking pool. A hash that
/// does not parse matches nothing.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .expect("password checking does not panic")
}

/// Checks `password` against `hash`, or, for an unknown account (`None`), against a
/// dummy hash and refuses: a sign-in takes as long whether or not the account exists.
pub async fn verify_password_or_dummy(password: String, hash: Option<String>) -> bool {
    match hash {
        Some(hash) => verify_password(password, hash).await,
        None => {
            // Built (one argon2 run) on the blocking pool the first time.
            let dummy = tokio::task::spawn_blocking(|| DUMMY_HASH.clone())
                .await
                .expect("the dummy hash builds");
            verify_password(password, dummy).await;
            false
        }
    }
}

/// The hash an unknown e-mail's password is checked against.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::encode_b64(b"trickle-dummy-16").expect("a valid salt");
    Argon2::default()
        .hash_password(generate_password().as_bytes(), &salt)
        .expect("hashing a generated password succeeds")
        .to_string()
});

/// An e-mail as stored: trimmed, lower-cased, checked.
pub fn normalise_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    if email.len() > 254 || !email_address::EmailAddress::is_valid(&email) {
        return Err(Error::invalid(
            "invalid_email",
            "email",
            "must be an e-mail address of at most 254 bytes",
        ));
    }
    Ok(email)
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::invalid(
            "invalid_password",
            "password",
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} characters long"),
        ));
    }
    Ok(())
}

/// Console accounts.
pub struct Admins<'a> {
    pub(crate) app: &'a App,
}

impl Admins<'_> {
    /// Creates an admin with this password; a taken e-mail is a conflict.
    pub async fn create(
        &self,
        by: &Actor,
        email: &str,
        role: Role,
        password: &str,
    ) -> Result<Admin> {
        let email = normalise_email(email)?;
        check_password(password)?;
        let hash = hash_password(password.to_owned()).await?;
        let admin = Admin {
            admin_id: format!("adm_{}", Alphanumeric.sample_string(&mut rand::rng(), 16)),
            email,
            role,
            created_at: now(),
        };
        if !self.app.store.insert_admin(&admin, &hash).await? {
            return Err(Error::Conflict {
                code: "admin_exists",
                message: format!("an admin with e-mail {} exists", admin.email),
            });
        }
        let change = Change {
            action: "admin.create",
            site_id: None,
            subject: &admin.email,
            detail: &format!("role {}", admin.role),
        };
        self.app.audit().record(by, change).await?;
        Ok(admin)
    }

    /// The admin with this e-mail.
    pub async fn by_email(&self, email: &str) -> Result<Admin> {
        let email = normalise_email(email)?;
        let found = self.app.store.admin_by_email(&email).await?;
        found
            .map(|(admin, _)| admin)
            .ok_or(Error::NotFound { what: "admin" })
    }

    /// Every admin, by e-mail.
    pub async fn list(&self) -> Result<Vec<Admin>> {
        Ok(self.app.store.admins().await?)
    }

    /// Lets the admin with this e-mail manage a site (owners manage every site already).
    /// False if they already could.
    pub async fn grant(&self, by: &Actor, email: &str, site_id: &str) -> Result<bool> {
        let admin = self.by_email(email).await?;
        let site = self.app.sites().get(site_id).await?;
        let granted = self
            .app
            .store
            .grant_site(&admin.admin_id, &site.site_id)
            .await?;
        if granted {
            let detail = format!("may manage {}", site.name);
            self.app
                .audit()
                .record_on(by, "admin.grant", &site, &admin.email, &detail)
                .await?;
        }
        Ok(granted)
    }
}

impl Admins<'_> {
    /// The admin with this id.
    pub async fn get(&self, admin_id: &str) -> Result<Admin> {
        self.app
            .store
            .admin(admin_id)
            .await?
            .ok_or(Error::NotFound { what: "admin" })
    }

    /// Creates an admin with a generated password (as `trickle admin create` does
    /// without `--password-stdin`); the password is in the result, the only time it is
    /// shown.
    pub async fn create_with_generated_password(
        &self,
        by: &Actor,
        email: &str,
        role: Role,
    ) -> Result<(Admin, String)> {
        let password = generate_password();
        let admin = self.create(by, email, role, &password).await?;
        Ok((admin, password))
    }

    /// Every admin by e-mail, with the sites granted to them and their last sign-in.
    pub async fn overview(&self) -> Result<Vec<AdminOverview>> {
        let grants = self.app.store.all_grants().await?;
        let sign_ins = self.app.store.last_audit_by_admin("admin.sign_in").await?;
        let admins = self.list().await?;
        Ok(admins
            .into_iter()
            .map(|admin| AdminOverview {
                granted_sites: grants
                    .iter()
                    .filter(|(id, _)| *id == admin.admin_id)
                    .map(|(_, site_id)| site_id.clone())
                    .collect(),
                last_sign_in: sign_ins
                    .iter()
                    .find(|(id, _)| *id == admin.admin_id)
                    .map(|(_, at)| *at),
                admin,
            })
            .collect())
    }

    /// Takes a site away from a member. False if it was not granted.
    pub async fn revoke(&self, by: &Actor, admin_id: &str, site_id: &str) -> Result<bool> {
        let admin = self.get(admin_id).await?;
        let site = self.app.sites().get(site_id).await?;
        let revoked = self
            .app
            .store
            .revoke_site(&admin.admin_id, &site.site_id)
            .await?;
        if revoked {
            let detail = format!("may no longer manage {}", site.name);
            self.app
                .audit()
                .record_on(by, "admin.revoke", &site, &admin.email, &detail)
                .await?;
        }
        Ok(revoked)
    }

    /// Makes an admin an owner or a member. Refused when it would leave no owner.
    pub async fn set_role(&self, by: &Actor, admin_id: &str, role: Role) -> Result<Admin> {
        let admin = self.get(admin_id).await?;
        if admin.role == role {
            return Ok(admin);
        }
        match self.app.store.set_admin_role(admin_id, role).await? {
            AdminChange::Done => {}
            AdminChange::NotFound => return Err(Error::NotFound { what: "admin" }),
            AdminChange::LastOwner => return Err(last_owner(&admin, "made a member")),
        }
        let change = Change {
            action: "admin.role",
            site_id: None,
            subject: &admin.email,
            detail: &format!("role {} (was {})", role, admin.role),
        };
        self.app.audit().record(by, change).await?;
        Ok(Admin { role, ..admin })
    }

    /// Deletes an admin, their grants and every session (they are signed out at once).
    /// Refused for the last owner, and for `by` themself (an admin cannot lock
    /// themself out by accident; another owner can remove them).
    pub async fn remove(&self, by: &Actor, admin_id: &str) -> Result<Admin> {
        let admin = self.get(admin_id).await?;
        if by.admin_id.as_deref() == Some(admin_id) {
            return Err(Error::Conflict {
                code: "cannot_remove_self",
                message: "you cannot remove yourself; another owner can".into(),
            });
        }
        match self.app.store.delete_admin(admin_id).await? {
            AdminChange::Done => {}
            AdminChange::NotFound => return Err(Error::NotFound { what: "admin" }),
            AdminChange::LastOwner => return Err(last_owner(&admin, "removed")),
        }
        let change = Change {
            action: "admin.remove",
            site_id: None,
            subject: &admin.email,
            detail: &format!("role {}; sessions ended", admin.role),
        };
        self.app.audit().record(by, change).await?;
        Ok(admin)
    }
}

/// The refusal to leave a deployment without an owner.
fn last_owner(admin: &Admin, what: &str) -> Error {
    Error::Conflict {
        code: "last_owner",
        message: format!(
            "{} is the last owner and cannot be {what}; make another admin an owner first",
            admin.email
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery".into(), hash.clone()).await);
        assert!(!verify_password("correct horse battery!".into(), hash.clone()).await);
        assert!(!verify_password("x".into(), "not a hash".into()).await);
        let again = hash_password("correct horse battery".into()).await.unwrap();
        assert_ne!(hash, again, "each hash has its own salt");
        assert!(!verify_password_or_dummy("correct horse battery".into(), None).await);
        assert!(verify_password_or_dummy("correct horse battery".into(), Some(hash)).await);
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalise_email(" Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        assert!(normalise_email("not an address").is_err());
        assert!(normalise_email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_have_a_length_range() {
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(check_password("twelve chars").is_ok());
        assert_eq!(generate_password().len(), GENERATED_PASSWORD_CHARS);
        assert!(check_password(&generate_password()).is_ok());
    }
}
