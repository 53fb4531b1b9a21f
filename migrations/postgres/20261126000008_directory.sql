-- The directory, requests and booking (PostgreSQL). Twin: migrations/sqlite/20261126000008_directory.sql.

-- A therapist's public profile. Public by design, so not sealed; contact details are never
-- shown (people reach a therapist through a request).
CREATE TABLE directory_profiles (
    user_id UUID PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    slug TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    pronouns TEXT NOT NULL DEFAULT '',
    gender TEXT NOT NULL DEFAULT '',
    credentials TEXT NOT NULL DEFAULT '',
    licence_number TEXT NOT NULL DEFAULT '',
    licence_region TEXT NOT NULL DEFAULT '',
    licence_status TEXT NOT NULL DEFAULT 'unverified',
    bio TEXT NOT NULL DEFAULT '',
    approach TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    fee_cents BIGINT NOT NULL DEFAULT 0,
    sliding_scale_min_cents BIGINT,
    insurance TEXT NOT NULL DEFAULT '',
    accepting BOOLEAN NOT NULL DEFAULT TRUE,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    published BOOLEAN NOT NULL DEFAULT FALSE,
    hidden BOOLEAN NOT NULL DEFAULT FALSE,
    has_photo BOOLEAN NOT NULL DEFAULT FALSE,
    -- Bumped by every booking: the first statement of a booking transaction, so SQLite takes
    -- its write lock and PostgreSQL locks this row, serialising bookings per therapist.
    booking_seq BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX directory_profiles_listed ON directory_profiles (published, hidden, accepting, fee_cents);

-- Multi-valued facets as `kind:value` tags (concern:anxiety, language:es, modality:video …).
CREATE TABLE directory_tags (
    tag TEXT NOT NULL,
    user_id UUID NOT NULL REFERENCES directory_profiles (user_id) ON DELETE CASCADE,
    PRIMARY KEY (tag, user_id)
);
CREATE INDEX directory_tags_user ON directory_tags (user_id);

-- Full text over name, approach and bio: a stored tsvector (English stemming, name weighted
-- above approach above bio) with a GIN index.
ALTER TABLE directory_profiles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', display_name), 'A')
    || setweight(to_tsvector('english', approach), 'B')
    || setweight(to_tsvector('english', bio), 'C')
) STORED;
CREATE INDEX directory_profiles_search ON directory_profiles USING GIN (search);

-- The photo, re-encoded as JPEG (so no metadata survives), served from the database so
-- every instance has it.
CREATE TABLE directory_photos (
    user_id UUID PRIMARY KEY NOT NULL REFERENCES directory_profiles (user_id) ON DELETE CASCADE,
    jpeg BYTEA NOT NULL,
    etag TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- What a therapist offers: length, modality and fee.
CREATE TABLE session_types (
    id UUID PRIMARY KEY NOT NULL,
    therapist_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    modality TEXT NOT NULL,
    fee_cents BIGINT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_types_therapist ON session_types (therapist_id);

-- Weekly hours in the therapist's time zone (minutes after local midnight; 0 = Monday).
CREATE TABLE availability_windows (
    id UUID PRIMARY KEY NOT NULL,
    therapist_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    weekday BIGINT NOT NULL,
    start_minute BIGINT NOT NULL,
    end_minute BIGINT NOT NULL
);
CREATE INDEX availability_windows_therapist ON availability_windows (therapist_id);

-- Days off (whole or part) and extra hours on a date, in the therapist's time zone.
CREATE TABLE availability_exceptions (
    id UUID PRIMARY KEY NOT NULL,
    therapist_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_minute BIGINT,
    end_minute BIGINT,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX availability_exceptions_therapist ON availability_exceptions (therapist_id, day);

-- A person asking to work with a therapist (or to join their waitlist). What they write
-- about why is sealed.
CREATE TABLE directory_requests (
    id UUID PRIMARY KEY NOT NULL,
    therapist_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requester_id UUID REFERENCES users (id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    message_sealed BYTEA NOT NULL,
    waitlist BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    risk TEXT NOT NULL DEFAULT 'none',
    created_at TIMESTAMPTZ NOT NULL,
    decided_at TIMESTAMPTZ
);
CREATE INDEX directory_requests_therapist ON directory_requests (therapist_id, status, created_at);

-- Appointments. The partial unique index is the last word on "one booking per slot".
CREATE TABLE appointments (
    id UUID PRIMARY KEY NOT NULL,
    therapist_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_type_id UUID NOT NULL REFERENCES session_types (id),
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    modality TEXT NOT NULL,
    fee_cents BIGINT NOT NULL,
    room TEXT NOT NULL,
    sequence BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    changed_by UUID REFERENCES users (id)
);
CREATE UNIQUE INDEX appointments_slot ON appointments (therapist_id, starts_at) WHERE status = 'booked';
CREATE INDEX appointments_client ON appointments (client_id, starts_at);
CREATE INDEX appointments_therapist ON appointments (therapist_id, starts_at);

-- A private calendar feed per person, keyed by the SHA-256 of its secret token.
CREATE TABLE calendar_feeds (
    user_id UUID PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

-- Where a person lives in time, for showing and booking slots in their own clock.
ALTER TABLE users ADD COLUMN time_zone TEXT;
