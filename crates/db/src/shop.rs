//! The store's data as the graph reads it ([`ShopData`]).
//!
//! Every customer read runs in a transaction that names the customer
//! (`deskhand.customer_id`) and drops to the `deskhand_scoped` role, so Postgres row-level
//! security applies even when the connection's own role could bypass it. The queries also
//! filter by the scope's customer id themselves: two walls. All queries are fixed and
//! parameterised; nothing the customer or a model wrote becomes SQL.

use crate::{Error, Store};
use deskhand_core::address::ShippingAddress;
use deskhand_core::delivery::{DeliveryFacts, DeliveryStatus};
use deskhand_core::order::{OrderFacts, OrderStatus};
use deskhand_core::ports::{
    CustomerActivity, DataError, DeliveryLookup, DeliveryMatches, OrderSummary, Recalled,
    RefundSummary, ShopData,
};
use deskhand_core::product::{CatalogVocabulary, ProductCandidate, ProductQuery};
use deskhand_core::Transience as _;
use deskhand_core::{CaseId, CustomerScope};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};
use time::Date;

impl From<Error> for DataError {
    fn from(error: Error) -> Self {
        if error.is_transient() {
            DataError::Unavailable(error.to_string())
        } else {
            DataError::Failed(error.to_string())
        }
    }
}

pub(crate) const DELIVERY_COLUMNS: &str = "
    d.delivery_id, o.order_number, d.tracking_number, d.carrier, d.status, d.expected_start,
    d.expected_end, d.delivered_on, d.fee_cents,
    COALESCE((SELECT sum(r.amount_cents) FROM refunds r
              WHERE r.delivery_id = d.delivery_id AND r.customer_id = d.customer_id), 0)::bigint AS refunded_cents,
    EXISTS (SELECT 1 FROM coupons c
            WHERE c.delivery_id = d.delivery_id AND c.customer_id = d.customer_id) AS coupon_issued,
    p.name AS product_name";

pub(crate) const DELIVERY_FROM: &str = "
    FROM deliveries d
    JOIN orders o ON o.order_id = d.order_id
    LEFT JOIN products p ON p.product_id = d.product_id";

impl Store {
    /// A transaction in which only `scope`'s rows of customer tables are visible.
    pub async fn scoped(
        &self,
        scope: CustomerScope,
    ) -> crate::Result<Transaction<'static, Postgres>> {
        self.begin_scoped(scope, Access::ReadScoped).await
    }

    /// Begins a transaction that names `scope`'s customer for row-level security and, for
    /// [`Access::ReadScoped`], drops to the `deskhand_scoped` role, all in one round trip:
    /// at a thousand emails a second, each extra statement is a measurable share of the
    /// database's CPU.
    pub(crate) async fn begin_scoped(
        &self,
        scope: CustomerScope,
        access: Access,
    ) -> crate::Result<Transaction<'static, Postgres>> {
        // The id is an integer formatted here, so nothing a customer wrote reaches this
        // statement; a simple query cannot take bind parameters.
        let role = match access {
            Access::ReadScoped => "; SET LOCAL ROLE deskhand_scoped",
            Access::Write => "",
        };
        let begin = format!(
            "BEGIN; SELECT set_config('deskhand.customer_id', '{}', true){role}",
            scope.customer_id().get()
        );
        Ok(self.pool().begin_with(begin).await?)
    }

    /// The words the catalog uses (brands, models, colours, materials, widths).
    pub async fn catalog_vocabulary(&self) -> crate::Result<CatalogVocabulary> {
        let distinct = |column: &str| format!("SELECT DISTINCT {column} FROM products ORDER BY 1");
        let mut vocabulary = CatalogVocabulary::default();
        for (column, target) in [
            ("brand", &mut vocabulary.brands),
            ("model", &mut vocabulary.models),
            ("color", &mut vocabulary.colors),
            ("material", &mut vocabulary.materials),
            ("width", &mut vocabulary.widths),
        ] {
            *target = sqlx::query_scalar(&distinct(column))
                .fetch_all(self.pool())
                .await?;
        }
        Ok(vocabulary)
    }
}

/// Converts every row, or fails with the first that does not fit.
fn map_rows<T>(
    rows: &[PgRow],
    convert: impl Fn(&PgRow) -> Result<T, sqlx::Error>,
) -> crate::Result<Vec<T>> {
    rows.iter()
        .map(convert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::from)
}

/// What a scoped transaction may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads as `deskhand_scoped`: row-level security applies even if the connection's
    /// own role could bypass it.
    ReadScoped,
    /// Writes as the connection's role, which row-level security still scopes.
    Write,
}

