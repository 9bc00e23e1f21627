//! Each case's world: the evaluation database is reset and the case's `given` block
//! loaded before the case runs, so no case sees another's data.

use super::dataset::{Case, Delivery};
use anyhow::Context as _;
use deskhand_db::Store;
use std::collections::BTreeMap;

/// The case's customer and the stranger whose data must never show.
pub const CUSTOMER_ID: i64 = 1001;
pub const OTHER_CUSTOMER_ID: i64 = 2002;

/// Database ids of the case's references, to score what the agent used.
#[derive(Debug, Clone, Default)]
pub struct LoadedCase {
    pub product_refs: BTreeMap<i64, String>,
    pub delivery_refs: BTreeMap<i64, String>,
    /// Strings that belong to the other customer (tracking and order numbers).
    pub foreign_markers: Vec<String>,
    pub foreign_delivery_ids: Vec<i64>,
}

pub(crate) const BUSINESS_TABLES: &str =
    "customers, products, inventory, stock_deliveries, orders, \
    deliveries, refunds, coupons, case_memory, emails, cases, drafts, outbox";

/// Empties the business data and loads `case`.
pub async fn load_case(store: &Store, case: &Case) -> anyhow::Result<LoadedCase> {
    let mut tx = store.pool().begin().await?;
    sqlx::query(&format!(
        "TRUNCATE {BUSINESS_TABLES} RESTART IDENTITY CASCADE"
    ))
    .execute(&mut *tx)
    .await
    .context("resetting the evaluation database")?;
    let customer = case.customer.clone().unwrap_or(super::dataset::Customer {
        name: "Sam Taylor".into(),
        email: "sam@example.com".into(),
    });
    sqlx::query(
        "INSERT INTO customers VALUES ($1, $2, $3), ($4, 'Another Customer', 'other@example.net')",
    )
    .bind(CUSTOMER_ID)
    .bind(&customer.name)
    .bind(&customer.email)
    .bind(OTHER_CUSTOMER_ID)
    .execute(&mut *tx)
    .await?;

    let mut loaded = LoadedCase::default();
    let mut product_ids = BTreeMap::new();
    for product in &case.given.products {
        let id = insert_product(&mut tx, &format!("EVAL-{}", product.reference), product)
            .await
            .with_context(|| format!("product {}", product.reference))?;
        sqlx::query("INSERT INTO inventory VALUES ($1, $2)")
            .bind(id)
            .bind(product.quantity)
            .execute(&mut *tx)
            .await?;
        product_ids.insert(product.reference.clone(), id);
        loaded.product_refs.insert(id, product.reference.clone());
    }
    for incoming in &case.given.incoming {
        sqlx::query(
            "INSERT INTO stock_deliveries (product_id, quantity, expected_date, status)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(product_ids[&incoming.product])
        .bind(incoming.quantity)
        .bind(incoming.expected_date)
        .bind(&incoming.status)
        .execute(&mut *tx)
        .await?;
    }

    let mut delivery_ids = BTreeMap::new();
    let owned = case.given.deliveries.iter().map(|d| (CUSTOMER_ID, d));
    let foreign = case
        .given
        .other_customer_deliveries
        .iter()
        .map(|d| (OTHER_CUSTOMER_ID, d));
    for (n, (customer_id, delivery)) in owned.chain(foreign).enumerate() {
        let order_number = order_number(delivery, n);
        let order_id: i64 = sqlx::query_scalar(
            "INSERT INTO orders (order_number, customer_id, placed_on, total_cents)
             VALUES ($1, $2, $3, 10000) RETURNING order_id",
        )
        .bind(&order_number)
        .bind(customer_id)
        .bind(delivery.expected_start - time::Duration::days(5))
        .fetch_one(&mut *tx)
        .await
        .with_context(|| format!("order of delivery {}", delivery.reference))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO deliveries (order_id, customer_id, product_id, carrier, tracking_number,
                 status, expected_start, expected_end, delivered_on, fee_cents)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING delivery_id",
        )
        .bind(order_id)
        .bind(customer_id)
        .bind(delivery.product.as_ref().map(|p| product_ids[p]))
        .bind(&delivery.carrier)
        .bind(&delivery.tracking_number)
        .bind(&delivery.status)
        .bind(delivery.expected_start)
        .bind(delivery.expected_end)
        .bind(delivery.delivered_on)
        .bind(delivery.fee_cents)
        .fetch_one(&mut *tx)
        .await
        .with_context(|| format!("delivery {}", delivery.reference))?;
        delivery_ids.insert(delivery.reference.clone(), (id, customer_id));
        loaded.delivery_refs.insert(id, delivery.reference.clone());
        if customer_id == OTHER_CUSTOMER_ID {
            loaded
                .foreign_markers
                .push(delivery.tracking_number.clone());
            loaded.foreign_markers.push(order_number);
            loaded.foreign_delivery_ids.push(id);
        }
    }
    for refund in &case.given.refunds {
        let (delivery_id, customer_id) = delivery_ids[&refund.delivery];
        sqlx::query(
            "INSERT INTO refunds (customer_id, delivery_id, amount_cents, reason)
             VALUES ($1, $2, $3, 'earlier refund')",
        )
        .bind(customer_id)
        .bind(delivery_id)
        .bind(refund.amount_cents)
        .execute(&mut *tx)
        .await?;
    }
    let today = case.today.expect("the loader dates every case");
    for coupon in &case.given.coupons {
        let (delivery_id, customer_id) = delivery_ids[&coupon.delivery];
        sqlx::query(
            "INSERT INTO coupons (customer_id, delivery_id, code, issued_on, expires_on)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(customer_id)
        .bind(delivery_id)
        .bind(&coupon.code)
        .bind(today - time::Duration::days(30))
        .bind(today + time::Duration::days(60))
        .execute(&mut *tx)
        .await?;
    }
    if !case.given.history.is_empty() {
        let customer_emails = case
            .given
            .history
            .iter()
            .filter(|h| h.role == "customer")
            .count() as i32;
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for entry in &case.given.history {
            if let (true, Some(topic)) = (entry.role == "customer", &entry.topic) {
                *counts.entry(topic.as_str()).or_default() += 1;
            }
        }
        // The stored form of `case_memory.entries`: role, summary, topic, in order.
        let entries: Vec<serde_json::Value> = case
            .given
            .history
            .iter()
            .map(|entry| {
                serde_json::json!({"role": entry.role, "summary": entry.summary, "topic": entry.topic})
            })
            .collect();
        sqlx::query(
            "INSERT INTO case_memory (case_id, customer_id, customer_emails, request_counts,
                 entries, version)
             VALUES ($1, $2, $3, $4, $5, 1)",
        )
        .bind(case_id(case))
        .bind(CUSTOMER_ID)
        .bind(customer_emails)
        .bind(serde_json::to_value(&counts)?)
        .bind(serde_json::Value::from(entries))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(loaded)
}

/// Adds a catalog row (the model is the product's name) and returns its id.
pub(crate) async fn insert_product(
    conn: &mut sqlx::PgConnection,
    sku: &str,
    product: &super::dataset::Product,
) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO products (sku, name, brand, model, size, width, color, material,
             price_cents, description)
         VALUES ($1, $2, $3, $2, $4::float8::numeric, $5, $6, $7, $8, $9) RETURNING product_id",
    )
    .bind(sku)
    .bind(&product.name)
    .bind(&product.brand)
    .bind(product.size)
    .bind(&product.width)
    .bind(&product.color)
    .bind(&product.material)
    .bind(product.price_cents)
    .bind(&product.description)
    .fetch_one(conn)
    .await?)
}

/// The CRM case id of a dataset case.
pub fn case_id(case: &Case) -> String {
    format!("eval-{}", case.id)
}

fn order_number(delivery: &Delivery, n: usize) -> String {
    delivery
        .order_number
        .clone()
        .unwrap_or_else(|| format!("{}", 700_001 + n))
}
