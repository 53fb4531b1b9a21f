-- Client rights (PostgreSQL). Twin: migrations/sqlite/20261127000015_client_rights.sql.
--
-- Exports need a recent password check: the session remembers when it last had one.
ALTER TABLE sessions ADD COLUMN reauthenticated_at TIMESTAMPTZ;

-- A client's request to delete their account and record. The account closes at once; the
-- clinical record is kept for the practice's retention period and then purged with the account
-- (this row goes with it; the audit trail keeps the request and the purge).
CREATE TABLE deletion_requests (
    client_id UUID PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    requested_at TIMESTAMPTZ NOT NULL,
    purge_after TIMESTAMPTZ NOT NULL
);

-- Jobs about one client name them, so erasing the client erases their queued work too.
ALTER TABLE jobs ADD COLUMN subject_id UUID;
CREATE INDEX jobs_subject ON jobs (subject_id);