pub(crate) fn delivery_from_row(row: &PgRow) -> Result<DeliveryFacts, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(DeliveryFacts {
        delivery_id: row.try_get("delivery_id")?,
        order_number: row.try_get("order_number")?,
        tracking_number: row.try_get("tracking_number")?,
        carrier: row.try_get("carrier")?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown delivery status {status}").into())
        })?,
        expected_start: row.try_get("expected_start")?,
        expected_end: row.try_get("expected_end")?,
        delivered_on: row.try_get("delivered_on")?,
        fee_cents: row.try_get("fee_cents")?,
        refunded_cents: row.try_get("refunded_cents")?,
        coupon_issued: row.try_get("coupon_issued")?,
        product_name: row.try_get("product_name")?,
    })
}

/// Which orders [`load_orders`] reads.
pub(crate) enum OrderKeys<'a> {
    Numbers(&'a [String]),
    /// By id, with the order rows locked until the transaction ends: the approval's
    /// recheck and its run see the same order.
    LockedIds(&'a [i64]),
}

/// The customer's orders with these keys, each with its deliveries (at most 20 orders).
pub(crate) async fn load_orders(
    tx: &mut Transaction<'static, Postgres>,
    customer_id: i64,
    keys: OrderKeys<'_>,
) -> crate::Result<Vec<OrderFacts>> {
    // Locked: the orders for update, their deliveries for share (a carrier's status
    // update waits until the cancellation is decided; a refund's insert does not).
    let (numbers, ids, lock, share): (&[String], &[i64], &str, &str) = match keys {
        OrderKeys::Numbers(numbers) => (numbers, &[], "", ""),
        OrderKeys::LockedIds(ids) => (&[], ids, "FOR UPDATE", "FOR SHARE OF d"),
    };
    let order_rows = sqlx::query(&format!(
        "SELECT o.order_id, o.order_number, o.placed_on, o.total_cents, o.status, o.ship_to,
                (SELECT r.code FROM returns r WHERE r.order_id = o.order_id) AS return_code
         FROM orders o
         WHERE o.customer_id = $1 AND (o.order_number = ANY($2) OR o.order_id = ANY($3))
         ORDER BY o.order_id LIMIT 20 {lock}"
    ))
    .bind(customer_id)
    .bind(numbers)
    .bind(ids)
    .fetch_all(&mut **tx)
    .await?;
    let order_ids: Vec<i64> = order_rows
        .iter()
        .map(|r| r.try_get("order_id"))
        .collect::<Result<_, _>>()?;
    let delivery_rows = sqlx::query(&format!(
        "SELECT d.order_id, {DELIVERY_COLUMNS} {DELIVERY_FROM}
         WHERE d.customer_id = $1 AND d.order_id = ANY($2) ORDER BY d.delivery_id {share}"
    ))
    .bind(customer_id)
    .bind(&order_ids)
    .fetch_all(&mut **tx)
    .await?;
    let mut orders = Vec::with_capacity(order_rows.len());
    for row in &order_rows {
        let order_id: i64 = row.try_get("order_id")?;
        let status: String = row.try_get("status")?;
        let mut deliveries = Vec::new();
        for delivery in &delivery_rows {
            if delivery.try_get::<i64, _>("order_id")? == order_id {
                deliveries.push(delivery_from_row(delivery)?);
            }
        }
        orders.push(OrderFacts {
            order_id,
            order_number: row.try_get("order_number")?,
            placed_on: row.try_get("placed_on")?,
            total_cents: row.try_get("total_cents")?,
            status: OrderStatus::parse(&status).ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown order status {status}").into())
            })?,
            ship_to: row
                .try_get::<Option<String>, _>("ship_to")?
                .map(|raw| ShippingAddress::on_file(&raw))
                .filter(|address| !address.as_str().is_empty()),
            return_code: row.try_get("return_code")?,
            deliveries,
        });
    }
    Ok(orders)
}

fn lookup_arrays(lookup: &DeliveryLookup) -> (Vec<String>, Vec<String>) {
    let tracking = lookup
        .tracking
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect();
    let orders = lookup
        .orders
        .iter()
        .map(|o| o.to_ascii_uppercase())
        .collect();
    (tracking, orders)
}

