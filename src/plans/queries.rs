//! Storage for treatment plans and their reviews (sealed; callers seal and open). Saving a plan
//! goes through [`Db::save_versioned`], which keeps every version.

use uuid::Uuid;

use crate::db::{Db, DbResult, Timestamp};
use crate::with_pool;

/// A client's current plan.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PlanRow {
    /// Sealed [`super::PlanContent`] JSON.
    pub content_sealed: Vec<u8>,
    /// Version for conflict checks (1 for the first save).
    pub version: i64,
    /// `YYYY-MM-DD`.
    pub planned_end: Option<String>,
    /// `YYYY-MM-DD`.
    pub next_review: Option<String>,
    /// Who saved it last.
    pub updated_by_name: String,
    /// When.
    pub updated_at: Timestamp,
}

/// A stored review.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReviewRow {
    /// Id (part of the sealed body's associated data).
    pub id: Uuid,
    /// Who reviewed.
    pub author_name: String,
    /// The plan version reviewed.
    pub plan_version: i64,
    /// Sealed [`super::ReviewBody`] JSON.
    pub body_sealed: Vec<u8>,
    /// When.
    pub created_at: Timestamp,
}

impl Db {
    /// The client's plan, if one was written.
    pub async fn treatment_plan(&self, client_id: Uuid) -> DbResult<Option<PlanRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT p.content_sealed, p.version, p.planned_end, p.next_review, u.name AS updated_by_name, p.updated_at \
                 FROM treatment_plans p JOIN users u ON u.id = p.updated_by WHERE p.client_id = $1",
            )
            .bind(client_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// The plan's reviews, newest first.
    pub async fn plan_reviews(&self, client_id: Uuid) -> DbResult<Vec<ReviewRow>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT r.id, u.name AS author_name, r.plan_version, r.body_sealed, r.created_at \
                 FROM treatment_plan_reviews r JOIN users u ON u.id = r.author_id \
                 WHERE r.client_id = $1 ORDER BY r.created_at DESC",
            )
            .bind(client_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Stores a review of plan version `plan_version` and moves the next review to
    /// `next_review`, in one transaction. `false` when the plan is not at that version any
    /// more (someone saved it meanwhile): nothing is stored.
    pub async fn add_plan_review(
        &self,
        id: Uuid,
        client_id: Uuid,
        author_id: Uuid,
        plan_version: i64,
        body_sealed: &[u8],
        next_review: &str,
    ) -> DbResult<bool> {
        let now = Timestamp::now();
        Ok(with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            // The write comes first so SQLite takes its lock at once, and it checks the
            // version, so a review never describes a plan the therapist did not see.
            let n = sqlx::query(
                "UPDATE treatment_plans SET next_review = $1 WHERE client_id = $2 AND version = $3",
            )
            .bind(next_review)
            .bind(client_id)
            .bind(plan_version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query(
                    "INSERT INTO treatment_plan_reviews (id, client_id, author_id, plan_version, body_sealed, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(client_id)
                .bind(author_id)
                .bind(plan_version)
                .bind(body_sealed)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            n == 1
        }))
    }

    /// The treating therapist's clients whose plan review is due on or before `today`
    /// (`YYYY-MM-DD`), for the caseload.
    pub async fn plan_reviews_due(&self, therapist_id: Uuid, today: &str) -> DbResult<Vec<Uuid>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT p.client_id FROM treatment_plans p JOIN care_relationships c ON c.client_id = p.client_id \
                 WHERE c.therapist_id = $1 AND c.ended_at IS NULL AND p.next_review <= $2",
            )
            .bind(therapist_id)
            .bind(today)
            .fetch_all(pool)
            .await?
        }))
    }
}
