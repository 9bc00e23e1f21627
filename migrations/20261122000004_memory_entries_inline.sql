-- A case's memory entries move into its memory row, as a JSON array in order. They are
-- few (bounded by the memory settings), always read and written together, and as rows of
-- their own each email rewrote them all: a delete, an insert, an index entry and a
-- foreign-key check per entry, a third of the database's work for an email.
ALTER TABLE case_memory ADD COLUMN entries jsonb NOT NULL DEFAULT '[]';

UPDATE case_memory m SET entries = COALESCE(
    (SELECT jsonb_agg(jsonb_build_object('role', e.role, 'summary', e.summary, 'topic', e.topic)
                      ORDER BY e.entry_id)
     FROM case_memory_entries e
     WHERE e.case_id = m.case_id AND e.customer_id = m.customer_id),
    '[]');

ALTER TABLE case_memory ADD CONSTRAINT case_memory_entries_are_a_list
    CHECK (jsonb_typeof(entries) = 'array');

DROP TABLE case_memory_entries;
