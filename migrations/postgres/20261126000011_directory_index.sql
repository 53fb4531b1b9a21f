-- The directory's in-memory search index (PostgreSQL). Twin:
-- migrations/sqlite/20261126000011_directory_index.sql.
--
-- Each Tend instance now searches the directory in memory (src/directory/index.rs) and keeps
-- its index current by asking for rows whose `version` is newer than the last it applied.
-- The database stamps `version` itself, from one counter, on every insert and update, so no
-- writer can forget to. The counter's row stays locked until the writing transaction ends,
-- so a later version is only handed out once every earlier one has committed (or rolled
-- back): an instance that has seen version n can never later find a row below n appear.
--
-- The stored tsvector and its GIN index, which the SQL search used, are dropped: nothing
-- reads them any more, and keeping them would cost every profile write.

DROP INDEX directory_profiles_search;
ALTER TABLE directory_profiles DROP COLUMN search;

CREATE TABLE directory_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO directory_version (id, n) VALUES (1, 1);

ALTER TABLE directory_profiles ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE INDEX directory_profiles_version ON directory_profiles (version);

CREATE FUNCTION directory_profiles_stamp() RETURNS trigger AS $$
BEGIN
    UPDATE directory_version SET n = n + 1 WHERE id = 1 RETURNING n INTO NEW.version;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER directory_profiles_stamp BEFORE INSERT OR UPDATE ON directory_profiles
FOR EACH ROW EXECUTE FUNCTION directory_profiles_stamp();
