-- A message the broker refuses for good (too large, not allowed) is parked after a few
-- strikes instead of being retried forever, and a case's later messages wait behind a
-- failing one, so the approval topic never sees a case's drafts out of order.
ALTER TABLE outbox
    ADD COLUMN strikes   integer NOT NULL DEFAULT 0,
    ADD COLUMN parked_at timestamptz;

-- Pending messages that failed before: normally none. The claim looks up each pending
-- message's key here to hold its case behind a failing message.
CREATE INDEX outbox_failing_idx ON outbox (topic, message_key, id)
    WHERE published_at IS NULL AND attempts > 0;