impl ShopData for Store {
    #[tracing::instrument(name = "db", skip_all, fields(otel.name = "db recall", otel.kind = "client", db.system.name = "postgresql", db.operation.name = "recall"))]
    async fn recall(&self, scope: CustomerScope, case_id: &CaseId) -> Result<Recalled, DataError> {
        let mut tx = self.scoped(scope).await?;
        let memory =
            crate::memory::load_memory(&mut tx, case_id.as_str(), scope.customer_id().get())
                .await?;
        // In the same transaction: one more statement, no more round trips to begin one.
        let address_on_file: Option<String> =
            sqlx::query_scalar("SELECT email FROM customers WHERE customer_id = $1")
                .bind(scope.customer_id().get())
                .fetch_optional(&mut *tx)
                .await
                .map_err(crate::Error::from)?;
        Ok(Recalled {
            memory,
            address_on_file,
        })
    }

    #[tracing::instrument(name = "db", skip_all, fields(otel.name = "db deliveries", otel.kind = "client", db.system.name = "postgresql", db.operation.name = "deliveries"))]
    async fn deliveries(
        &self,
        scope: CustomerScope,
        lookup: &DeliveryLookup,
        recent_since: Date,
    ) -> Result<DeliveryMatches, DataError> {
        let mut tx = self.scoped(scope).await?;
        let customer = scope.customer_id().get();
        let (tracking, orders) = lookup_arrays(lookup);
        // Both lists in one statement (one round trip), told apart by `matched`.
        let rows = sqlx::query(&format!(
            "(SELECT true AS matched, {DELIVERY_COLUMNS} {DELIVERY_FROM}
              WHERE d.customer_id = $1 AND (d.tracking_number = ANY($2) OR o.order_number = ANY($3))
              ORDER BY d.expected_end, d.delivery_id LIMIT 20)
             UNION ALL
             (SELECT false AS matched, {DELIVERY_COLUMNS} {DELIVERY_FROM}
              WHERE d.customer_id = $1 AND d.expected_end >= $4
              ORDER BY d.expected_end, d.delivery_id LIMIT 200)
             ORDER BY matched DESC, expected_end, delivery_id"
        ))
        .bind(customer)
        .bind(&tracking)
        .bind(&orders)
        .bind(recent_since)
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::from)?;
        let mut matches = DeliveryMatches {
            matched: Vec::new(),
            recent: Vec::new(),
        };
        for row in &rows {
            let facts = delivery_from_row(row).map_err(Error::from)?;
            if row.try_get::<bool, _>("matched").map_err(Error::from)? {
                matches.matched.push(facts);
            } else {
                matches.recent.push(facts);
            }
        }
        Ok(matches)
    }

    #[tracing::instrument(name = "db", skip_all, fields(otel.name = "db orders", otel.kind = "client", db.system.name = "postgresql", db.operation.name = "orders"))]
    async fn orders(
        &self,
        scope: CustomerScope,
        order_numbers: &[String],
    ) -> Result<Vec<OrderFacts>, DataError> {
        let mut tx = self.scoped(scope).await?;
        let numbers: Vec<String> = order_numbers
            .iter()
            .map(|o| o.to_ascii_uppercase())
            .collect();
        Ok(load_orders(
            &mut tx,
            scope.customer_id().get(),
            OrderKeys::Numbers(&numbers),
        )
        .await?)
    }

    #[tracing::instrument(name = "db", skip_all, fields(otel.name = "db activity", otel.kind = "client", db.system.name = "postgresql", db.operation.name = "activity"))]
    async fn activity(
        &self,
        scope: CustomerScope,
        lookup: &DeliveryLookup,
    ) -> Result<CustomerActivity, DataError> {
        let mut tx = self.scoped(scope).await?;
        let customer = scope.customer_id().get();
        let (tracking, orders) = lookup_arrays(lookup);
        let order_rows = sqlx::query(
            "SELECT order_number, placed_on, total_cents, status FROM orders WHERE customer_id = $1
             ORDER BY (order_number = ANY($2)) DESC, placed_on DESC, order_id DESC LIMIT 5",
        )
        .bind(customer)
        .bind(&orders)
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::from)?;
        let delivery_rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} {DELIVERY_FROM} WHERE d.customer_id = $1
             ORDER BY (d.tracking_number = ANY($2) OR o.order_number = ANY($3)) DESC,
                      d.expected_end DESC, d.delivery_id DESC LIMIT 5"
        ))
        .bind(customer)
        .bind(&tracking)
        .bind(&orders)
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::from)?;
        let refund_rows = sqlx::query(
            "SELECT d.tracking_number, r.amount_cents, r.credited_at::date AS credited_on, r.reason
             FROM refunds r JOIN deliveries d ON d.delivery_id = r.delivery_id
             WHERE r.customer_id = $1 ORDER BY r.credited_at DESC LIMIT 5",
        )
        .bind(customer)
        .fetch_all(&mut *tx)
        .await
        .map_err(Error::from)?;
        let orders = map_rows(&order_rows, |r| {
            let status: String = r.try_get("status")?;
            Ok(OrderSummary {
                order_number: r.try_get("order_number")?,
                placed_on: r.try_get("placed_on")?,
                total_cents: r.try_get("total_cents")?,
                status: OrderStatus::parse(&status).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown order status {status}").into())
                })?,
            })
        })?;
        let deliveries = map_rows(&delivery_rows, delivery_from_row)?;
        let refunds = map_rows(&refund_rows, |r| {
            Ok(RefundSummary {
                tracking_number: r.try_get("tracking_number")?,
                amount_cents: r.try_get("amount_cents")?,
                credited_on: r.try_get("credited_on")?,
                reason: r.try_get("reason")?,
            })
        })?;
        Ok(CustomerActivity {
            orders,
            deliveries,
            refunds,
        })
    }

    #[tracing::instrument(name = "db", skip_all, fields(otel.name = "db search_products", otel.kind = "client", db.system.name = "postgresql", db.operation.name = "search_products"))]
    async fn search_products(
        &self,
        query: &ProductQuery,
        limit: i64,
    ) -> Result<Vec<ProductCandidate>, DataError> {
        // Brand and model words identify the product: hard filters. Without them, size
        // and colour narrow the search instead. Everything else (use words included: not
        // every catalog describes its shoes) only ranks.
        let identified = query.brand.is_some() || !query.model_words.is_empty();
        let like = |words: &[String]| -> Vec<String> {
            words
                .iter()
                .map(|w| format!("%{}%", w.to_lowercase().replace(['%', '_', '\\'], "")))
                .collect()
        };
        let rows = sqlx::query(
            "SELECT p.product_id, p.name, p.brand, p.model, p.size::float8 AS size, p.width, p.color,
                    p.material, p.price_cents, p.description, COALESCE(i.quantity, 0)::bigint AS quantity,
                    nxt.expected_date, nxt.quantity::bigint AS incoming_quantity
             FROM products p
             LEFT JOIN inventory i ON i.product_id = p.product_id
             LEFT JOIN LATERAL (
                 SELECT s.expected_date, s.quantity FROM stock_deliveries s
                 WHERE s.product_id = p.product_id AND s.status = 'pending'
                 ORDER BY s.expected_date LIMIT 1) nxt ON true
             WHERE ($1::text IS NULL OR lower(p.brand) = lower($1))
               AND (cardinality($2::text[]) = 0 OR lower(p.name || ' ' || p.model) LIKE ANY($2))
               AND ($3::bigint IS NULL OR p.price_cents <= $3)
               AND ($4 OR cardinality($5::float8[]) = 0
                    OR EXISTS (SELECT 1 FROM unnest($5::float8[]) s WHERE abs(p.size::float8 - s) < 0.01))
               AND ($4 OR cardinality($6::text[]) = 0 OR lower(p.color) = ANY($6))
             ORDER BY EXISTS (SELECT 1 FROM unnest($5::float8[]) s WHERE abs(p.size::float8 - s) < 0.01) DESC,
                      (lower(p.color) = ANY($6)) DESC,
                      (cardinality($7::text[]) > 0 AND lower(p.description) LIKE ANY($7)) DESC,
                      (COALESCE(i.quantity, 0) > 0) DESC, p.product_id
             LIMIT $8",
        )
        .bind(query.brand.as_deref())
        .bind(like(&query.model_words))
        .bind(query.max_price_cents)
        .bind(identified)
        .bind(query.sizes().collect::<Vec<f64>>())
        .bind(
            query
                .colors()
                .map(str::to_lowercase)
                .collect::<Vec<String>>(),
        )
        .bind(like(&query.use_words))
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(Error::from)?;
        map_rows(&rows, |r| {
            let expected: Option<Date> = r.try_get("expected_date")?;
            let incoming: Option<i64> = r.try_get("incoming_quantity")?;
            Ok(ProductCandidate {
                product_id: r.try_get("product_id")?,
                name: r.try_get("name")?,
                brand: r.try_get("brand")?,
                model: r.try_get("model")?,
                size: r.try_get("size")?,
                width: r.try_get("width")?,
                color: r.try_get("color")?,
                material: r.try_get("material")?,
                price_cents: r.try_get("price_cents")?,
                description: r.try_get("description")?,
                quantity: r.try_get("quantity")?,
                next_incoming: expected.zip(incoming),
            })
        })
        .map_err(DataError::from)
    }
}
