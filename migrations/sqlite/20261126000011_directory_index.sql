-- The directory's in-memory search index (SQLite). Twin:
-- migrations/postgres/20261126000011_directory_index.sql.
--
-- Each Tend process now searches the directory in memory (src/directory/index.rs) and keeps
-- its index current by asking for rows whose `version` is newer than the last it applied.
-- The database stamps `version` itself, from one counter, on every insert and update, so no
-- writer can forget to (admin hiding, photos and tools included). SQLite has one writer at a
-- time, so versions become visible in order.
--
-- The FTS5 table the SQL search used is dropped: nothing reads it any more, and keeping it
-- would cost every profile write.

DROP TRIGGER directory_fts_insert;
DROP TRIGGER directory_fts_delete;
DROP TRIGGER directory_fts_update;
DROP TABLE directory_fts;

CREATE TABLE directory_version (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO directory_version (id, n) VALUES (1, 1);

ALTER TABLE directory_profiles ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
UPDATE directory_profiles SET version = 1;
CREATE INDEX directory_profiles_version ON directory_profiles (version);

CREATE TRIGGER directory_profiles_version_insert AFTER INSERT ON directory_profiles BEGIN
    UPDATE directory_version SET n = n + 1 WHERE id = 1;
    UPDATE directory_profiles SET version = (SELECT n FROM directory_version WHERE id = 1)
    WHERE rowid = NEW.rowid;
END;
-- The WHEN clause keeps the trigger's own stamping from firing it again.
CREATE TRIGGER directory_profiles_version_update AFTER UPDATE ON directory_profiles
WHEN NEW.version = OLD.version BEGIN
    UPDATE directory_version SET n = n + 1 WHERE id = 1;
    UPDATE directory_profiles SET version = (SELECT n FROM directory_version WHERE id = 1)
    WHERE rowid = NEW.rowid;
END;
