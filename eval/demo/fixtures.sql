-- Demo customers 9001-9008 and their deliveries, dated relative to today. Re-runnable.
DELETE FROM returns WHERE customer_id BETWEEN 9001 AND 9008;
DELETE FROM address_changes WHERE customer_id BETWEEN 9001 AND 9008;
DELETE FROM order_cancellations WHERE customer_id BETWEEN 9001 AND 9008;
DELETE FROM coupons WHERE customer_id BETWEEN 9001 AND 9008;
DELETE FROM refunds WHERE customer_id BETWEEN 9001 AND 9008;
DELETE FROM deliveries WHERE customer_id BETWEEN 9001 AND 9008;
DELETE FROM orders WHERE customer_id BETWEEN 9001 AND 9008;
DELETE FROM customers WHERE customer_id BETWEEN 9001 AND 9008;

INSERT INTO customers (customer_id, name, email) VALUES
    (9001, 'Dana Ruiz', 'dana@example.com'),
    (9002, 'Priya Natarajan', 'priya@example.com'),
    (9003, 'René Müller', 'rene@example.de'),
    (9004, 'Sam Okafor', 'sam@example.com'),
    (9005, 'Lee Park', 'lee@example.com'),
    (9006, 'Mia Hoffmann', 'mia@example.com'),
    (9007, 'Tomás Silva', 'tomas@example.com'),
    (9008, 'Noor Haddad', 'noor@example.com');

INSERT INTO orders (order_number, customer_id, placed_on, total_cents) VALUES
    ('DEMO-900101', 9001, CURRENT_DATE - 14, 13800),
    ('DEMO-900102', 9001, CURRENT_DATE - 40, 15300),
    ('DEMO-900301', 9003, CURRENT_DATE - 10, 14800),
    ('DEMO-900401', 9004, CURRENT_DATE - 20, 12600),
    ('900601', 9006, CURRENT_DATE - 1, 14500),
    ('900801', 9008, CURRENT_DATE - 10, 14000);

-- Tomás moved after ordering: his order still ships to the old flat.
INSERT INTO orders (order_number, customer_id, placed_on, total_cents, ship_to) VALUES
    ('900701', 9007, CURRENT_DATE, 11900, E'Tomás Silva\n12 Elm Street\nLeeds LS1 4AB\nUnited Kingdom');

-- Dana: one parcel 6 days late and still travelling, another delivered 3 days late last
-- month: a capped fee refund and a coupon.
INSERT INTO deliveries (order_id, customer_id, carrier, tracking_number, status, expected_start,
                        expected_end, delivered_on, fee_cents)
SELECT order_id, 9001, 'UPS', '1Z999AA10123456784', 'in_transit', CURRENT_DATE - 8, CURRENT_DATE - 6, NULL, 800
FROM orders WHERE order_number = 'DEMO-900101'
UNION ALL
SELECT order_id, 9001, 'FedEx', '771234567890', 'delivered', CURRENT_DATE - 32, CURRENT_DATE - 30, CURRENT_DATE - 27, 599
FROM orders WHERE order_number = 'DEMO-900102'
UNION ALL
-- René's own parcel; the number he quotes is Dana's, and he must not learn that.
SELECT order_id, 9003, 'DHL', '4512345678', 'in_transit', CURRENT_DATE - 1, CURRENT_DATE + 2, NULL, 999
FROM orders WHERE order_number = 'DEMO-900301'
UNION ALL
SELECT order_id, 9004, 'USPS', '9400111899223456789012', 'delivered', CURRENT_DATE - 16, CURRENT_DATE - 14, CURRENT_DATE - 15, 499
FROM orders WHERE order_number = 'DEMO-900401'
UNION ALL
-- Mia's order from yesterday is still being packed: it can be cancelled.
SELECT order_id, 9006, 'UPS', '1Z999AA10123456606', 'processing', CURRENT_DATE + 2, CURRENT_DATE + 4, NULL, 800
FROM orders WHERE order_number = '900601'
UNION ALL
-- Tomás's parcel has not left either: it can still go to his new address.
SELECT order_id, 9007, 'DPD', '15501234567890', 'processing', CURRENT_DATE + 2, CURRENT_DATE + 5, NULL, 650
FROM orders WHERE order_number = '900701'
UNION ALL
-- Noor's shoes arrived six days ago: inside the 30-day return window.
SELECT order_id, 9008, 'UPS', '1Z999AA10123456808', 'delivered', CURRENT_DATE - 7, CURRENT_DATE - 5, CURRENT_DATE - 6, 800
FROM orders WHERE order_number = '900801';
