//! Reply templates, grounded only in the observations the tools gathered.

use deskhand_core::ports::ComposeInput;
use deskhand_core::{Reply, Topic};

/// Writes a reply from templates.
pub fn compose(input: ComposeInput<'_>) -> Reply {
    let email = input.email;
    let greeting = match email.customer_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => {
            let first = name.split_whitespace().next().unwrap_or(name);
            format!("Hi {first},")
        }
        _ => "Hello,".to_owned(),
    };
    let mut paragraphs = vec![greeting];
    match input.classified.topic {
        Topic::DeliveryDelay => paragraphs.push(
            "Thank you for getting in touch about your delivery. We are looking into it \
             and will make sure you have an update on where your parcel is."
                .to_owned(),
        ),
        Topic::ProductAvailabilityOrRecommendation => paragraphs.push(
            "Thank you for your interest. We are checking our stock and upcoming \
             deliveries for the shoes you asked about."
                .to_owned(),
        ),
        _ => paragraphs.push("Thank you for your message.".to_owned()),
    }
    for observation in input.observations {
        paragraphs.push(observation.text.clone());
    }
    paragraphs.push("Kind regards,\nCustomer Support".to_owned());
    let subject = match email.subject.as_deref().map(str::trim) {
        Some(s) if s.to_lowercase().starts_with("re:") => s.to_owned(),
        Some(s) if !s.is_empty() => format!("Re: {s}"),
        _ => "Re: your message".to_owned(),
    };
    Reply {
        subject,
        body: paragraphs.join("\n\n"),
    }
}
