-- The `traceparent` the draft message carried, so a reviewer's decision is a child of the
-- span that made the draft (before this, it joined the trace under a made-up parent).
ALTER TABLE reviews ADD COLUMN trace_parent text;
