//! The actions on a whole order (cancel it, send it elsewhere, open a return): each
//! order locked and its policy checked again on the store's facts, then one statement
//! that repeats the policy's conditions, so that it alone can never act on an order the
//! policy refuses.

use super::*;

impl PendingDecision {
    /// Locks each order an action changes and checks the policy on it as it is now: not
    /// shipped, not cancelled, this customer's; a cancellation refunding exactly its
    /// total, an address change from the address the reviewer was shown. A second
    /// approval of the same change waits for the lock, then finds it done.
    pub(super) async fn recheck_orders(
        &mut self,
        approval: &Approval<'_>,
    ) -> Result<Option<ActionRefused>> {
        let mut ids: Vec<i64> = approval
            .actions
            .iter()
            .filter_map(ActionToRun::order_id)
            .collect();
        if ids.is_empty() {
            return Ok(None);
        }
        // Locked in one order, so two approvals on the same orders cannot deadlock.
        ids.sort_unstable();
        let orders =
            load_orders(&mut self.tx, self.customer_id, OrderKeys::LockedIds(&ids)).await?;
        let mut seen = Vec::new();
        for action in &approval.actions {
            let Some(order_id) = action.order_id() else {
                continue;
            };
            let Some(order) = orders.iter().find(|o| o.order_id == order_id) else {
                return Ok(Some(OrderRefusal::NotCustomersOrder(order_id).into()));
            };
            // One approval changing one order twice (cancelled twice refunds twice; a
            // cancellation and a new address contradict each other).
            if seen.contains(&order_id) {
                return Ok(Some(OrderRefusal::Changed(order_id).into()));
            }
            seen.push(order_id);
            let verdict = match action {
                ActionToRun::CancelOrder { amount_cents, .. } => {
                    order.recheck_cancellation(*amount_cents)
                }
                ActionToRun::UpdateShippingAddress { from, .. } => {
                    order.recheck_address_change(from.as_ref())
                }
                // The customer asked in time if the email came in time: a reviewer who
                // approves after the window closed does not refuse it.
                ActionToRun::StartReturn { last_day, .. } => order.recheck_return(
                    approval.today.min(self.email_received_at.date()),
                    approval.policy.return_window_days,
                    *last_day,
                ),
                ActionToRun::Refund { .. } | ActionToRun::Coupon { .. } => Ok(()),
            };
            if let Err(refusal) = verdict {
                return Ok(Some(refusal.into()));
            }
        }
        Ok(None)
    }

