//! The directory's JSON API: the same search as the page, for anyone.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::search::{PAGE_SIZE, SearchQuery};
use super::vocab::Facet;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::extract::{Json, QueryPairs};

/// One therapist in search results.
#[derive(Serialize, ToSchema)]
pub struct Therapist {
    /// URL name; the profile page is `/directory/t/{slug}`.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Pronouns.
    pub pronouns: String,
    /// Qualifications.
    pub credentials: String,
    /// `unverified`, `verified` or `rejected`.
    pub licence_status: String,
    /// Concern slugs.
    pub concerns: Vec<String>,
    /// Approach slugs.
    pub approaches: Vec<String>,
    /// Language codes.
    pub languages: Vec<String>,
    /// Modality slugs.
    pub modalities: Vec<String>,
    /// Fee per session in cents.
    pub fee_cents: i64,
    /// Lowest sliding-scale fee in cents, when offered.
    pub sliding_scale_min_cents: Option<i64>,
    /// Accepting new clients.
    pub accepting: bool,
    /// Region.
    pub region: String,
    /// City.
    pub city: String,
    /// Time zone.
    pub time_zone: String,
    /// Distance in km when searching near a place.
    pub distance_km: Option<f64>,
}

/// A page of results.
#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    /// How many therapists match.
    pub total: i64,
    /// This page (1-based).
    pub page: i64,
    /// Results per page.
    pub page_size: i64,
    /// The therapists on this page, in the page's order.
    pub results: Vec<Therapist>,
}

/// Search the directory
///
/// The same search, filters, order and pages as `/directory`. Free text is matched as plain
/// words (operators and quotes are ignored). Filters: `concern`, `approach`, `language`,
/// `modality`, `age` (repeatable, all must match), `region`, `max_fee`, `sliding_scale`,
/// `accepting`, `lat`+`lon`+`within_km`, `sort` (`relevance`, `fee`, `name`, `distance`), `page`.
#[utoipa::path(get, path = "/api/v1/directory/search", tag = "directory",
    params(("q" = Option<String>, Query, description = "Words to search for"),
           ("concern" = Option<String>, Query, description = "Concern slug"),
           ("approach" = Option<String>, Query, description = "Approach slug"),
           ("language" = Option<String>, Query, description = "Language code"),
           ("modality" = Option<String>, Query, description = "video, in-person, phone or messaging"),
           ("region" = Option<String>, Query, description = "Region name"),
           ("max_fee" = Option<String>, Query, description = "Highest fee, e.g. 60 or 60.50"),
           ("sliding_scale" = Option<String>, Query, description = "1 for sliding scale only"),
           ("accepting" = Option<String>, Query, description = "1 for accepting new clients only"),
           ("sort" = Option<String>, Query, description = "relevance, fee, name or distance"),
           ("page" = Option<i64>, Query, description = "Page, from 1")),
    responses((status = 200, description = "Matching therapists", body = SearchResults),
              (status = 422, description = "A filter has a value that is not allowed", content_type = "application/problem+json")))]
pub async fn search(
    State(state): State<AppState>,
    QueryPairs(pairs): QueryPairs,
) -> AppResult<Json<SearchResults>> {
    let q = SearchQuery::from_pairs(&pairs).map_err(AppError::Invalid)?;
    let (found, hits) = state.directory.search(&state.db, &q).await?;
    let results = hits
        .into_iter()
        .map(|h| {
            let p = &h.profile;
            let slugs = |f: Facet| p.slugs(f).into_iter().map(String::from).collect();
            Therapist {
                slug: p.row.slug.clone(),
                name: p.row.display_name.clone(),
                pronouns: p.row.pronouns.clone(),
                credentials: p.row.credentials.clone(),
                licence_status: p.row.licence_status.clone(),
                concerns: slugs(Facet::Concern),
                approaches: slugs(Facet::Approach),
                languages: slugs(Facet::Language),
                modalities: slugs(Facet::Modality),
                fee_cents: p.row.fee_cents,
                sliding_scale_min_cents: p.row.sliding_scale_min_cents,
                accepting: p.row.accepting,
                region: p.row.region.clone(),
                city: p.row.city.clone(),
                time_zone: p.row.time_zone.clone(),
                distance_km: q
                    .near
                    .map(|_| h.dist2.sqrt() * super::search::KM_PER_DEGREE),
            }
        })
        .collect();
    Ok(Json(SearchResults {
        total: found.total,
        page: q.page,
        page_size: PAGE_SIZE,
        results,
    }))
}
