//! Reply templates, grounded only in the facts the tools established.

use deskhand_core::ports::ComposeInput;
use deskhand_core::{Reply, Route};

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
    paragraphs.push(
        match input.route {
            Route::Delivery => {
                "Thank you for getting in touch about your delivery. Here is what we found:"
            }
            Route::Product => "Thank you for your interest. Here is what we have for you:",
            Route::Answer => "Thank you for your question. Here is what our policy says:",
            Route::Order => {
                "Thank you for getting in touch about your order. Here is where it stands:"
            }
            _ => "Thank you for your message.",
        }
        .to_owned(),
    );
    if input.route == Route::Answer {
        // Policy passages are quoted whole, each under its heading, so the customer reads
        // the policy as the shop wrote it.
        for fact in input.facts {
            let (heading, text) = fact.split_once(": ").unwrap_or(("", fact));
            let quoted = text
                .lines()
                .map(|l| format!("> {l}").trim_end().to_owned())
                .collect::<Vec<_>>()
                .join("\n");
            paragraphs.push(if heading.is_empty() {
                quoted
            } else {
                format!("{heading}\n{quoted}")
            });
        }
    } else if !input.facts.is_empty() {
        paragraphs.push(
            input
                .facts
                .iter()
                .map(|f| format!("- {f}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    if let Some(ask) = input.ask_for {
        paragraphs.push(format!(
            "So that we can help, could you please send us {ask}?"
        ));
    }
    paragraphs.push("If there is anything else we can do, just reply to this email.".to_owned());
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