    /// Runs one action on a whole order (already rechecked under the order's lock).
    pub(super) async fn run_order_action(&mut self, action: &ActionToRun) -> Result<ActionRun> {
        match action {
            ActionToRun::StartReturn {
                action_id,
                order_id,
                code,
                last_day,
                reason,
            } => {
                // Locked and rechecked; one return per order (UNIQUE): a second approval
                // that waited on the lock may have read the order before the first
                // committed its return, and inserts nothing here, so it is refused.
                let row = sqlx::query(
                    "INSERT INTO returns (customer_id, order_id, code, last_day, reason, draft_id)
                     SELECT o.customer_id, o.order_id, $3, $4, $5, $6 FROM orders o
                     WHERE o.order_id = $2 AND o.customer_id = $1 AND o.status = 'placed'
                     ON CONFLICT (order_id) DO NOTHING
                     RETURNING return_id, (SELECT order_number FROM orders WHERE order_id = $2) AS order_number",
                )
                .bind(self.customer_id)
                .bind(order_id)
                .bind(code)
                .bind(last_day)
                .bind(reason)
                .bind(self.draft_id.as_uuid())
                .fetch_optional(&mut *self.tx)
                .await?;
                match row {
                    Some(row) => Ok(ActionRun::Done(ActionResult::StartReturn {
                        action_id: action_id.clone(),
                        return_id: row.try_get("return_id")?,
                        order_id: *order_id,
                        order_number: row.try_get("order_number")?,
                        code: code.clone(),
                        last_day: last_day.to_string(),
                    })),
                    None => Ok(ActionRun::Refused(ActionRefused::Order(
                        OrderRefusal::Changed(*order_id),
                    ))),
                }
            }
            ActionToRun::UpdateShippingAddress {
                action_id,
                order_id,
                to,
                ..
            } => {
                // Locked and rechecked like a cancellation; the statement repeats the
                // conditions so that it alone can never redirect a shipped order.
                let row = sqlx::query(
                    "WITH previous AS (
                         SELECT order_id, ship_to FROM orders WHERE order_id = $2),
                     changed AS (
                         UPDATE orders o SET ship_to = $3 FROM previous p
                         WHERE o.order_id = p.order_id AND o.customer_id = $1
                           AND o.status = 'placed'
                           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = o.order_id
                                           AND d.status NOT IN ('processing', 'cancelled'))
                         RETURNING o.order_id, o.order_number, o.customer_id, p.ship_to AS old)
                     INSERT INTO address_changes (customer_id, order_id, old_address, new_address, draft_id)
                     SELECT c.customer_id, c.order_id, c.old, $3, $4 FROM changed c
                     RETURNING change_id, (SELECT order_number FROM changed) AS order_number",
                )
                .bind(self.customer_id)
                .bind(order_id)
                .bind(to.as_str())
                .bind(self.draft_id.as_uuid())
                .fetch_optional(&mut *self.tx)
                .await?;
                match row {
                    Some(row) => Ok(ActionRun::Done(ActionResult::UpdateShippingAddress {
                        action_id: action_id.clone(),
                        change_id: row.try_get("change_id")?,
                        order_id: *order_id,
                        order_number: row.try_get("order_number")?,
                        address: to.as_str().to_owned(),
                    })),
                    None => Ok(ActionRun::Refused(ActionRefused::Order(
                        OrderRefusal::Changed(*order_id),
                    ))),
                }
            }
            ActionToRun::CancelOrder {
                action_id,
                order_id,
                amount_cents,
                reason,
            } => {
                // The order row is locked and was rechecked; the conditions are repeated
                // here so that this statement alone can never cancel a shipped order.
                let row = sqlx::query(
                    "WITH cancelled AS (
                         UPDATE orders o SET status = 'cancelled'
                         WHERE o.order_id = $2 AND o.customer_id = $1 AND o.status = 'placed'
                           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = o.order_id
                                           AND d.status NOT IN ('processing', 'cancelled'))
                         RETURNING o.order_id, o.order_number, o.customer_id),
                     stopped AS (
                         UPDATE deliveries d SET status = 'cancelled' FROM cancelled c
                         WHERE d.order_id = c.order_id AND d.customer_id = c.customer_id
                           AND d.status = 'processing')
                     INSERT INTO order_cancellations (customer_id, order_id, amount_cents, reason, draft_id)
                     SELECT c.customer_id, c.order_id, $3, $4, $5 FROM cancelled c
                     RETURNING cancellation_id, (SELECT order_number FROM cancelled) AS order_number",
                )
                .bind(self.customer_id)
                .bind(order_id)
                .bind(amount_cents)
                .bind(reason)
                .bind(self.draft_id.as_uuid())
                .fetch_optional(&mut *self.tx)
                .await?;
                match row {
                    Some(row) => Ok(ActionRun::Done(ActionResult::CancelOrder {
                        action_id: action_id.clone(),
                        cancellation_id: row.try_get("cancellation_id")?,
                        order_id: *order_id,
                        order_number: row.try_get("order_number")?,
                        amount_cents: *amount_cents,
                    })),
                    None => Ok(ActionRun::Refused(ActionRefused::Order(
                        OrderRefusal::Changed(*order_id),
                    ))),
                }
            }
            // The caller sends only order actions here.
            ActionToRun::Refund { .. } | ActionToRun::Coupon { .. } => Err(Error::Corrupt(
                "a delivery's action was run as an order's".to_owned(),
            )),
        }
    }
}
