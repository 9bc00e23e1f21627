//! `deskhand seed`: a deterministic synthetic shop of any size, loaded with COPY.
//!
//! The same `(customers, seed, today)` always produces the same rows, so datasets and
//! benchmarks are reproducible. Dates are placed around `today`: most deliveries are long
//! done, some are due, some are late (in transit or delivered late), a few cancelled.

use crate::{Result, Store};
use std::fmt::Write as _;
use time::{Date, Duration};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedSpec {
    pub customers: i64,
    pub deliveries_per_customer: i64,
    pub seed: u64,
    pub today: Date,
}

/// How much was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub products: i64,
    pub customers: i64,
    pub deliveries: i64,
}

/// splitmix64: tiny, fast, and identical on every platform.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// (brand, model, price in cents, description, materials, colours)
type Model = (
    &'static str,
    &'static str,
    i64,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const MODELS: &[Model] = &[
    (
        "Nike",
        "Pegasus 41",
        13000,
        "Neutral road running shoe for daily training.",
        &["Mesh"],
        &["Black", "White", "Blue"],
    ),
    (
        "Nike",
        "Vomero 18",
        16000,
        "Max-cushion road running shoe for long runs.",
        &["Mesh"],
        &["Grey", "Black"],
    ),
    (
        "Nike",
        "Invincible 3",
        18000,
        "Soft, bouncy road running shoe for recovery runs.",
        &["Knit"],
        &["White", "Pink"],
    ),
    (
        "Adidas",
        "Ultraboost Light",
        19000,
        "Responsive running shoe for road running and everyday wear.",
        &["Knit"],
        &["Black", "White"],
    ),
    (
        "Adidas",
        "Adizero SL",
        12000,
        "Lightweight racing and tempo running shoe.",
        &["Mesh"],
        &["Red", "Black"],
    ),
    (
        "Adidas",
        "Samba OG",
        10000,
        "Classic casual shoe.",
        &["Leather", "Suede"],
        &["White", "Black"],
    ),
    (
        "Brooks",
        "Ghost 16",
        14000,
        "Smooth neutral running shoe for road and treadmill.",
        &["Mesh"],
        &["Black", "Navy"],
    ),
    (
        "Brooks",
        "Adrenaline GTS 24",
        14000,
        "Supportive stability running shoe.",
        &["Mesh"],
        &["Grey", "Blue"],
    ),
    (
        "Brooks",
        "Cascadia 18",
        14000,
        "Trail running shoe with a rock plate.",
        &["Mesh"],
        &["Green", "Black"],
    ),
    (
        "Hoka",
        "Clifton 9",
        14500,
        "Lightweight cushioned road running and walking shoe.",
        &["Mesh"],
        &["Black", "White", "Blue"],
    ),
    (
        "Hoka",
        "Bondi 8",
        16500,
        "Max-cushion shoe for walking and recovery runs.",
        &["Mesh"],
        &["Black", "White"],
    ),
    (
        "Hoka",
        "Speedgoat 6",
        15500,
        "Trail running shoe with aggressive grip for hiking and trail.",
        &["Mesh"],
        &["Orange", "Black"],
    ),
    (
        "Asics",
        "Gel-Kayano 31",
        16000,
        "Stability running shoe for overpronation.",
        &["Mesh"],
        &["Black", "Blue"],
    ),
    (
        "Asics",
        "Gel-Nimbus 26",
        16000,
        "Cushioned neutral running shoe for long runs.",
        &["Knit"],
        &["White", "Grey"],
    ),
    (
        "Asics",
        "Gel-Resolution 9",
        15000,
        "Tennis shoe for hard courts.",
        &["Leather"],
        &["White"],
    ),
    (
        "New Balance",
        "Fresh Foam 1080v14",
        16500,
        "Plush neutral running shoe.",
        &["Knit"],
        &["Grey", "Black"],
    ),
    (
        "New Balance",
        "FuelCell Rebel v4",
        14000,
        "Light, fast training and tempo shoe.",
        &["Mesh"],
        &["Yellow", "White"],
    ),
    (
        "Saucony",
        "Endorphin Speed 4",
        17000,
        "Plated racing shoe for marathon training.",
        &["Mesh"],
        &["White", "Green"],
    ),
    (
        "Saucony",
        "Ride 17",
        14000,
        "Versatile daily running shoe.",
        &["Mesh"],
        &["Black", "Blue"],
    ),
    (
        "Merrell",
        "Moab 3",
        12000,
        "Waterproof hiking shoe.",
        &["Leather", "Suede"],
        &["Brown", "Black"],
    ),
];

const SIZES: &[&str] = &[
    "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "11.5", "12", "13",
];
const WIDTHS: &[&str] = &["D", "2E"];
const FIRST: &[&str] = &[
    "Dana", "Priya", "Sam", "Lee", "René", "Aisha", "Tom", "Maria", "Kenji", "Olga", "Luis",
    "Fatima", "Noah", "Emma", "Ravi", "Chloe",
];
const LAST: &[&str] = &[
    "Ruiz",
    "Natarajan",
    "Okafor",
    "Park",
    "Müller",
    "Khan",
    "Smith",
    "Garcia",
    "Tanaka",
    "Ivanova",
    "Silva",
    "Haddad",
    "Brown",
    "Martin",
    "Patel",
    "Dubois",
];
const FEES: &[i64] = &[499, 599, 799, 999, 1299];

/// A tracking number in the carrier's format, unique per delivery id.
fn tracking_number(carrier: &str, delivery_id: i64, rng: &mut Rng) -> String {
    match carrier {
        "UPS" => format!(
            "1Z{:06X}{:02}{:08}",
            rng.below(0xFF_FFFF),
            rng.below(100),
            delivery_id % 100_000_000
        ),
        "FedEx" => format!(
            "{:04}{:08}",
            7000 + rng.below(3000),
            delivery_id % 100_000_000
        ),
        "USPS" => format!(
            "9400{:010}{:08}",
            rng.below(10_000_000_000),
            delivery_id % 100_000_000
        ),
        _ => format!("{:02}{:08}", 10 + rng.below(90), delivery_id % 100_000_000),
    }
}

impl Store {
    /// Replaces the shop's business data with a generated one. Emails, drafts and the
    /// outbox are left alone.
    pub async fn seed(&self, spec: &SeedSpec) -> Result<SeedReport> {
        let mut conn = self.pool().acquire().await?;
        sqlx::query(
            "TRUNCATE coupons, refunds, deliveries, orders, customers, stock_deliveries, inventory, products
             RESTART IDENTITY CASCADE",
        )
        .execute(&mut *conn)
        .await?;
        let mut rng = Rng(spec.seed);

        // Catalog, inventory and incoming stock.
        let (mut products, mut inventory, mut incoming) =
            (String::new(), String::new(), String::new());
        let mut product_id = 0i64;
        for (brand, model, price, description, materials, colors) in MODELS {
            for material in *materials {
                for color in *colors {
                    for width in WIDTHS {
                        for size in SIZES {
                            product_id += 1;
                            let sku = format!(
                                "{}-{}-{}-{}-{}-{}",
                                brand, model, material, color, width, size
                            )
                            .to_uppercase()
                            .replace(' ', "");
                            let name = model.to_string();
                            writeln!(products, "{product_id}\t{sku}\t{name}\t{brand}\t{model}\t{size}\t{width}\t{color}\t{material}\t{price}\t{description}").ok();
                            let quantity = if rng.chance(30) { 0 } else { rng.range(1, 25) };
                            writeln!(inventory, "{product_id}\t{quantity}").ok();
                            if quantity == 0 && rng.chance(60) {
                                let date = spec.today + Duration::days(rng.range(3, 45));
                                writeln!(
                                    incoming,
                                    "{product_id}\t{}\t{date}\tpending",
                                    rng.range(6, 40)
                                )
                                .ok();
                            }
                        }
                    }
                }
            }
        }
        copy(&mut conn, "products (product_id, sku, name, brand, model, size, width, color, material, price_cents, description)", products).await?;
        copy(&mut conn, "inventory (product_id, quantity)", inventory).await?;
        copy(
            &mut conn,
            "stock_deliveries (product_id, quantity, expected_date, status)",
            incoming,
        )
        .await?;

        // Customers, orders, deliveries, refunds, coupons, in chunks.
        let chunk = 5_000;
        let mut delivery_id = 0i64;
        let mut coupon_n = 0i64;
        let mut start = 1;
        while start <= spec.customers {
            let end = (start + chunk - 1).min(spec.customers);
            let (mut customers, mut orders, mut deliveries, mut refunds, mut coupons) = (
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            );
            for customer in start..=end {
                let first = rng.pick(FIRST);
                let last = rng.pick(LAST);
                writeln!(
                    customers,
                    "{customer}\t{first} {last}\t{}.{}{customer}@example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                )
                .ok();
                for _ in 0..spec.deliveries_per_customer {
                    delivery_id += 1;
                    let order_id = delivery_id;
                    let order_number = 100_000 + order_id;
                    let product = rng.range(1, product_id);
                    let carrier = *rng.pick(&["UPS", "FedEx", "USPS", "DHL"]);
                    let tracking = tracking_number(carrier, delivery_id, &mut rng);
                    // Windows from 400 days ago to 10 days ahead; recent ones matter most.
                    let end_offset = if rng.chance(70) {
                        rng.range(-400, -30)
                    } else {
                        rng.range(-30, 10)
                    };
                    let expected_end = spec.today + Duration::days(end_offset);
                    let expected_start = expected_end - Duration::days(rng.range(0, 4));
                    let placed_on = expected_start - Duration::days(rng.range(2, 7));
                    let fee = *rng.pick(FEES);
                    let (status, delivered_on) = if rng.chance(2) {
                        ("cancelled", None)
                    } else if end_offset < -14 || (end_offset < 0 && rng.chance(60)) {
                        let slip = if rng.chance(80) {
                            rng.range(-3, 0)
                        } else {
                            rng.range(1, 9)
                        };
                        let on = (expected_end + Duration::days(slip)).min(spec.today);
                        ("delivered", Some(on))
                    } else if end_offset < 0 {
                        (
                            *rng.pick(&["in_transit", "exception", "out_for_delivery"]),
                            None,
                        )
                    } else {
                        (*rng.pick(&["processing", "in_transit", "in_transit"]), None)
                    };
                    writeln!(
                        orders,
                        "{order_id}\t{order_number}\t{customer}\t{placed_on}\t{}",
                        fee + 10_000
                    )
                    .ok();
                    let delivered = delivered_on
                        .map(|d: Date| d.to_string())
                        .unwrap_or_else(|| "\\N".to_owned());
                    writeln!(deliveries, "{delivery_id}\t{order_id}\t{customer}\t{product}\t{carrier}\t{tracking}\t{status}\t{expected_start}\t{expected_end}\t{delivered}\t{fee}").ok();
                    let late = delivered_on.is_some_and(|d| d > expected_end);
                    if late && rng.chance(15) {
                        writeln!(
                            refunds,
                            "{customer}\t{delivery_id}\t{}\tlate delivery\t{} 12:00:00+00",
                            fee / 5,
                            delivered_on.unwrap_or(expected_end)
                        )
                        .ok();
                    }
                    if late && rng.chance(5) {
                        coupon_n += 1;
                        let issued = delivered_on.unwrap_or(expected_end);
                        writeln!(
                            coupons,
                            "{customer}\t{delivery_id}\tSHIP-{coupon_n:08}\t{issued}\t{}",
                            issued + Duration::days(90)
                        )
                        .ok();
                    }
                }
            }
            copy(&mut conn, "customers (customer_id, name, email)", customers).await?;
            copy(
                &mut conn,
                "orders (order_id, order_number, customer_id, placed_on, total_cents)",
                orders,
            )
            .await?;
            copy(&mut conn, "deliveries (delivery_id, order_id, customer_id, product_id, carrier, tracking_number, status, expected_start, expected_end, delivered_on, fee_cents)", deliveries).await?;
            copy(
                &mut conn,
                "refunds (customer_id, delivery_id, amount_cents, reason, credited_at)",
                refunds,
            )
            .await?;
            copy(
                &mut conn,
                "coupons (customer_id, delivery_id, code, issued_on, expires_on)",
                coupons,
            )
            .await?;
            start = end + 1;
        }
        // Explicit ids were loaded; move the sequences past them.
        for (table, column) in [
            ("products", "product_id"),
            ("orders", "order_id"),
            ("deliveries", "delivery_id"),
        ] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), GREATEST((SELECT max({column}) FROM {table}), 1))"
            ))
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
        Ok(SeedReport {
            products: product_id,
            customers: spec.customers,
            deliveries: delivery_id,
        })
    }
}

async fn copy(conn: &mut sqlx::PgConnection, target: &str, rows: String) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut sink = conn
        .copy_in_raw(&format!("COPY {target} FROM STDIN (FORMAT text)"))
        .await?;
    sink.send(rows.into_bytes()).await?;
    sink.finish().await?;
    Ok(())
}
