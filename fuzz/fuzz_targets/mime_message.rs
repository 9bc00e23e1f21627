//! Any bytes as an RFC 822 message: MIME extraction stays within its depth and part
//! limits and never panics; the readable text is no longer than the full text.
//! (Header fields are put on one line by the event decoder, see `inbound_event`.)
#![no_main]

use deskhand_mail::{parse_message, MailLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    if let Ok(parsed) = parse_message(raw, MailLimits::default()) {
        assert!(parsed.readable.len() <= parsed.full_text.len() + 16);
    }
});
