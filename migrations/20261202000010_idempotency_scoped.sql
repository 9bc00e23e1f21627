-- An Idempotency-Key belongs to the reviewer who sent it and to the request it came with.
-- Another reviewer's key is theirs alone (it neither collides with nor replays to anyone
-- else), and the same key sent again with a different request is refused, not replayed.
-- Rows decided before this migration have no hash: their keys replay as they always did.
ALTER TABLE decisions ADD COLUMN request_hash text;
ALTER TABLE decisions DROP CONSTRAINT IF EXISTS decisions_idempotency_key_key;
CREATE UNIQUE INDEX decisions_reviewer_idempotency_key
    ON decisions (reviewer_id, idempotency_key);
