-- The address an approval replies to, parsed once when a draft enters the review queue
-- (deskhand_core::EmailAddress::from_mailbox), not at approval time. NULL: the draft has
-- no email, or its sender names no single address; approving it is refused.
ALTER TABLE reviews ADD COLUMN reply_to text;

-- Drafts queued before: the same rule in SQL. The address lies between the last `<` and
-- the last `>` when the `<` comes first, else it is the whole field; trimmed, it must hold
-- an `@` and no whitespace, control character or comma.
UPDATE reviews r SET reply_to = parsed.address
FROM (
    SELECT draft_id,
           regexp_replace(
               CASE WHEN lt IS NOT NULL AND gt IS NOT NULL AND lt < gt
                    THEN substr(sender, lt + 1, gt - lt - 1)
                    ELSE sender END,
               '^\s+|\s+$', '', 'g') AS address
    FROM (
        SELECT draft_id, sender,
               CASE WHEN strpos(reverse(sender), '<') > 0
                    THEN length(sender) - strpos(reverse(sender), '<') + 1 END AS lt,
               CASE WHEN strpos(reverse(sender), '>') > 0
                    THEN length(sender) - strpos(reverse(sender), '>') + 1 END AS gt
        FROM (SELECT draft_id, draft->'email'->>'from' AS sender FROM reviews) senders
        WHERE sender IS NOT NULL
    ) positions
) parsed
WHERE parsed.draft_id = r.draft_id
  AND parsed.address LIKE '%@%'
  AND parsed.address !~ '[\s[:cntrl:],]';
