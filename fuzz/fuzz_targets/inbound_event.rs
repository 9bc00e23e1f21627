//! Any bytes as the value of an inbound event: the decoder refuses with a reason or
//! returns an email; it never panics, and what it returns is bounded by the limits.
#![no_main]

use deskhand_contracts::{decode_inbound, DecodeLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|payload: &[u8]| {
    let limits = DecodeLimits::default();
    match decode_inbound(payload, &limits) {
        Ok(email) => {
            // Header fields stay on one line; no NUL reaches the agent.
            assert!(!email
                .subject
                .as_deref()
                .unwrap_or_default()
                .contains(['\r', '\n']));
            assert!(!email.body.readable.contains('\0'));
            assert!(email.body.readable.len() <= payload.len() * 4 + 64);
        }
        Err(error) => assert!(!error.to_string().is_empty() && !error.code().is_empty()),
    }
});
