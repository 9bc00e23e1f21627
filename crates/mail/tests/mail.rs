//! Reading real-world MIME: what the customer wrote, not the scaffolding around it.

use deskhand_mail::{parse_message, readable_text, MailError, MailLimits};

fn parse(raw: &[u8]) -> deskhand_mail::ParsedMessage {
    parse_message(raw, MailLimits::default()).expect("parses")
}

#[test]
fn a_multipart_quoted_printable_latin1_email_yields_its_plain_text() {
    let raw = b"From: =?ISO-8859-1?Q?Ren=E9_M=FCller?= <rene@example.de>\r\n\
Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= and a question\r\n\
Message-ID: <abc@example.de>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=\"ISO-8859-1\"\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Sch=F6ne Gr=FC=DFe! My order with tracking 1Z999AA10123456784 is very =\r\n\
late. Ren=E9\r\n\
--b1\r\n\
Content-Type: text/html; charset=\"ISO-8859-1\"\r\n\
\r\n\
<p>HTML version must not be used when text exists</p>\r\n\
--b1--\r\n";
    let message = parse(raw);
    assert_eq!(
        message.full_text.trim(),
        "Schöne Grüße! My order with tracking 1Z999AA10123456784 is very late. René"
    );
    assert_eq!(message.subject.as_deref(), Some("Grüße and a question"));
    assert_eq!(
        message.from.as_deref(),
        Some("René Müller <rene@example.de>")
    );
    assert_eq!(message.message_id.as_deref(), Some("<abc@example.de>"));
}

#[test]
fn an_html_only_email_is_turned_into_text() {
    let raw = b"From: priya@example.com\r\n\
Subject: Sizes\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<html><head><style>p{color:red}</style></head><body><p>Do you have the <b>Ultraboost</b> in size 10?</p><p>Thanks,<br>Priya</p></body></html>\r\n";
    let message = parse(raw);
    assert!(
        message
            .full_text
            .contains("Do you have the Ultraboost in size 10?"),
        "{:?}",
        message.full_text
    );
    assert!(
        !message.full_text.contains('<'),
        "no markup left: {:?}",
        message.full_text
    );
    assert!(
        !message.full_text.contains("color:red"),
        "no CSS left: {:?}",
        message.full_text
    );
}

#[test]
fn quoted_replies_and_their_header_are_stripped_from_what_the_agent_reads() {
    let text = "Still nothing arrived.\n\nOn Mon, Nov 16, 2026 at 9:00 AM Support <support@shop.example> wrote:\n> Your order has shipped.\n> Tracking: 1Z999";
    assert_eq!(readable_text(text), "Still nothing arrived.");
    let wrapped = "Any news?\n\nOn Mon, Nov 16, 2026 at 9:00 AM Support Team <support@shop.example>\nwrote:\n> old";
    assert_eq!(readable_text(wrapped), "Any news?");
    let outlook =
        "Please cancel.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nOld text";
    assert_eq!(readable_text(outlook), "Please cancel.");
    let outlook_block = "Please cancel.\n\nFrom: Support <s@shop.example>\nSent: Monday, November 16, 2026\nTo: me\nOld text";
    assert_eq!(readable_text(outlook_block), "Please cancel.");
}

#[test]
fn signatures_are_stripped_but_forwarded_messages_are_kept() {
    assert_eq!(
        readable_text("Where is it?\n-- \nDana Ruiz\nACME Corp"),
        "Where is it?"
    );
    assert_eq!(
        readable_text("Where is it?\n\nSent from my iPhone"),
        "Where is it?"
    );
    let forwarded = "See below, it says delayed.\n\n---------- Forwarded message ---------\nFrom: UPS <noreply@ups.com>\nDate: Mon, Nov 16, 2026\nSubject: Delay\n\nYour package 1Z999AA10123456784 is delayed.";
    let readable = readable_text(forwarded);
    assert!(readable.contains("1Z999AA10123456784"), "{readable}");
}

#[test]
fn a_companys_legal_footer_is_not_the_customers_words() {
    let footer = "Could you check with the courier please?\n\nRegards,\nBen Ashworth\n\n*** This e-mail is intended only for the addressee and may contain confidential or legally privileged information. Any unauthorised use is prohibited. ***";
    assert_eq!(
        readable_text(footer),
        "Could you check with the courier please?\n\nRegards,\nBen Ashworth"
    );
    let norwegian = "Please send the invoice.\n\nDenne e-posten kan inneholde konfidensiell informasjon. This e-mail may contain confidential information.";
    assert_eq!(readable_text(norwegian), "Please send the invoice.");
    let disclaimer = "Where is order 4471?\nDISCLAIMER: the views expressed are the sender's own.";
    assert_eq!(readable_text(disclaimer), "Where is order 4471?");
    // The customer's own words about a confidential matter stay.
    let own = "Hello,\nThis email is about confidential information you leaked: my address is on your site.";
    assert_eq!(readable_text(own), own);
}

