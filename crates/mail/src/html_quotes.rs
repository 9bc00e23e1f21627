//! Quoted earlier messages in HTML mail. Mail clients mark them with markup rather than
//! `>`: `<blockquote>` (Apple Mail, Thunderbird, most webmail), Gmail's
//! `<div class="gmail_quote">`, Yahoo's `<div class="yahoo_quoted">`, and Outlook, which
//! appends the old message after a reply header (`divRplyFwdMsg`, `appendonsend`, a top
//! border). Once turned into text those quotes look like the customer's own words, so they
//! go before the conversion. Forwarded messages stay: customers forward carrier notices on
//! purpose.

/// What to do with a quote container found at a tag.
enum Quote {
    /// Drop the element and everything inside it.
    Element(&'static str),
    /// Drop everything from here to the end of the body.
    Rest,
}

fn attribute_mentions(tag: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| tag.contains(n))
}

/// Classifies an opening tag (lower case, `<` to `>`).
fn quote_at(tag: &str) -> Option<Quote> {
    if tag.starts_with("<blockquote")
        && (tag.len() == 11 || !tag.as_bytes()[11].is_ascii_alphanumeric())
    {
        return Some(Quote::Element("blockquote"));
    }
    if tag.starts_with("<div") {
        if attribute_mentions(
            tag,
            &["gmail_quote", "yahoo_quoted", "moz-forward-container"],
        ) && !tag.contains("gmail_quote_attribution")
        {
            return Some(Quote::Element("div"));
        }
        if attribute_mentions(
            tag,
            &[
                "divrplyfwdmsg",
                "appendonsend",
                "border-top:solid #e1e1e1",
                "border-top: solid #e1e1e1",
                "border-top:solid #b5c4df",
            ],
        ) {
            return Some(Quote::Rest);
        }
    }
    if tag.starts_with("<hr") && tag.contains("stopspelling") {
        return Some(Quote::Rest);
    }
    None
}

/// The next tag at or after `at`: where its `<` is and the index after its `>` (the end of
/// the text for a tag that never closes).
fn next_tag(lower: &str, at: usize) -> Option<(usize, usize)> {
    let start = at + lower[at..].find('<')?;
    let end = lower[start..]
        .find('>')
        .map_or(lower.len(), |e| start + e + 1);
    Some((start, end))
}

/// Where the element opened at `start` closes (the index after its closing tag), counting
/// nested elements of the same name; the end of the text when it never closes.
fn element_end(lower: &str, start: usize, name: &str) -> usize {
    let open = format!("<{name}");
    let close = format!("</{name}");
    let mut depth = 0usize;
    let mut at = start;
    while let Some((tag_start, tag_end)) = next_tag(lower, at) {
        let tag = &lower[tag_start..tag_end];
        let boundary = |prefix: &str| {
            tag.starts_with(prefix)
                && tag[prefix.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_ascii_alphanumeric())
        };
        if boundary(&close) {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return tag_end;
            }
        } else if boundary(&open) {
            depth += 1;
        }
        at = tag_end;
    }
    lower.len()
}

/// A quote that is really a forward, which the customer meant us to read.
fn is_forward(text_around: &str) -> bool {
    [
        "forwarded message",
        "begin forwarded message",
        "weitergeleitete nachricht",
        "message transféré",
        "mensaje reenviado",
        "messaggio inoltrato",
    ]
    .iter()
    .any(|marker| text_around.contains(marker))
}

/// The HTML without quoted earlier messages.
pub fn strip_html_quotes(html: &str) -> String {
    // Markup is ASCII; ASCII-only lower-casing keeps every byte offset valid in `html`.
    let lower = html.to_ascii_lowercase();
    strip(html, &lower)
}

fn strip(html: &str, lower: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut copied = 0;
    let mut at = 0;
    while let Some((tag_start, tag_end)) = next_tag(lower, at) {
        let tag = &lower[tag_start..tag_end];
        let Some(quote) = quote_at(tag) else {
            at = tag_end;
            continue;
        };
        let end = match quote {
            Quote::Element(name) => element_end(lower, tag_start, name),
            Quote::Rest => lower.len(),
        };
        // A forward announces itself just before the quote or at its top.
        let before_from = lower[..tag_start]
            .char_indices()
            .rev()
            .nth(300)
            .map_or(0, |(i, _)| i);
        let inside_to = lower[tag_start..end]
            .char_indices()
            .nth(600)
            .map_or(end, |(i, _)| tag_start + i);
        if is_forward(&lower[before_from..tag_start]) || is_forward(&lower[tag_start..inside_to]) {
            at = tag_end;
            continue;
        }
        out.push_str(&html[copied..tag_start]);
        copied = end;
        at = end;
    }
    out.push_str(&html[copied..]);
    out
}
