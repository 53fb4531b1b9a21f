-- Treatment plans (SQLite). Twin: migrations/postgres/20261127000014_treatment_plans.sql.
--
-- One current plan per client, written by the treating therapist and read by the client. What
-- it says (problems, goals with their measures and targets, interventions) is sealed as one
-- JSON document; every saved version is kept, like safety plans. The planned end and the next
-- review stay in the clear as dates: the practice report counts dropout against the planned
-- end, and the caseload lists plans due for review, without opening every plan.
CREATE TABLE treatment_plans (
    client_id BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_sealed BLOB NOT NULL,
    version BIGINT NOT NULL,
    planned_end TEXT,
    next_review TEXT,
    updated_by BLOB NOT NULL REFERENCES users (id),
    updated_at TEXT NOT NULL
);

CREATE TABLE treatment_plan_versions (
    client_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    content_sealed BLOB NOT NULL,
    updated_by BLOB NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (client_id, version)
);

-- A periodic review: the therapist's words and the progress the measures showed that day,
-- sealed together so the review reads later exactly as it was written.
CREATE TABLE treatment_plan_reviews (
    id BLOB PRIMARY KEY NOT NULL,
    client_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id BLOB NOT NULL REFERENCES users (id),
    plan_version BIGINT NOT NULL,
    body_sealed BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX treatment_plan_reviews_client ON treatment_plan_reviews (client_id, created_at);
