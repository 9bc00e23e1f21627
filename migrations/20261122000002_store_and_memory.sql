-- The shop's business data (an athletic-footwear store), the case memory, and the second
-- wall around customer data: row-level security keyed on `deskhand.customer_id`.

CREATE TABLE customers (
    customer_id bigint PRIMARY KEY,
    name        text NOT NULL,
    email       text NOT NULL
);

CREATE TABLE products (
    product_id  bigserial PRIMARY KEY,
    sku         text NOT NULL UNIQUE,
    name        text NOT NULL,
    brand       text NOT NULL,
    model       text NOT NULL,
    size        numeric(4, 1) NOT NULL,
    width       text NOT NULL,
    color       text NOT NULL,
    material    text NOT NULL,
    price_cents bigint NOT NULL CHECK (price_cents >= 0),
    description text NOT NULL DEFAULT ''
);
CREATE INDEX products_brand_idx ON products (lower(brand), size);
CREATE INDEX products_model_idx ON products (lower(model), size);

CREATE TABLE inventory (
    product_id bigint PRIMARY KEY REFERENCES products (product_id),
    quantity   integer NOT NULL CHECK (quantity >= 0)
);

-- Stock coming to the shop from suppliers.
CREATE TABLE stock_deliveries (
    stock_delivery_id bigserial PRIMARY KEY,
    product_id        bigint NOT NULL REFERENCES products (product_id),
    quantity          integer NOT NULL CHECK (quantity > 0),
    expected_date     date NOT NULL,
    status            text NOT NULL CHECK (status IN ('pending', 'received', 'cancelled'))
);
CREATE INDEX stock_deliveries_pending_idx ON stock_deliveries (product_id, expected_date)
    WHERE status = 'pending';

CREATE TABLE orders (
    order_id     bigserial PRIMARY KEY,
    order_number text NOT NULL UNIQUE,
    customer_id  bigint NOT NULL REFERENCES customers (customer_id),
    placed_on    date NOT NULL,
    total_cents  bigint NOT NULL CHECK (total_cents >= 0)
);
CREATE INDEX orders_customer_idx ON orders (customer_id, placed_on);

-- Deliveries from the shop to its customers.
CREATE TABLE deliveries (
    delivery_id     bigserial PRIMARY KEY,
    order_id        bigint NOT NULL REFERENCES orders (order_id),
    customer_id     bigint NOT NULL REFERENCES customers (customer_id),
    product_id      bigint REFERENCES products (product_id),
    carrier         text NOT NULL,
    tracking_number text NOT NULL,
    status          text NOT NULL CHECK (status IN ('processing', 'in_transit', 'out_for_delivery',
                                                    'delivered', 'exception', 'cancelled')),
    expected_start  date NOT NULL,
    expected_end    date NOT NULL,
    delivered_on    date,
    fee_cents       bigint NOT NULL CHECK (fee_cents >= 0),
    CHECK (expected_start <= expected_end)
);
CREATE INDEX deliveries_customer_tracking_idx ON deliveries (customer_id, tracking_number);
CREATE INDEX deliveries_customer_expected_idx ON deliveries (customer_id, expected_end);
CREATE INDEX deliveries_order_idx ON deliveries (order_id);

CREATE TABLE refunds (
    refund_id    bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers (customer_id),
    delivery_id  bigint NOT NULL REFERENCES deliveries (delivery_id),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    reason       text NOT NULL,
    credited_at  timestamptz NOT NULL DEFAULT now(),
    draft_id     uuid
);
CREATE INDEX refunds_customer_delivery_idx ON refunds (customer_id, delivery_id);

CREATE TABLE coupons (
    coupon_id   bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (customer_id),
    delivery_id bigint NOT NULL REFERENCES deliveries (delivery_id),
    code        text NOT NULL UNIQUE,
    kind        text NOT NULL DEFAULT 'free_expedited_shipping',
    issued_on   date NOT NULL,
    expires_on  date NOT NULL,
    draft_id    uuid
);
CREATE INDEX coupons_customer_delivery_idx ON coupons (customer_id, delivery_id);

-- Case memory: short summaries, never whole threads, so prompts stay small.
CREATE TABLE case_memory (
    case_id         text NOT NULL,
    customer_id     bigint NOT NULL,
    -- Older entries folded into one bounded paragraph.
    rolling_summary text NOT NULL DEFAULT '',
    customer_emails integer NOT NULL DEFAULT 0,
    -- How often the customer asked about each topic in this case ("fourth time asking").
    request_counts  jsonb NOT NULL DEFAULT '{}'::jsonb,
    version         bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Keyed by customer too: a case id reused by the CRM never crosses customers.
    PRIMARY KEY (case_id, customer_id)
);
CREATE TABLE case_memory_entries (
    entry_id    bigserial PRIMARY KEY,
    case_id     text NOT NULL,
    customer_id bigint NOT NULL,
    role        text NOT NULL CHECK (role IN ('customer', 'agent')),
    summary     text NOT NULL,
    topic       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (case_id, customer_id) REFERENCES case_memory (case_id, customer_id)
);
CREATE INDEX case_memory_entries_case_idx ON case_memory_entries (case_id, customer_id, entry_id);

-- Roles are cluster-wide; create them once, tolerating a concurrent creator.
DO $$ BEGIN
    CREATE ROLE deskhand_scoped NOLOGIN NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
    CREATE ROLE deskhand_worker LOGIN NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
GRANT deskhand_scoped TO deskhand_worker;

GRANT SELECT ON customers, orders, deliveries, refunds, coupons, case_memory, case_memory_entries,
    products, inventory, stock_deliveries TO deskhand_scoped;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO deskhand_worker;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO deskhand_worker;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO deskhand_worker;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO deskhand_worker;

-- Each customer table shows only the rows of the customer named in the transaction's
-- `deskhand.customer_id` setting; without it, nothing.
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['customers', 'orders', 'deliveries', 'refunds', 'coupons',
                             'case_memory', 'case_memory_entries'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY customer_scope ON %I USING (customer_id = '
            'nullif(current_setting(''deskhand.customer_id'', true), '''')::bigint)', t);
    END LOOP;
END $$;
