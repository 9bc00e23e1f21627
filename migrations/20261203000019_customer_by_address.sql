-- Webhooks (Postmark's inbound email) name a sender, not a customer: the customer is the one
-- whose address on file it is. Row-level security hides every customer's row from the
-- worker role outside a customer's scope, so the lookup is a function that runs as its
-- owner and returns nothing but ids (at most two: one is an answer, two are ambiguous).
CREATE FUNCTION deskhand_customers_with_address(address text) RETURNS SETOF bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT customer_id FROM customers
          WHERE lower(email) = lower(trim(address)) ORDER BY customer_id LIMIT 2 $$;
REVOKE ALL ON FUNCTION deskhand_customers_with_address(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION deskhand_customers_with_address(text) TO deskhand_worker;
