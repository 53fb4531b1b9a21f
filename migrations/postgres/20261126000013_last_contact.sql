-- Each care relationship's latest contact (PostgreSQL). Twin:
-- migrations/sqlite/20261126000013_last_contact.sql.
--
-- The latest message either way or attended session, kept by insert_message and
-- set_appointment_status in the same transaction as the contact. The caseload's last contact,
-- the practice report's out-of-touch count and its retention curve read this one column
-- instead of every message and session (the retention read took 35 ms at 10,000 clients).

ALTER TABLE care_relationships ADD COLUMN last_contact_at TIMESTAMPTZ;
UPDATE care_relationships c SET last_contact_at = GREATEST(
    (SELECT MAX(m.created_at) FROM conversations v JOIN messages m ON m.conversation_id = v.id
     WHERE v.kind = 'care' AND v.staff_id = c.therapist_id AND v.member_id = c.client_id),
    (SELECT MAX(a.starts_at) FROM appointments a
     WHERE a.status = 'attended' AND a.therapist_id = c.therapist_id AND a.client_id = c.client_id)
);
