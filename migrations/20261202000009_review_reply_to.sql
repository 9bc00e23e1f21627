-- The address an approval replies to, parsed once when the draft enters the review queue
-- (deskhand_core::EmailAddress::from_mailbox), not at approval time. NULL: the draft has
-- no email, or its sender names no single address; approving it is refused.
ALTER TABLE reviews ADD COLUMN reply_to text;

-- Drafts queued before: the same rule in SQL (the address between the last `<` and the
-- last `>` when there are both, else the whole field; one `@`-bearing token without
-- spaces, control characters or commas).
UPDATE reviews r SET reply_to = parsed.address
FROM (
    SELECT draft_id,
           trim(coalesce(substring(draft->'email'->>'from' FROM '<([^<]*)>[^>]*$'),
                         draft->'email'->>'from')) AS address
    FROM reviews
) parsed
WHERE parsed.draft_id = r.draft_id
  AND parsed.address LIKE '%@%'
  AND parsed.address !~ '[[:space:][:cntrl:],]';
