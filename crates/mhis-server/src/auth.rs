//! Who is asking: bearer API tokens, password hashing, and the checks every
//! handler makes (permission, then site scope).
//!
//! A request without valid credentials is 401. A request whose role lacks
//! the route's permission is 403. A record outside the user's sites is 404,
//! exactly as if it did not exist, so its existence is never hinted at.

use crate::error::ApiError;
use crate::state::AppState;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use mhis_domain::access::{Permission, User};
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::SiteId;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;

/// The authenticated user of a request, and where it came from.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user.
    pub user: User,
    /// The client address, for the audit trail.
    pub origin: Option<String>,
}

impl CurrentUser {
    /// Refuses with 403 unless the user's role has `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.user.can(permission) {
            Ok(())
        } else {
            Err(ApiError::status(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("the role '{}' may not do this", self.user.role.as_str()),
            ))
        }
    }

    /// Refuses with 404 (as for a missing record) unless `site` is in the
    /// user's scope.
    pub fn require_site(&self, site: SiteId, entity: &str) -> Result<(), ApiError> {
        if self.user.scope.covers(site) {
            Ok(())
        } else {
            Err(ApiError::not_found(entity))
        }
    }

    /// An audit event by this user.
    pub fn event(&self, action: &str, entity: &str, entity_id: Option<String>) -> AuditEvent {
        AuditEvent::new(
            self.user.username.clone(),
            action,
            entity,
            entity_id,
            self.origin.clone(),
        )
    }

    /// Records a read of personal data in the audit trail.
    pub async fn audit_read(
        &self,
        state: &AppState,
        action: &str,
        entity: &str,
        entity_id: Option<String>,
    ) -> Result<(), ApiError> {
        let event = self.event(action, entity, entity_id);
        state.store.append_audit(&event, state.now()).await?;
        Ok(())
    }
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::status(StatusCode::UNAUTHORIZED, "unauthenticated", message)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let origin = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| unauthenticated("send an API token as 'Authorization: Bearer …'"))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| unauthenticated("the Authorization header must be 'Bearer <token>'"))?;
        let (_, user) = state
            .store
            .find_token(&token_hash(token.trim()))
            .await?
            .ok_or_else(|| unauthenticated("the API token is unknown or revoked"))?;
        Ok(Self { user, origin })
    }
}

/// What is needed to create an account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role wire name.
    pub role: String,
    /// Site codes; empty with `national`.
    pub sites: Vec<String>,
    /// National scope (every site).
    pub national: bool,
    /// Password in clear, hashed here.
    pub password: String,
    /// Interface language.
    pub language: Option<String>,
}

/// Creates an account: checks every field, resolves site codes, hashes the
/// password with argon2id, and stores the user with an audit entry by
/// `actor`.
pub async fn create_account(
    state: &AppState,
    account: &NewAccount,
    actor: &str,
) -> Result<User, ApiError> {
    let username = mhis_domain::access::parse_username("username", &account.username)?;
    let role = mhis_domain::access::Role::parse("role", &account.role)?;
    mhis_domain::access::check_password("password", &account.password)?;
    let display_name = mhis_domain::text::required("display_name", &account.display_name, 200)?;
    let scope = if account.national {
        if !account.sites.is_empty() {
            return Err(ApiError::invalid(
                "sites",
                "a national user has no site list",
            ));
        }
        mhis_domain::access::Scope::National
    } else {
        if account.sites.is_empty() {
            return Err(ApiError::invalid(
                "sites",
                "name at least one site, or national scope",
            ));
        }
        let all = state.store.list_sites().await?;
        let mut ids = Vec::new();
        for code in &account.sites {
            let site = all
                .iter()
                .find(|s| s.code.as_str().eq_ignore_ascii_case(code))
                .ok_or_else(|| {
                    ApiError::invalid("sites", format!("no site has the code '{code}'"))
                })?;
            ids.push(site.id);
        }
        mhis_domain::access::Scope::Sites(ids)
    };
    let user = User {
        id: mhis_domain::ids::UserId::new(),
        username,
        display_name,
        role,
        scope,
        language: account.language.clone(),
    };
    let hash = hash_password(&account.password)?;
    let audit = AuditEvent::new(actor, "user.create", "user", None, None);
    state
        .store
        .create_user(&user, &hash, state.now(), &audit)
        .await?;
    Ok(user)
}

/// Issues an API token for `user`, returning the secret (shown once; only
/// its hash is stored).
pub async fn issue_token(
    state: &AppState,
    user: &User,
    name: &str,
    actor: &str,
) -> Result<String, ApiError> {
    let name = mhis_domain::text::required("name", name, 100)?;
    let secret = new_token();
    let token = mhis_store::ApiToken {
        id: mhis_domain::ids::TokenId::new(),
        user_id: user.id,
        name,
        created_at: state.now(),
        revoked_at: None,
    };
    let audit = AuditEvent::new(actor, "token.create", "token", None, None);
    state
        .store
        .create_token(&token, &token_hash(&secret), &audit)
        .await?;
    Ok(secret)
}

