-- Returns (the `start_return` action, run only on a reviewer's approval): one per order,
-- with the code the customer writes on the parcel and the last day of its return window.
CREATE TABLE returns (
    return_id   bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (customer_id),
    order_id    bigint NOT NULL UNIQUE REFERENCES orders (order_id),
    code        text NOT NULL UNIQUE,
    last_day    date NOT NULL,
    reason      text NOT NULL,
    opened_at   timestamptz NOT NULL DEFAULT now(),
    draft_id    uuid
);
CREATE INDEX returns_customer_idx ON returns (customer_id);

GRANT SELECT ON returns TO deskhand_scoped;
ALTER TABLE returns ENABLE ROW LEVEL SECURITY;
CREATE POLICY customer_scope ON returns USING (customer_id =
    nullif(current_setting('deskhand.customer_id', true), '')::bigint);
