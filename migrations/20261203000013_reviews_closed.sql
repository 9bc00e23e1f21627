-- Emails that need no reply (thanks, auto-replies, spam) are closed on arrival: out of
-- the pending queue and the SLA, listed under 'closed', and a reviewer may reopen one.
ALTER TABLE reviews DROP CONSTRAINT reviews_status_check;
ALTER TABLE reviews ADD CONSTRAINT reviews_status_check
    CHECK (status IN ('pending', 'escalated', 'approved', 'rejected', 'stale', 'closed'));
