-- Orders ship to an address, which an approved `update_shipping_address` changes: the
-- address on file (NULL when the shop has none), and one row per change with what it
-- replaced, so the change is audited and one draft changes one order at most once.
ALTER TABLE orders ADD COLUMN ship_to text;

CREATE TABLE address_changes (
    change_id   bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (customer_id),
    order_id    bigint NOT NULL REFERENCES orders (order_id),
    old_address text,
    new_address text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    draft_id    uuid,
    UNIQUE (draft_id, order_id)
);
CREATE INDEX address_changes_customer_idx ON address_changes (customer_id);
CREATE INDEX address_changes_order_idx ON address_changes (order_id);

GRANT SELECT ON address_changes TO deskhand_scoped;
ALTER TABLE address_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY customer_scope ON address_changes USING (customer_id =
    nullif(current_setting('deskhand.customer_id', true), '')::bigint);
