-- Orders can be cancelled (the `cancel_order` action, run only on a reviewer's approval):
-- the order's status, and one cancellation row per order, which is what makes a second
-- approval of the same cancellation refuse instead of refunding twice.
ALTER TABLE orders
    ADD COLUMN status text NOT NULL DEFAULT 'placed' CHECK (status IN ('placed', 'cancelled'));

CREATE TABLE order_cancellations (
    cancellation_id bigserial PRIMARY KEY,
    customer_id     bigint NOT NULL REFERENCES customers (customer_id),
    order_id        bigint NOT NULL UNIQUE REFERENCES orders (order_id),
    -- What the cancellation refunds: the order's total as paid.
    amount_cents    bigint NOT NULL CHECK (amount_cents >= 0),
    reason          text NOT NULL,
    cancelled_at    timestamptz NOT NULL DEFAULT now(),
    draft_id        uuid
);
CREATE INDEX order_cancellations_customer_idx ON order_cancellations (customer_id);

GRANT SELECT ON order_cancellations TO deskhand_scoped;
ALTER TABLE order_cancellations ENABLE ROW LEVEL SECURITY;
CREATE POLICY customer_scope ON order_cancellations USING (customer_id =
    nullif(current_setting('deskhand.customer_id', true), '')::bigint);
