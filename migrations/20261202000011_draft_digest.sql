-- The SHA-256 of each draft event exactly as the worker published it. The review service
-- queues a draft from the approval topic only when the bytes it received hash to this:
-- the topic is not a source of truth, and a JSON comparison would not do (a number's
-- digits are not kept exactly through jsonb).
ALTER TABLE drafts ADD COLUMN event_sha256 bytea;
