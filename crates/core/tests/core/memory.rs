//! Case memory stays small however long the case.

use deskhand_core::memory::*;
use deskhand_core::Topic;

#[test]
fn memory_stays_bounded_after_fifty_emails_in_a_case() {
    let settings = MemorySettings::default();
    let mut memory = CaseMemory::default();
    let mut sizes = Vec::new();
    for n in 0..50 {
        memory = memory.with_customer_email(
            &format!(
                "Email {n}: asks again where parcel 1Z999AA1012345678{} is, quite upset",
                n % 10
            ),
            Topic::DeliveryDelay,
            &settings,
        );
        if n % 3 == 0 {
            memory =
                memory.with_agent_reply(&format!("Reply {n}: gave the tracking status"), &settings);
        }
        sizes.push(memory.as_context().chars().count());
    }
    assert!(memory.entries.len() <= settings.max_entries);
    assert!(memory.rolling_summary.chars().count() <= settings.max_rolling_chars);
    let bound =
        settings.max_rolling_chars + settings.max_entries * (settings.max_summary_chars + 16) + 32;
    assert!(
        sizes.iter().all(|s| *s <= bound),
        "context grew past {bound}: {:?}",
        sizes.iter().max()
    );
    assert_eq!(sizes[49], sizes[48].max(sizes[49]), "no growth at the end");
    assert_eq!(memory.customer_emails, 50);
    assert_eq!(memory.times_asked(Topic::DeliveryDelay), 50);
    assert!(
        memory
            .entries
            .last()
            .unwrap()
            .summary
            .starts_with("Email 49"),
        "the newest entry is kept verbatim"
    );
}

#[test]
fn the_rolling_summary_drops_the_oldest_lines_first() {
    let settings = MemorySettings {
        max_entries: 1,
        max_rolling_chars: 40,
        max_summary_chars: 200,
    };
    let mut memory = CaseMemory::default();
    for n in 0..5 {
        memory = memory.with_customer_email(&format!("line {n}"), Topic::Other, &settings);
    }
    assert!(memory.rolling_summary.contains("line 3"));
    assert!(!memory.rolling_summary.contains("line 0"));
    assert_eq!(memory.entries[0].summary, "line 4");
}
