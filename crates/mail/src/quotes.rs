//! Finds what the customer wrote *this time*: drops quoted earlier replies, the reply
//! header above them, the signature and a company's legal footer. Forwarded messages are
//! kept, because customers forward carrier notices on purpose.

/// Returns the customer's own words from a plain-text body.
pub fn readable_text(full_text: &str) -> String {
    let lines: Vec<&str> = full_text.lines().collect();
    let mut kept: Vec<&str> = Vec::with_capacity(lines.len());
    let mut in_forward = false;
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if is_forward_marker(trimmed) {
            in_forward = true;
        }
        if trimmed.starts_with('>') {
            continue;
        }
        if !in_forward && starts_earlier_message(&lines, index) {
            break;
        }
        // A legal footer ("This e-mail may contain confidential information... any
        // unauthorised use...") is nobody's words: read as the customer's, its "legal"
        // and "unauthorised" would make a routine email urgent.
        if is_signature_start(line) || (!kept.is_empty() && is_legal_footer(trimmed)) {
            break;
        }
        kept.push(line.trim_end());
    }
    collapse_blank_lines(&kept)
}

fn is_forward_marker(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.contains("forwarded message") || lower.starts_with("begin forwarded message")
}

/// A reply header that introduces the quoted history: "On ... wrote:", Outlook's
/// "-----Original Message-----" or a "From:/Sent:" block, and common translations.
fn starts_earlier_message(lines: &[&str], index: usize) -> bool {
    let line = lines[index].trim();
    let lower = line.to_lowercase();
    if lower.contains("original message") && line.starts_with('-') {
        return true;
    }
    let wrote_marker = |text: &str| {
        let text = text.trim_end();
        text.ends_with("wrote:")
            || text.ends_with("a écrit :")
            || text.ends_with("a écrit:")
            || text.ends_with("schrieb:")
            || text.ends_with("escribió:")
            || text.ends_with("scritto:")
            || text.ends_with("schreef:")
    };
    let opens_reply_header = ["on ", "le ", "am ", "el ", "il ", "op "]
        .iter()
        .any(|prefix| lower.starts_with(prefix));
    if opens_reply_header {
        if wrote_marker(&lower) {
            return true;
        }
        // Mail clients wrap long "On <date>, <name> <address>\nwrote:" headers.
        if let Some(next) = lines.get(index + 1) {
            if wrote_marker(&next.to_lowercase()) && line.len() < 200 {
                return true;
            }
        }
    }
    // Outlook: an underscore rule, or a "From:" line followed by "Sent:"/"Date:".
    if line.len() >= 20 && line.chars().all(|c| c == '_') {
        return true;
    }
    if lower.starts_with("from:") {
        let window = lines.iter().skip(index + 1).take(3);
        let header_like = window
            .map(|next| next.trim().to_lowercase())
            .any(|next| next.starts_with("sent:") || next.starts_with("date:"));
        return header_like;
    }
    false
}

fn is_signature_start(line: &str) -> bool {
    if line == "-- " || line.trim() == "--" {
        return true;
    }
    let lower = line.trim().to_lowercase();
    // The phone's own sign-off, in the languages customers write in most.
    const MOBILE_SIGN_OFFS: &[&str] = &[
        "sent from my ",
        "get outlook for ",
        "sent from outlook",
        "sent via ",
        "von meinem iphone gesendet",
        "von meinem ipad gesendet",
        "gesendet von meinem ",
        "envoyé de mon ",
        "envoyé depuis mon ",
        "enviado desde mi ",
        "enviado do meu ",
        "inviato da ",
        "verzonden met ",
        "verstuurd vanaf mijn ",
        "wysłane z ",
        "skickat från min ",
    ];
    MOBILE_SIGN_OFFS.iter().any(|s| lower.starts_with(s))
}

/// The first line of a company's confidentiality footer, in the languages customers
/// write in most.
fn is_legal_footer(line: &str) -> bool {
    let lower = line
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    const FOOTER_OPENINGS: &[&str] = &[
        "disclaimer",
        "confidentiality notice",
        "confidentiality note",
        "important notice: this",
        "haftungsausschluss",
        "vertraulichkeitshinweis",
        "avis de confidentialité",
        "aviso de confidencialidad",
        "aviso legal",
    ];
    const FOOTER_WORDS: &[&str] = &[
        "intended recipient",
        "intended only for",
        "intended solely for",
        "may contain confidential",
        "legally privileged",
        "kann vertrauliche",
        "peut contenir des informations confidentielles",
        "puede contener información confidencial",
        "kan inneholde konfidensiell",
        "kan vertrouwelijke",
        "può contenere informazioni riservate",
    ];
    let about_this_mail = [
        "this e-mail",
        "this email",
        "this message",
        "diese e-mail",
        "ce message",
        "este mensaje",
        "denne e-posten",
        "deze e-mail",
        "questa e-mail",
    ]
    .iter()
    .any(|opening| lower.starts_with(opening));
    FOOTER_OPENINGS.iter().any(|o| lower.starts_with(o))
        || (about_this_mail && FOOTER_WORDS.iter().any(|w| lower.contains(w)))
}

fn collapse_blank_lines(lines: &[&str]) -> String {
    let mut out = String::new();
    let mut blank_run = 0;
    for line in lines {
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}
