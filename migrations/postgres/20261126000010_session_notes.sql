-- Session notes (PostgreSQL). Twin: migrations/sqlite/20261126000010_session_notes.sql.
--
-- A note is written in one of four templates and sealed as one JSON document of its sections.
-- It is a draft until the therapist signs it; from then on its content is locked (a trigger
-- refuses any change to what was written, whatever code asks) and corrections are dated
-- addenda, which never change either. `shared` (whether the client can read it) and the
-- appointment link (cleared if the appointment is deleted) may change after signing. Rows
-- can still be deleted: erasing a client's record after its retention period must work.
CREATE TABLE session_notes (
    id UUID PRIMARY KEY NOT NULL,
    client_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id UUID NOT NULL REFERENCES users (id),
    appointment_id UUID REFERENCES appointments (id) ON DELETE SET NULL,
    template TEXT NOT NULL,
    session_date TEXT NOT NULL,
    body_sealed BYTEA NOT NULL,
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    signed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_notes_client ON session_notes (client_id, session_date);

CREATE FUNCTION session_notes_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a signed session note cannot change';
END;
$$;
CREATE TRIGGER session_notes_locked
BEFORE UPDATE OF client_id, author_id, template, session_date, body_sealed, signed_at
ON session_notes FOR EACH ROW WHEN (OLD.signed_at IS NOT NULL)
EXECUTE FUNCTION session_notes_locked();

-- Dated additions to a signed note, sealed like the note.
CREATE TABLE session_note_addenda (
    id UUID PRIMARY KEY NOT NULL,
    note_id UUID NOT NULL REFERENCES session_notes (id) ON DELETE CASCADE,
    author_id UUID NOT NULL REFERENCES users (id),
    body_sealed BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_note_addenda_note ON session_note_addenda (note_id, created_at);

CREATE FUNCTION session_note_addenda_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an addendum cannot change';
END;
$$;
CREATE TRIGGER session_note_addenda_locked BEFORE UPDATE ON session_note_addenda
FOR EACH ROW EXECUTE FUNCTION session_note_addenda_locked();
