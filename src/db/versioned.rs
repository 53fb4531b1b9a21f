//! Sealed documents kept one per client with every saved version: safety plans and treatment
//! plans. A save names the version it was edited from, so two people editing at once never
//! overwrite each other silently; the plan and its history change in one transaction.

use uuid::Uuid;

use super::{Db, DbError, DbResult, Timestamp};
use crate::with_pool;

/// Which document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versioned {
    /// `safety_plans` and `safety_plan_versions`.
    SafetyPlan,
    /// `treatment_plans` and `treatment_plan_versions`.
    TreatmentPlan,
}

impl Versioned {
    /// The current table and the history table (fixed names, never user input).
    fn tables(self) -> (&'static str, &'static str) {
        match self {
            Versioned::SafetyPlan => ("safety_plans", "safety_plan_versions"),
            Versioned::TreatmentPlan => ("treatment_plans", "treatment_plan_versions"),
        }
    }
}

/// A saved version, for the history.
#[derive(sqlx::FromRow)]
pub struct DocVersion {
    /// Its number, from 1.
    pub version: i64,
    /// The sealed content.
    pub content_sealed: Vec<u8>,
    /// Who saved it.
    pub updated_by_name: String,
    /// When.
    pub created_at: Timestamp,
}

/// A treatment plan's dates, kept in the clear beside its sealed content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanDates {
    /// `YYYY-MM-DD`, when care is planned to end.
    pub planned_end: Option<String>,
    /// `YYYY-MM-DD`, when the plan is next due for review.
    pub next_review: Option<String>,
}

impl Db {
    /// Every saved version of `doc` for `client_id`, newest first.
    pub async fn versions(&self, doc: Versioned, client_id: Uuid) -> DbResult<Vec<DocVersion>> {
        let (_, history) = doc.tables();
        let sql = format!(
            "SELECT v.version, v.content_sealed, u.name AS updated_by_name, v.created_at FROM {history} v \
             JOIN users u ON u.id = v.updated_by WHERE v.client_id = $1 ORDER BY v.version DESC"
        );
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(client_id).fetch_all(pool).await?
        }))
    }

    /// Saves `sealed` as the next version of `doc`, edited from `version` (0 for a first save),
    /// and sets the treatment plan's `dates` in the same transaction. Answers the new version,
    /// or [`DbError::Conflict`] when someone else saved in between.
    pub async fn save_versioned(
        &self,
        doc: Versioned,
        client_id: Uuid,
        sealed: &[u8],
        version: i64,
        by: Uuid,
        dates: Option<&PlanDates>,
    ) -> DbResult<i64> {
        let (current, history) = doc.tables();
        let insert = format!(
            "INSERT INTO {current} (client_id, content_sealed, version, updated_by, updated_at) \
             VALUES ($1, $2, 1, $3, $4) ON CONFLICT (client_id) DO NOTHING"
        );
        let update = format!(
            "UPDATE {current} SET content_sealed = $1, version = version + 1, updated_by = $2, \
             updated_at = $3 WHERE client_id = $4 AND version = $5"
        );
        let keep = format!(
            "INSERT INTO {history} (client_id, version, content_sealed, updated_by, created_at) \
             VALUES ($1, $2, $3, $4, $5)"
        );
        let now = Timestamp::now();
        let done = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let n = if version == 0 {
                sqlx::query(&insert)
                    .bind(client_id)
                    .bind(sealed)
                    .bind(by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            } else {
                sqlx::query(&update)
                    .bind(sealed)
                    .bind(by)
                    .bind(now)
                    .bind(client_id)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            };
            if n == 1 {
                // The same transaction keeps every version, so history and plan never disagree.
                sqlx::query(&keep)
                    .bind(client_id)
                    .bind(version + 1)
                    .bind(sealed)
                    .bind(by)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if let Some(d) = dates {
                    sqlx::query(
                        "UPDATE treatment_plans SET planned_end = $1, next_review = $2 WHERE client_id = $3",
                    )
                    .bind(d.planned_end.as_deref())
                    .bind(d.next_review.as_deref())
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            n
        });
        if done == 1 {
            Ok(version + 1)
        } else {
            Err(DbError::Conflict)
        }
    }
}
