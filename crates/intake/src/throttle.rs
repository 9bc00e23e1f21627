//! Requests per integration key: a token bucket per key, in memory (one process's view,
//! which is what a runaway integration loop against it needs).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A key may send `per_minute` requests a minute, and up to that many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_minute: u32,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// The buckets of every key seen.
#[derive(Debug)]
pub struct KeyLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<i64, Bucket>>,
}

impl KeyLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the key's bucket; `Err(wait)` when it is empty.
    pub fn admit(&self, key: i64, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(self.limit.per_minute.max(1));
        let per_second = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            refilled: now,
        });
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits_for_the_bucket_to_refill() {
        let limiter = KeyLimiter::new(RateLimit { per_minute: 3 });
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.admit(7, start), Ok(()));
        }
        let wait = limiter
            .admit(7, start)
            .expect_err("the fourth request waits");
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20));
        // Another key has its own bucket.
        assert_eq!(limiter.admit(8, start), Ok(()));
        // A third of a minute later, one request's worth has come back.
        assert_eq!(limiter.admit(7, start + Duration::from_secs(20)), Ok(()));
        assert!(limiter.admit(7, start + Duration::from_secs(20)).is_err());
    }
}
