//! Accounts and the audit trail from the command line: `mhis user add`,
//! `mhis token create`, and `mhis audit verify` catching an edited,
//! deleted, inserted or reordered entry in the database.

use chrono::{DateTime, Utc};
use mhis_domain::audit::{AuditEvent, entry_hash};
use sqlx::{Connection, SqliteConnection};
use std::process::{Command, Output};

struct Db {
    _dir: tempfile::TempDir,
    url: String,
}

fn mhis(db: &Db, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mhis"))
        .args(args)
        .args(["--database-url", &db.url])
        .env("MHIS_PASSWORD", "a long enough password")
        .env("MHIS_LOG", "off")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A database with five audit entries: four users and a token.
fn trail() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("mhis.db").display());
    let db = Db { _dir: dir, url };
    for (name, role) in [
        ("amina", "admin"),
        ("bakhrom", "clinician"),
        ("chingiz", "data_manager"),
        ("dilnoza", "verifier"),
    ] {
        let out = mhis(
            &db,
            &["user", "add", "--name", name, "--role", role, "--national"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = mhis(&db, &["token", "create", "--user", "amina"]);
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("mhis_"));
    db
}

async fn sql(db: &Db, statements: &[&str]) {
    let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
    for s in statements {
        sqlx::query(s).execute(&mut conn).await.unwrap();
    }
}

fn verify(db: &Db) -> (i32, String) {
    let out = mhis(db, &["audit", "verify"]);
    (out.status.code().unwrap(), stdout(&out))
}

#[test]
fn user_add_refuses_bad_input_with_the_field() {
    let db = trail();
    let out = mhis(
        &db,
        &[
            "user",
            "add",
            "--name",
            "amina",
            "--role",
            "admin",
            "--national",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("username"));
    let out = mhis(
        &db,
        &[
            "user",
            "add",
            "--name",
            "eldor",
            "--role",
            "surgeon",
            "--national",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("role"));
    let out = mhis(
        &db,
        &[
            "user", "add", "--name", "eldor", "--role", "lab", "--site", "NOPE-1",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("sites"));
    let out = Command::new(env!("CARGO_BIN_EXE_mhis"))
        .args([
            "user",
            "add",
            "--name",
            "eldor",
            "--role",
            "lab",
            "--national",
            "--database-url",
            &db.url,
        ])
        .env("MHIS_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
    // Refused commands added nothing to the trail.
    assert_eq!(verify(&db), (0, "audit trail intact: 5 entries\n".into()));
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    let db = trail();
    assert_eq!(verify(&db).0, 0);
    sql(
        &db,
        &["UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"],
    )
    .await;
    assert_eq!(
        verify(&db),
        (1, "audit trail broken: entry 3 was modified\n".into())
    );
}

#[tokio::test]
async fn a_deleted_entry_is_named() {
    let db = trail();
    sql(&db, &["DELETE FROM audit_log WHERE seq = 2"]).await;
    assert_eq!(
        verify(&db),
        (
            1,
            "audit trail broken: entries were deleted before entry 3 (expected entry 2)\n".into()
        )
    );
}

#[tokio::test]
async fn reordered_entries_are_named() {
    let db = trail();
    // Swap the contents of entries 2 and 4, keeping their positions.
    sql(
        &db,
        &[
            "UPDATE audit_log SET seq = -2 WHERE seq = 2",
            "UPDATE audit_log SET seq = 2 WHERE seq = 4",
            "UPDATE audit_log SET seq = 4 WHERE seq = -2",
        ],
    )
    .await;
    assert_eq!(
        verify(&db),
        (1, "audit trail broken: entry 2 was modified\n".into())
    );
}

#[tokio::test]
async fn an_inserted_entry_is_named() {
    let db = trail();
    // A forger makes room after entry 2 and adds an entry whose own hash
    // is right; the entries after it no longer link up.
    let at: DateTime<Utc> = Utc::now();
    let event = AuditEvent::new("mallory", "migrant.read", "migrant", None, None);
    let prev = "f".repeat(64);
    let hash = entry_hash(3, at, &event, &prev);
    let at_text = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let insert = format!(
        "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, origin, prev_hash, hash) \
         VALUES (3, '{at_text}', 'mallory', 'migrant.read', 'migrant', NULL, NULL, '{prev}', '{hash}')"
    );
    sql(
        &db,
        &[
            "UPDATE audit_log SET seq = -seq WHERE seq >= 3",
            "UPDATE audit_log SET seq = -seq + 1 WHERE seq < 0",
            &insert,
        ],
    )
    .await;
    assert_eq!(
        verify(&db),
        (1, "audit trail broken: entry 3 was inserted\n".into())
    );
}

#[test]
fn a_revoked_token_is_listed_as_revoked_and_revoking_twice_is_refused() {
    let db = trail();
    let list = stdout(&mhis(&db, &["token", "list", "--user", "amina"]));
    let id = list.split('\t').next().unwrap().to_owned();
    assert!(list.contains("active"), "{list}");
    let out = mhis(&db, &["token", "revoke", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&mhis(&db, &["token", "list", "--user", "amina"])).contains("revoked"));
    assert_eq!(mhis(&db, &["token", "revoke", &id]).status.code(), Some(2));
    assert_eq!(
        mhis(&db, &["token", "revoke", "nonsense"]).status.code(),
        Some(2)
    );
    assert_eq!(verify(&db).0, 0);
}
