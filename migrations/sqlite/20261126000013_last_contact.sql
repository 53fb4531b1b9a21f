-- Each care relationship's latest contact (SQLite). Twin:
-- migrations/postgres/20261126000013_last_contact.sql.
--
-- The latest message either way or attended session, kept by insert_message and
-- set_appointment_status in the same transaction as the contact. The caseload's last contact,
-- the practice report's out-of-touch count and its retention curve read this one column
-- instead of every message and session (the retention read took 35 ms at 10,000 clients).

ALTER TABLE care_relationships ADD COLUMN last_contact_at TEXT;
UPDATE care_relationships SET last_contact_at = (
    SELECT MAX(m.created_at) FROM conversations v JOIN messages m ON m.conversation_id = v.id
    WHERE v.kind = 'care' AND v.staff_id = care_relationships.therapist_id
      AND v.member_id = care_relationships.client_id
);
UPDATE care_relationships SET last_contact_at = (
    SELECT MAX(a.starts_at) FROM appointments a
    WHERE a.status = 'attended' AND a.therapist_id = care_relationships.therapist_id
      AND a.client_id = care_relationships.client_id
)
WHERE EXISTS (
    SELECT 1 FROM appointments a
    WHERE a.status = 'attended' AND a.therapist_id = care_relationships.therapist_id
      AND a.client_id = care_relationships.client_id
      AND (care_relationships.last_contact_at IS NULL OR a.starts_at > care_relationships.last_contact_at)
);
