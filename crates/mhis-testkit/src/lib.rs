//! Test support: [`spawn_app`] starts the real server on a random port over
//! a fresh database, and [`TestApp`] talks to it over HTTP as a client
//! would.
//!
//! The [`story!`] macro writes one test twice: on SQLite always, and on
//! PostgreSQL when `MHIS_TEST_POSTGRES_URL` is set (CI sets it). With the
//! variable set, an unreachable server fails the test rather than skipping
//! it. Each PostgreSQL test gets a database of its own, dropped afterwards.

use mhis_domain::vocabulary::Vocabulary;
use mhis_server::auth::{NewAccount, create_account, issue_token};
use mhis_server::{AppState, storage};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The environment variable naming the PostgreSQL server for tests, as a
/// URL to an existing database the tests may create databases from.
pub const POSTGRES_ENV: &str = "MHIS_TEST_POSTGRES_URL";

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

/// A running server, its state, and clients for it.
///
/// `app.get(…)`/`post(…)`/`put(…)` act as a national clinician (who may
/// register, assess and record every result); `app.admin` is a national
/// administrator; [`TestApp::client_for`] makes users of any role and
/// scope.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The database URL the server uses.
    pub database_url: String,
    /// The server's state, to create accounts as the CLI does.
    pub state: AppState,
    /// A national clinician.
    pub clinician: Client,
    /// A national administrator.
    pub admin: Client,
    /// Seconds added to the real clock: tests move time forward with
    /// [`TestApp::advance_days`].
    pub clock_offset: Arc<std::sync::atomic::AtomicI64>,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

/// An HTTP client acting as one user (or anonymously).
#[derive(Clone)]
pub struct Client {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The bearer token, if any.
    pub token: Option<String>,
    http: reqwest::Client,
}

impl std::ops::Deref for TestApp {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.clinician
    }
}

/// A response: status and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Parsed body.
    pub body: Value,
}

impl Reply {
    /// Asserts the status, returning the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// Asserts an API error: status, kind and field.
    #[track_caller]
    pub fn expect_error(self, status: u16, field: Option<&str>) -> Value {
        let body = self.expect(status);
        assert_eq!(
            body["field"].as_str(),
            field,
            "error names the wrong field: {body}"
        );
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(body["error"].is_string());
        body
    }
}

impl Client {
    /// The same server, without credentials.
    pub fn anonymous(&self) -> Client {
        Client {
            token: None,
            ..self.clone()
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.address));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let bytes = response.bytes().await.expect("read body");
        Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Reply {
        let r = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("GET");
        Self::reply(r).await
    }

    /// GET a path expecting 200 and a text body (CSV, HTML).
    pub async fn get_text(&self, path: &str) -> String {
        let r = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status(), reqwest::StatusCode::OK, "GET {path}");
        r.text().await.expect("a text body")
    }

    /// POST JSON to a path.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        let r = self
            .request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("POST");
        Self::reply(r).await
    }

    /// PUT JSON to a path.
    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        let r = self
            .request(reqwest::Method::PUT, path)
            .json(body)
            .send()
            .await
            .expect("PUT");
        Self::reply(r).await
    }

    /// POST raw bytes with a content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let r = self
            .request(reqwest::Method::POST, path)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        Self::reply(r).await
    }
}

impl TestApp {
    /// Moves the server's clock `days` forward (it keeps running).
    pub fn advance_days(&self, days: i64) {
        self.clock_offset
            .fetch_add(days * 86_400, std::sync::atomic::Ordering::SeqCst);
    }

