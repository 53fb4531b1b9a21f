-- Practice outcomes index (PostgreSQL). Twin: migrations/sqlite/20261126000012_practice_outcomes.sql.
-- Practice outcomes read every client's summary, grouped by questionnaire and status. This
-- index holds all they need (so each count walks it in order, never the table): at 10,000
-- clients the practice-wide count took 6.8 ms and the per-therapist one 29 ms without it
-- (examples/measures_bench.rs with PROBE=1).
CREATE INDEX measure_summaries_outcomes ON measure_summaries (instrument, status, administrations, client_id);
