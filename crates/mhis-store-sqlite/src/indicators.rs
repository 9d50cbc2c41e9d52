//! SQLite storage of the live monitoring aggregates (the `IndicatorStore`
//! half of the store): fact rows, the cube, and the marks the triggers of
//! migration 0008 write.

use super::SqliteStore;
use async_trait::async_trait;
use chrono::NaiveDate;
use mhis_domain::indicator::catalogue::Catalogue;
use mhis_domain::indicator::cube::{CubeKey, CubeQuery, CubeSum, SumKey, deltas};
use mhis_domain::indicator::dims::Dimension;
use mhis_domain::indicator::{FactKind, FactRow};
use mhis_store::{
    DirtyFact, IndicatorStore, StoreError, StoreResult, fact_kind_name, fact_kind_parse,
};
use mhis_store_sql::db_err;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The cube column of a non-period dimension.
pub(crate) fn dimension_column(d: Dimension) -> &'static str {
    match d {
        Dimension::Site => "site",
        Dimension::Nationality => "nationality",
        Dimension::Destination => "destination",
        Dimension::Sex => "sex",
        Dimension::AgeGroup => "age_group",
        Dimension::Period(_) => "''",
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("{what}: {e}"))
}

async fn move_cell(conn: &mut SqliteConnection, key: &CubeKey, n: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO indicator_cells (term, grain, period_start, site, nationality, destination, sex, age_group, val, n) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (term, grain, period_start, site, nationality, destination, sex, age_group, val) \
         DO UPDATE SET n = n + excluded.n",
    )
    .bind(&key.term)
    .bind(key.grain.as_str())
    .bind(key.period_start)
    .bind(&key.site)
    .bind(&key.nationality)
    .bind(&key.destination)
    .bind(&key.sex)
    .bind(&key.age_group)
    .bind(&key.val)
    .bind(n)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    if n < 0 {
        sqlx::query(
            "DELETE FROM indicator_cells WHERE term = ? AND grain = ? AND period_start = ? AND site = ? \
             AND nationality = ? AND destination = ? AND sex = ? AND age_group = ? AND val = ? AND n = 0",
        )
        .bind(&key.term)
        .bind(key.grain.as_str())
        .bind(key.period_start)
        .bind(&key.site)
        .bind(&key.nationality)
        .bind(&key.destination)
        .bind(&key.sex)
        .bind(&key.age_group)
        .bind(&key.val)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

#[async_trait]
impl IndicatorStore for SqliteStore {
    async fn dirty_facts(&self, limit: i64) -> StoreResult<Vec<DirtyFact>> {
        let rows = sqlx::query("SELECT kind, record_id, generation FROM indicator_dirty LIMIT ?")
            .bind(limit)
            .fetch_all(&self.readers)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let kind: String = r.get("kind");
                Ok(DirtyFact {
                    kind: fact_kind_parse(&kind)
                        .ok_or_else(|| corrupt("indicator_dirty.kind", &kind))?,
                    id: r.get::<Uuid, _>("record_id"),
                    generation: r.get("generation"),
                })
            })
            .collect()
    }

    async fn count_dirty_facts(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM indicator_dirty")
            .fetch_one(&self.readers)
            .await
            .map_err(db_err)
    }

    async fn put_fact(
        &self,
        catalogue: &Catalogue,
        dirty: &DirtyFact,
        row: Option<&FactRow>,
    ) -> StoreResult<bool> {
        let kind = fact_kind_name(dirty.kind);
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        let old: Option<String> = sqlx::query_scalar(
            "SELECT row_json FROM indicator_facts WHERE kind = ? AND record_id = ?",
        )
        .bind(kind)
        .bind(dirty.id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let old: Option<FactRow> = old
            .map(|j| serde_json::from_str(&j).map_err(|e| corrupt("indicator_facts.row_json", e)))
            .transpose()?;
        let changed = old.as_ref() != row;
        if changed {
            for (key, n) in deltas(catalogue, old.as_ref(), row) {
                move_cell(&mut tx, &key, n).await?;
            }
            match row {
                Some(r) => {
                    let json = serde_json::to_string(r).map_err(|e| corrupt("fact row", e))?;
                    sqlx::query(
                        "INSERT INTO indicator_facts (kind, record_id, row_json) VALUES (?, ?, ?) \
                         ON CONFLICT (kind, record_id) DO UPDATE SET row_json = excluded.row_json",
                    )
                    .bind(kind)
                    .bind(dirty.id)
                    .bind(json)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                None => {
                    sqlx::query("DELETE FROM indicator_facts WHERE kind = ? AND record_id = ?")
                        .bind(kind)
                        .bind(dirty.id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
            }
        }
        sqlx::query(
            "DELETE FROM indicator_dirty WHERE kind = ? AND record_id = ? AND generation = ?",
        )
        .bind(kind)
        .bind(dirty.id)
        .bind(dirty.generation)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(changed)
    }

    async fn cube_sums(&self, q: &CubeQuery) -> StoreResult<Vec<CubeSum>> {
        if q.terms.is_empty() || q.sites.as_ref().is_some_and(|s| s.is_empty()) {
            return Ok(Vec::new());
        }
        let by_period = matches!(q.by, Some(Dimension::Period(_)));
        let key_column = match q.by {
            Some(d) if !by_period => dimension_column(d),
            _ => "''",
        };
        let mut sums: BTreeMap<SumKey, i64> = BTreeMap::new();
        // One range scan of the primary key per segment.
        for segment in &q.segments {
            let mut b = QueryBuilder::<Sqlite>::new("SELECT term, val, ");
            b.push(if by_period {
                "period_start"
            } else {
                "NULL AS period_start"
            });
            b.push(", ")
                .push(key_column)
                .push(" AS k, SUM(n) AS n FROM indicator_cells WHERE term IN (");
            let mut terms = b.separated(", ");
            for t in &q.terms {
                terms.push_bind(t);
            }
            b.push(") AND grain = ").push_bind(segment.grain.as_str());
            b.push(" AND period_start BETWEEN ").push_bind(segment.from);
            b.push(" AND ").push_bind(segment.to);
            if let Some(sites) = &q.sites {
                b.push(" AND site IN (");
                let mut s = b.separated(", ");
                for site in sites {
                    s.push_bind(site);
                }
                b.push(")");
            }
            for (column, value) in [
                ("nationality", &q.nationality),
                ("destination", &q.destination),
                ("sex", &q.sex),
                ("age_group", &q.age_group),
            ] {
                if let Some(v) = value {
                    b.push(format!(" AND {column} = ")).push_bind(v);
                }
            }
            b.push(" GROUP BY term, val");
            if by_period {
                b.push(", period_start");
            }
            if key_column != "''" {
                b.push(", k");
            }
            let rows = b.build().fetch_all(&self.readers).await.map_err(db_err)?;
            for r in rows {
                let period = if by_period {
                    Some((segment.grain, r.get::<NaiveDate, _>("period_start")))
                } else {
                    None
                };
                let key = (key_column != "''").then(|| r.get::<String, _>("k"));
                *sums
                    .entry((r.get("term"), r.get("val"), period, key))
                    .or_default() += r.get::<i64, _>("n");
            }
        }
        Ok(sums
            .into_iter()
            .map(|((term, val, period, key), n)| CubeSum {
                term,
                val,
                period,
                key,
                n,
            })
            .collect())
    }

    async fn fact_rows(&self, kind: FactKind) -> StoreResult<Vec<FactRow>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT row_json FROM indicator_facts WHERE kind = ?")
                .bind(fact_kind_name(kind))
                .fetch_all(&self.readers)
                .await
                .map_err(db_err)?;
        rows.iter()
            .map(|j| serde_json::from_str(j).map_err(|e| corrupt("indicator_facts.row_json", e)))
            .collect()
    }

    async fn cube_fingerprint(&self) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM indicator_meta WHERE key = 'catalogue'")
            .fetch_optional(&self.readers)
            .await
            .map_err(db_err)
    }

    async fn reset_cube(&self, fingerprint: &str) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        for statement in [
            "DELETE FROM indicator_cells",
            "DELETE FROM indicator_facts",
            "DELETE FROM indicator_dirty",
            "INSERT INTO indicator_dirty (kind, record_id, generation) SELECT 'assessment', id, 1 FROM assessments",
            "INSERT INTO indicator_dirty (kind, record_id, generation) SELECT 'referral', id, 1 FROM referrals",
        ] {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query(
            "INSERT INTO indicator_meta (key, value) VALUES ('catalogue', ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(fingerprint)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn load_facts(
        &self,
        rows: &[(FactKind, Uuid, FactRow)],
        cells: &[(CubeKey, i64)],
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(db_err)?;
        for chunk in rows.chunks(5_000) {
            let mut b = QueryBuilder::<Sqlite>::new(
                "INSERT INTO indicator_facts (kind, record_id, row_json) ",
            );
            let mut failed = None;
            b.push_values(chunk, |mut v, (kind, id, row)| {
                let json = serde_json::to_string(row).unwrap_or_else(|e| {
                    failed = Some(e.to_string());
                    String::new()
                });
                v.push_bind(fact_kind_name(*kind))
                    .push_bind(*id)
                    .push_bind(json);
            });
            if let Some(e) = failed {
                return Err(corrupt("fact row", e));
            }
            b.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        for chunk in cells.chunks(3_000) {
            let mut b = QueryBuilder::<Sqlite>::new(
                "INSERT INTO indicator_cells (term, grain, period_start, site, nationality, destination, sex, age_group, val, n) ",
            );
            b.push_values(chunk, |mut v, (k, n)| {
                v.push_bind(&k.term)
                    .push_bind(k.grain.as_str())
                    .push_bind(k.period_start)
                    .push_bind(&k.site)
                    .push_bind(&k.nationality)
                    .push_bind(&k.destination)
                    .push_bind(&k.sex)
                    .push_bind(&k.age_group)
                    .push_bind(&k.val)
                    .push_bind(*n);
            });
            b.push(
                " ON CONFLICT (term, grain, period_start, site, nationality, destination, sex, age_group, val) \
                 DO UPDATE SET n = n + excluded.n",
            );
            b.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}