    /// A client acting as a new user of `role` at the sites with these
    /// codes (national scope when `sites` is empty).
    pub async fn client_for(&self, role: &str, sites: &[&str]) -> Client {
        let username = format!("{role}-{}", uuid::Uuid::now_v7().simple())
            .chars()
            .take(32)
            .collect::<String>();
        let account = NewAccount {
            username,
            display_name: format!("Test {role}"),
            role: role.to_owned(),
            sites: sites.iter().map(|s| (*s).to_owned()).collect(),
            national: sites.is_empty(),
            password: "a long test password".into(),
            language: None,
        };
        let user = create_account(&self.state, &account, "test")
            .await
            .expect("create test account");
        let token = issue_token(&self.state, &user, "test", "test")
            .await
            .expect("issue test token");
        Client {
            token: Some(token),
            ..self.clinician.anonymous()
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop the test database from a thread of its own: Drop cannot
            // await, and the test's runtime may be shutting down.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&admin_url).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&pool)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Replaces the database name at the end of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Starts the server on `backend` with a fresh database. Returns `None`
/// for PostgreSQL when [`POSTGRES_ENV`] is not set.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, postgres) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("mhis.db").display()),
            None,
        ),
        Backend::Postgres => {
            let admin_url = std::env::var(POSTGRES_ENV).ok()?;
            let name = format!("mhis_test_{}", uuid::Uuid::now_v7().simple());
            let pool = sqlx::PgPool::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but unreachable: {e}"));
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&pool)
                .await
                .expect("create test database");
            pool.close().await;
            (with_database(&admin_url, &name), Some((admin_url, name)))
        }
    };
    let vocabulary = Arc::new(Vocabulary::built_in());
    let store = storage::open_migrated(&database_url, vocabulary.clone())
        .await
        .expect("open store");
    let mut state = AppState::new(store, vocabulary);
    // A key encryption key of the test's own, so certificates can be issued.
    let kek = mhis_server::certificates::KeyEncryptionKey::load(&dir.path().join("kek"), true)
        .expect("key encryption key");
    state.key_encryption = Some(Arc::new(kek));
    let clock_offset = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let offset = clock_offset.clone();
    state.clock = Arc::new(move || {
        chrono::Utc::now()
            + chrono::Duration::seconds(offset.load(std::sync::atomic::Ordering::SeqCst))
    });
    let server_state = state.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        mhis_server::serve(listener, server_state, async {
            let _ = rx.await;
        })
        .await
        .expect("server");
    });
    let anonymous = Client {
        address: address.clone(),
        token: None,
        http: reqwest::Client::new(),
    };
    let mut app = TestApp {
        address,
        database_url,
        state,
        clinician: anonymous.clone(),
        admin: anonymous,
        clock_offset,
        shutdown: Some(tx),
        _dir: dir,
        postgres,
    };
    app.clinician = app.client_for("clinician", &[]).await;
    app.admin = app.client_for("admin", &[]).await;
    Some(app)
}

/// A migrant registered at `site_id` and assessed under `ru-labour` through
/// the JSON API with a chest X-ray suggestive of TB, Xpert not detected and
/// HBsAg reactive: cleared with follow-up, with the referrals
/// `tb_evaluation` and `hepatitis_care` suggested. Returns the assessment
/// id.
pub async fn assessed_with_suggestions(client: &Client, site_id: &str) -> String {
    let migrant = client
        .post(
            "/api/v1/migrants",
            &serde_json::json!({"site_id": site_id, "family_name": "Рахимов",
                "given_names": "Шухрат", "sex": "male", "birth_date": "1990-06",
                "nationality": "TJ",
                "document": {"kind": "passport", "number": "400123456", "issuing_country": "TJ"}}),
        )
        .await
        .expect(201);
    let assessment = client
        .post(
            "/api/v1/assessments",
            &serde_json::json!({"migrant_id": migrant["migrant"]["id"], "site_id": site_id,
                "purpose": "labour", "destination": "RU", "protocol": "ru-labour"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .expect("an assessment id")
        .to_owned();
    client
        .post(
            &format!("/api/v1/assessments/{assessment}/observations"),
            &serde_json::json!({"observations": [
                {"code": "hiv.a1", "value": "non_reactive"},
                {"code": "syphilis.screen", "value": "non_reactive"},
                {"code": "cxr", "value": "suggestive_tb"},
                {"code": "xpert", "value": "mtb_not_detected"},
                {"code": "leprosy.exam", "value": "no_signs"},
                {"code": "narcology.drug_test", "value": "negative"},
                {"code": "hbsag", "value": "reactive"}
            ]}),
        )
        .await
        .expect(201);
    assessment
}

/// A browser-like client of the web interface: cookies, forms, pages.
pub mod web {
    use super::TestApp;
    use reqwest::StatusCode;

    /// A client that keeps cookies and follows redirects.
    pub fn browser() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .expect("an HTTP client")
    }

    /// A page as the browser got it: status, final path, HTML.
    pub struct Page {
        /// HTTP status.
        pub status: StatusCode,
        /// The path after redirects.
        pub path: String,
        /// The body.
        pub html: String,
    }

    /// The page a response carries.
    pub async fn page(response: reqwest::Response) -> Page {
        Page {
            status: response.status(),
            path: response.url().path().to_owned(),
            html: response.text().await.expect("a page body"),
        }
    }

    /// `GET path`.
    pub async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> Page {
        page(
            client
                .get(format!("{}{path}", app.address))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    /// `POST path` with a form.
    pub async fn post(
        app: &TestApp,
        client: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> Page {
        page(
            client
                .post(format!("{}{path}", app.address))
                .form(form)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// The CSRF token of the page's forms.
    pub fn csrf(html: &str) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
        html[start..]
            .split('"')
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Writes a story test that runs on SQLite and on PostgreSQL.
///
/// ```text
/// story!(registers_a_migrant, |app| async move { /* ... */ });
/// ```
#[macro_export]
macro_rules! story {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::spawn_app($crate::Backend::Sqlite)
                    .await
                    .expect("sqlite is always available");
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::spawn_app($crate::Backend::Postgres).await {
                    Some(app) => ($body)(app).await,
                    None => eprintln!(
                        "skipped on PostgreSQL: set {} to run it",
                        $crate::POSTGRES_ENV
                    ),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
