-- Directory filters inside the full-text index (PostgreSQL). Twin:
-- migrations/sqlite/20261126000009_directory_facets.sql.
--
-- Each profile's tags also live in `facets` as one word per tag (`concern:trauma` becomes
-- `tagconcerntrauma`), added to the stored tsvector at weight D with the 'simple'
-- configuration (no stemming). A search with text and filters is then one GIN lookup that
-- intersects the words' and the filters' posting lists, instead of ranking every profile
-- that mentions the words and probing its tags afterwards. directory_tags stays the source
-- of truth for reading tags; save_profile writes both in one transaction.

ALTER TABLE directory_profiles ADD COLUMN facets TEXT NOT NULL DEFAULT '';
-- The same words `vocab::facet_words` makes: slugs are lower-case letters, digits and hyphens.
UPDATE directory_profiles p SET facets = COALESCE((
    SELECT string_agg('tag' || replace(replace(t.tag, ':', ''), '-', ''), ' ' ORDER BY t.tag)
    FROM directory_tags t WHERE t.user_id = p.user_id
), '');

DROP INDEX directory_profiles_search;
ALTER TABLE directory_profiles DROP COLUMN search;
ALTER TABLE directory_profiles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', display_name), 'A')
    || setweight(to_tsvector('english', approach), 'B')
    || setweight(to_tsvector('english', bio), 'C')
    || setweight(to_tsvector('simple', facets), 'D')
) STORED;
CREATE INDEX directory_profiles_search ON directory_profiles USING GIN (search);

-- Browsing without words lists by name: walk this index instead of sorting every profile.
CREATE INDEX directory_profiles_name ON directory_profiles (display_name, user_id);
