//! Tracking and order numbers as customers write them.

use deskhand_core::tracking::{carrier_of, find_numbers, Carrier};

fn tracking(text: &str) -> Vec<String> {
    find_numbers(text)
        .tracking
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect()
}

#[test]
fn ups_numbers_are_found_in_any_case_with_spaces_or_dashes() {
    assert_eq!(tracking("it's 1Z999AA10123456784!"), ["1Z999AA10123456784"]);
    assert_eq!(
        tracking("tracking: 1z999aa10123456784"),
        ["1Z999AA10123456784"]
    );
    assert_eq!(
        tracking("1Z 999 AA1 0123 4567 84 please"),
        ["1Z999AA10123456784"]
    );
    assert_eq!(
        tracking("nr 1Z-999-AA1-01234567-84"),
        ["1Z999AA10123456784"]
    );
}

#[test]
fn fedex_usps_and_dhl_formats_are_recognised() {
    assert_eq!(tracking("FedEx 771234567890 is stuck"), ["771234567890"]);
    assert_eq!(carrier_of("771234567890"), Some(Carrier::FedEx));
    assert_eq!(
        tracking("USPS 9400 1118 9922 3456 7890 12"),
        ["9400111899223456789012"]
    );
    assert_eq!(tracking("registered mail EA123456789US"), ["EA123456789US"]);
    assert_eq!(tracking("DHL tracking 4512345678"), ["4512345678"]);
    assert_eq!(
        tracking("JD014600006281243209 via DHL"),
        ["JD014600006281243209"]
    );
}

#[test]
fn several_numbers_are_all_found_once_each() {
    let found = tracking("1Z999AA10123456784 and 771234567890, again 1Z999AA10123456784");
    assert_eq!(found, ["1Z999AA10123456784", "771234567890"]);
}

#[test]
fn plain_digits_count_only_near_a_tracking_word() {
    assert_eq!(tracking("my parcel number is 12345678"), ["12345678"]);
    assert!(tracking("call me on 555-123-4567 or 0044 20 7946 0958").is_empty());
    assert!(tracking("I paid 12999 cents").is_empty());
}

#[test]
fn order_numbers_follow_the_word_order_or_a_hash() {
    let found = find_numbers("About order #100234 and order number: A1B2C3, also #99887");
    assert_eq!(found.orders, ["100234", "A1B2C3", "99887"]);
    assert!(find_numbers("size 10, 2 pairs").orders.is_empty());
}

#[test]
fn text_without_numbers_finds_nothing_and_never_panics_on_odd_input() {
    assert!(find_numbers("Where is my parcel?").is_empty());
    for text in [
        "",
        "1Z",
        "\u{202E}1Z999AA10123456784",
        "ñ 1Z999AA1012345678ñ4",
        "\u{0}\u{0}",
        "- - - -",
        &"9".repeat(10_000),
    ] {
        let _ = find_numbers(text);
    }
}