/// A new random API token: `mhis_` and 32 random bytes in hex. Only its
/// hash is stored.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("mhis_{hex}")
}

/// The stored form of a token: SHA-256, hex. Tokens carry 256 random bits,
/// so a fast hash is enough (unlike passwords).
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Hashes a password with argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(ApiError::internal)
}

/// Whether `password` matches a stored argon2 PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batter", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 5 + 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}

/// Consecutive failed logins that lock an account (OWASP Authentication
/// Cheat Sheet: lock after a small number of failures, for a period).
pub const MAX_FAILED_LOGINS: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: chrono::Duration = chrono::Duration::minutes(15);
/// How long a browser session lasts: one working day.
pub const SESSION_LIFETIME: chrono::Duration = chrono::Duration::hours(8);
/// Login attempts allowed from one address per [`RATE_WINDOW`].
pub const RATE_LIMIT: u32 = 20;
/// The window of the per-address login rate limit.
pub const RATE_WINDOW: std::time::Duration = std::time::Duration::from_secs(300);

/// Counts login attempts per client address, in memory: a fixed window per
/// address. It slows password guessing across many accounts; the per-account
/// lockout stops guessing one account.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    attempts: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, u32)>>,
}

impl LoginLimiter {
    /// Counts an attempt from `origin`; false when over the limit.
    pub fn allow(&self, origin: &str) -> bool {
        let now = std::time::Instant::now();
        let mut attempts = self
            .attempts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if attempts.len() > 10_000 {
            attempts.retain(|_, (start, _)| now.duration_since(*start) < RATE_WINDOW);
        }
        let entry = attempts.entry(origin.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= RATE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= RATE_LIMIT
    }
}

/// A successful login: the user, and the secrets the browser keeps.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// The user.
    pub user: User,
    /// The session secret, for the cookie (only its hash is stored).
    pub session_secret: String,
    /// The CSRF token every form of the session must carry.
    pub csrf_token: String,
}

/// Why a login was refused. The wording never tells whether the user name
/// exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// Unknown user or wrong password.
    #[error("the user name or password is wrong")]
    Invalid,
    /// Too many failures: locked for a while.
    #[error("too many failed logins; try again after {0}")]
    Locked(chrono::DateTime<chrono::Utc>),
    /// Too many attempts from this address.
    #[error("too many login attempts from this address; wait a few minutes")]
    RateLimited,
    /// Storage failed.
    #[error("internal error")]
    Internal,
}

/// Checks a password login and opens a session. Every outcome is audited.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    origin: Option<String>,
) -> Result<LoggedIn, LoginError> {
    let origin_key = origin.clone().unwrap_or_default();
    if !state.login_limiter.allow(&origin_key) {
        return Err(LoginError::RateLimited);
    }
    let now = state.now();
    let event =
        |action: &str, who: &str| AuditEvent::new(who, action, "user", None, origin.clone());
    let username = username.trim().to_ascii_lowercase();
    let Some(account) = state
        .store
        .find_user_login(&username)
        .await
        .map_err(|_| LoginError::Internal)?
    else {
        // Hash anyway, so an unknown name takes as long as a wrong password.
        let _ = verify_password(password, &DUMMY_HASH);
        return Err(LoginError::Invalid);
    };
    if let Some(until) = account.locked_until.filter(|until| *until > now) {
        return Err(LoginError::Locked(until));
    }
    if !verify_password(password, &account.password_hash) {
        let lock = (account.failed_logins + 1 >= MAX_FAILED_LOGINS).then(|| now + LOCKOUT);
        state
            .store
            .record_login_failure(account.user.id, lock, &event("login.failed", &username))
            .await
            .map_err(|_| LoginError::Internal)?;
        return Err(match lock {
            Some(until) => LoginError::Locked(until),
            None => LoginError::Invalid,
        });
    }
    state
        .store
        .record_login_success(account.user.id, &event("login", &username))
        .await
        .map_err(|_| LoginError::Internal)?;
    let session_secret = new_token();
    let csrf_token = new_token();
    let session = mhis_store::Session {
        token_hash: token_hash(&session_secret),
        user_id: account.user.id,
        csrf_token: csrf_token.clone(),
        created_at: now,
        expires_at: now + SESSION_LIFETIME,
    };
    state
        .store
        .create_session(&session, &event("session.create", &username))
        .await
        .map_err(|_| LoginError::Internal)?;
    Ok(LoggedIn {
        user: account.user,
        session_secret,
        csrf_token,
    })
}

/// An argon2id hash of a random password, checked against when the user
/// name is unknown so that both failures cost the same time.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&new_token()).unwrap_or_default());

/// The session of a request's cookie value, when it is live.
pub async fn session_user(
    state: &AppState,
    session_secret: &str,
) -> Result<Option<(mhis_store::Session, User)>, ApiError> {
    Ok(state
        .store
        .find_session(&token_hash(session_secret), state.now())
        .await?)
}
