//! Sign-in attempts per client address: a bounded number per window, and failures written
//! to the audit log once per address and window rather than once per guess.
//!
//! Tokens carry 244 random bits, so guessing one is hopeless; what an unthrottled sign-in
//! gives an attacker is a cheap way to load the database and to bury the audit log under a
//! row per attempt. This keeps both bounded.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many sign-in attempts one address may make in one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    pub attempts: u32,
    pub window: Duration,
}

/// The address's window: when it started and what happened in it.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    attempts: u32,
    failures: u32,
    throttled: bool,
}

/// What the limiter says to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// Over the limit until the window ends. `first` is set for the attempt that crossed
    /// it, which is the one audited, with the window's failures so far.
    Throttled {
        retry_after: Duration,
        first: bool,
        failures: u32,
    },
}

/// Windows are forgotten once this many addresses are tracked and theirs have ended.
const MAX_TRACKED: usize = 10_000;

/// Per-address sign-in windows, in memory: one review process's view, which is what a
/// flood against it needs.
#[derive(Debug)]
pub struct SignInLimiter {
    limits: SignInLimits,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

impl SignInLimiter {
    pub fn new(limits: SignInLimits) -> Self {
        Self {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> SignInLimits {
        self.limits
    }

    /// Counts an attempt from `client` at `now`.
    pub fn admit(&self, client: IpAddr, now: Instant) -> Admission {
        let mut windows = self.windows.lock().expect("sign-in limiter poisoned");
        if windows.len() >= MAX_TRACKED {
            let window = self.limits.window;
            windows.retain(|_, w| now.duration_since(w.started) < window);
        }
        let window = windows.entry(client).or_insert(Window {
            started: now,
            attempts: 0,
            failures: 0,
            throttled: false,
        });
        if now.duration_since(window.started) >= self.limits.window {
            *window = Window {
                started: now,
                attempts: 0,
                failures: 0,
                throttled: false,
            };
        }
        window.attempts = window.attempts.saturating_add(1);
        if window.attempts <= self.limits.attempts {
            return Admission::Allowed;
        }
        let first = !window.throttled;
        window.throttled = true;
        Admission::Throttled {
            retry_after: self
                .limits
                .window
                .saturating_sub(now.duration_since(window.started)),
            first,
            failures: window.failures,
        }
    }

    /// Records a failed sign-in from `client`; true for the window's first, the one that
    /// is audited (the rest are counted and reported when the address is throttled).
    pub fn failed(&self, client: IpAddr) -> bool {
        let mut windows = self.windows.lock().expect("sign-in limiter poisoned");
        match windows.get_mut(&client) {
            Some(window) => {
                window.failures = window.failures.saturating_add(1);
                window.failures == 1
            }
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> SignInLimiter {
        SignInLimiter::new(SignInLimits {
            attempts: 3,
            window: Duration::from_secs(60),
        })
    }

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const AWAY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));

    #[test]
    fn an_address_gets_its_attempts_per_window_and_others_are_not_affected() {
        let limiter = limiter();
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.admit(HOME, start), Admission::Allowed);
        }
        assert!(matches!(
            limiter.admit(HOME, start + Duration::from_secs(20)),
            Admission::Throttled { retry_after, first: true, .. } if retry_after == Duration::from_secs(40)
        ));
        assert!(matches!(
            limiter.admit(HOME, start + Duration::from_secs(21)),
            Admission::Throttled { first: false, .. }
        ));
        assert_eq!(limiter.admit(AWAY, start), Admission::Allowed);
        // A new window starts afresh.
        assert_eq!(
            limiter.admit(HOME, start + Duration::from_secs(60)),
            Admission::Allowed
        );
    }

    #[test]
    fn only_a_windows_first_failure_is_reported_and_the_count_comes_with_the_throttle() {
        let limiter = limiter();
        let now = Instant::now();
        let reported: Vec<bool> = (0..3)
            .map(|_| {
                limiter.admit(HOME, now);
                limiter.failed(HOME)
            })
            .collect();
        assert_eq!(reported, [true, false, false]);
        assert!(matches!(
            limiter.admit(HOME, now),
            Admission::Throttled {
                failures: 3,
                first: true,
                ..
            }
        ));
    }
}
