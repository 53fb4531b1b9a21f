-- Treatment plans (PostgreSQL). Twin: migrations/sqlite/20261127000014_treatment_plans.sql.
--
-- One current plan per client, written by the treating therapist and read by the client. What
-- it says (problems, goals with their measures and targets, interventions) is sealed as one
-- JSON document; every saved version is kept, like safety plans. The planned end and the next
-- review stay in the clear as dates: the practice report counts dropout against the planned
-- end, and the caseload lists plans due for review, without opening every plan.
CREATE TABLE treatment_plans (
    client_id UUID PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_sealed BYTEA NOT NULL,
    version BIGINT NOT NULL,
    planned_end TEXT,
    next_review TEXT,
    updated_by UUID NOT NULL REFERENCES users (id),
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE treatment_plan_versions (
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    content_sealed BYTEA NOT NULL,
    updated_by UUID NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client_id, version)
);

-- A periodic review: the therapist's words and the progress the measures showed that day,
-- sealed together so the review reads later exactly as it was written.
CREATE TABLE treatment_plan_reviews (
    id UUID PRIMARY KEY NOT NULL,
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id UUID NOT NULL REFERENCES users (id),
    plan_version BIGINT NOT NULL,
    body_sealed BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX treatment_plan_reviews_client ON treatment_plan_reviews (client_id, created_at);