#[test]
fn bytes_that_are_not_a_message_are_refused() {
    assert!(matches!(
        parse_message(b"", MailLimits::default()),
        Err(MailError::Unparseable(_))
    ));
    assert!(matches!(
        parse_message(b"just some words without headers", MailLimits::default()),
        Err(MailError::Unparseable(_))
    ));
}

#[test]
fn deeply_nested_mime_is_refused() {
    let mut raw = String::from("From: a@b.c\r\nSubject: bomb\r\nMIME-Version: 1.0\r\n");
    let depth = 30;
    for level in 0..depth {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n--b{level}\r\n"
        ));
    }
    raw.push_str("Content-Type: text/plain\r\n\r\nhello\r\n");
    for level in (0..depth).rev() {
        raw.push_str(&format!("--b{level}--\r\n"));
    }
    let limits = MailLimits {
        max_depth: 10,
        max_parts: 500,
    };
    assert!(matches!(
        parse_message(raw.as_bytes(), limits),
        Err(MailError::TooDeep { .. }) | Err(MailError::TooManyParts { .. })
    ));
}

fn html_message(html: &str) -> Vec<u8> {
    format!(
        "From: Ana <ana@example.com>\r\nSubject: Re: your order\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
    )
    .into_bytes()
}

#[test]
fn a_tracking_number_quoted_in_an_html_blockquote_is_not_the_customers() {
    let parsed = parse(&html_message(
        "<div dir=\"ltr\">Do you have the Pegasus 41 in size 10?</div><br>\
         <div class=\"gmail_quote\"><div class=\"gmail_attr\">On Tue, 3 Mar 2026, Shop wrote:</div>\
         <blockquote class=\"gmail_quote\" style=\"margin:0\">Your parcel 1Z999AA10123456784 \
         has shipped.<blockquote>older <b>nested</b> quote</blockquote> still quoted</blockquote></div>",
    ));
    assert!(parsed.readable.contains("Pegasus 41"));
    assert!(
        !parsed.readable.contains("1Z999AA10123456784"),
        "{}",
        parsed.readable
    );
    assert!(
        !parsed.readable.contains("still quoted"),
        "{}",
        parsed.readable
    );
    assert!(
        parsed.full_text.contains("1Z999AA10123456784"),
        "the whole text keeps the quote for the reviewer"
    );
}

#[test]
fn apple_mail_and_yahoo_quotes_are_stripped_from_html_mail() {
    let apple = parse(&html_message(
        "<div>Where is my refund?</div><div><br><blockquote type=\"cite\">\
         <div>Order 5521 was cancelled.</div></blockquote></div>",
    ));
    assert!(apple.readable.contains("Where is my refund?"));
    assert!(!apple.readable.contains("5521"), "{}", apple.readable);

    let yahoo = parse(&html_message(
        "<div>Still no parcel.</div><div class=\"yahoo_quoted\"><div>Thanks for your \
         order of Clifton 9</div></div>",
    ));
    assert!(yahoo.readable.contains("Still no parcel."));
    assert!(!yahoo.readable.contains("Clifton"), "{}", yahoo.readable);
}

#[test]
fn outlook_drops_everything_after_its_reply_header() {
    let parsed = parse(&html_message(
        "<p class=\"MsoNormal\">Please cancel order 4471.</p><div id=\"appendonsend\"></div>\
         <hr><div id=\"divRplyFwdMsg\"><b>From:</b> Shop<br><b>Sent:</b> Monday</div>\
         <div>Your tracking number is 9400111899223344556677</div>",
    ));
    assert!(parsed.readable.contains("cancel order 4471"));
    assert!(
        !parsed.readable.contains("9400111899223344556677"),
        "{}",
        parsed.readable
    );
}

#[test]
fn a_forwarded_message_in_html_mail_is_kept() {
    let parsed = parse(&html_message(
        "<div>See below, it never came.</div><div class=\"gmail_quote\">\
         ---------- Forwarded message ---------<br>From: UPS<br>\
         Tracking 1Z999AA10123456784 is delayed.</div>",
    ));
    assert!(
        parsed.readable.contains("1Z999AA10123456784"),
        "{}",
        parsed.readable
    );
}
