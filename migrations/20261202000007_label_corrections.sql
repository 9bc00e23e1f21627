-- Reviewers correct the agent's topic and urgency while deciding a draft; the corrections
-- are kept with the decision and become training data (`deskhand train --from-decisions`).
ALTER TABLE decisions
    ADD COLUMN corrected_topic text CHECK (corrected_topic IN (
        'product_availability_or_recommendation', 'delivery_delay', 'transaction_inquiry',
        'billing_dispute', 'other')),
    ADD COLUMN corrected_urgency text CHECK (corrected_urgency IN ('low', 'medium', 'high', 'urgent'));
CREATE INDEX decisions_decided_at_idx ON decisions (decided_at);
