-- Session notes (SQLite). Twin: migrations/postgres/20261126000010_session_notes.sql.
--
-- A note is written in one of four templates and sealed as one JSON document of its sections.
-- It is a draft until the therapist signs it; from then on its content is locked (a trigger
-- refuses any change to what was written, whatever code asks) and corrections are dated
-- addenda, which never change either. `shared` (whether the client can read it) and the
-- appointment link (cleared if the appointment is deleted) may change after signing. Rows
-- can still be deleted: erasing a client's record after its retention period must work.
CREATE TABLE session_notes (
    id BLOB PRIMARY KEY NOT NULL,
    client_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    author_id BLOB NOT NULL REFERENCES users (id),
    appointment_id BLOB REFERENCES appointments (id) ON DELETE SET NULL,
    template TEXT NOT NULL,
    session_date TEXT NOT NULL,
    body_sealed BLOB NOT NULL,
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    signed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX session_notes_client ON session_notes (client_id, session_date);

CREATE TRIGGER session_notes_locked
BEFORE UPDATE OF client_id, author_id, template, session_date, body_sealed, signed_at
ON session_notes WHEN old.signed_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a signed session note cannot change');
END;
-- Dated additions to a signed note, sealed like the note.
CREATE TABLE session_note_addenda (
    id BLOB PRIMARY KEY NOT NULL,
    note_id BLOB NOT NULL REFERENCES session_notes (id) ON DELETE CASCADE,
    author_id BLOB NOT NULL REFERENCES users (id),
    body_sealed BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX session_note_addenda_note ON session_note_addenda (note_id, created_at);

CREATE TRIGGER session_note_addenda_locked BEFORE UPDATE ON session_note_addenda
BEGIN
    SELECT RAISE(ABORT, 'an addendum cannot change');
END;
