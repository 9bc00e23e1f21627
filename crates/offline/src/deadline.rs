//! Hard deadlines: the label definitions put an email whose customer has a fixed date
//! coming (a race this weekend, a trip on the 14th, "we need them by Friday") among those
//! a person sees first.
//!
//! Exact rules, not fitted: an event the customer is going to and when it is, in one
//! sentence that does not look back ("did my first race on Sunday"), or a need with a
//! date. Checked on the training corpus (docs/triage-model.md): about nine in ten emails
//! they find are labelled high or urgent there.

/// Events a customer buys for, in the languages a European shop receives.
const EVENTS: &[&str] = &[
    "race",
    "marathon",
    "meet",
    "competition",
    "event",
    "wedding",
    "trip",
    "holiday",
    "vacation",
    "tournament",
    "match",
    "final",
    "finals",
    "parkrun",
    "hike",
    "ultra",
    "triathlon",
    "10k",
    "5k",
    "lauf",
    "wettkampf",
    "hochzeit",
    "urlaub",
    "reise",
    "turnier",
    "course",
    "compétition",
    "mariage",
    "voyage",
    "vacances",
    "tournoi",
    "carrera",
    "maratón",
    "competición",
    "boda",
    "viaje",
    "vacaciones",
    "torneo",
];

/// Days a date can be named by, after "this", "next", "on", "by" and their kin.
const DAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "weekend",
];

/// Words that name a near day by themselves.
const NEAR_DAYS: &[&str] = &[
    "today",
    "tonight",
    "tomorrow",
    "morgen",
    "heute",
    "wochenende",
    "samstag",
    "sonntag",
    "demain",
    "aujourd'hui",
    "samedi",
    "dimanche",
    "week-end",
    "mañana",
    "hoy",
    "sábado",
    "domingo",
];

/// Words before a day that make it a date to come: "this Saturday", "by Friday".
const BEFORE_A_DAY: &[&str] = &[
    "this", "next", "on", "by", "until", "before", "coming", "is",
];

/// Words that look back: the event is over ("ran my first race on Sunday").
const LOOKING_BACK: &[&str] = &[
    "did",
    "ran",
    "went",
    "finished",
    "completed",
    "yesterday",
    "ago",
];

/// Needs with a date: "need them by Friday", "needed before the 14th".
const NEEDS: &[&str] = &["need", "needed", "needs", "brauche", "besoin", "necesito"];

/// Event words that are also everyday words ("of course", "doesn't match", "in the
/// event"): they name an event only after a determiner ("my race", "the meet").
const AMBIGUOUS_EVENTS: &[&str] = &["course", "match", "final", "meet", "event"];

/// Words that make an ambiguous event word a noun: "our meet", "the final".
const DETERMINERS: &[&str] = &[
    "my", "our", "his", "her", "their", "the", "a", "track", "swim", "school", "club", "ma", "la",
    "le", "mon", "notre", "une", "mi", "el", "nuestra", "mein", "meine", "der", "die", "das",
    "unser", "unsere",
];

/// Whether the customer's words (lower case) name a hard deadline.
pub fn hard_deadline(lower: &str) -> bool {
    lower
        .split(['.', '!', '?', '\n', ';'])
        .any(sentence_has_deadline)
}

fn sentence_has_deadline(sentence: &str) -> bool {
    let words: Vec<&str> = sentence
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let deadline_named = words
        .iter()
        .enumerate()
        .any(|(i, w)| *w == "deadline" && !(i > 0 && matches!(words[i - 1], "no" | "without")));
    let needed_by = words.iter().enumerate().any(|(i, w)| {
        NEEDS.contains(w) && (i + 1..(i + 6).min(words.len())).any(|j| names_a_near_date(&words, j))
    });
    if deadline_named || needed_by {
        return true;
    }
    // An event with a date, unless the sentence looks back at it.
    if words.iter().any(|w| LOOKING_BACK.contains(w)) {
        return false;
    }
    let event = words.iter().enumerate().any(|(i, w)| {
        let before = i.checked_sub(1).map_or("", |b| words[b]);
        EVENTS.contains(w)
            && (!AMBIGUOUS_EVENTS.contains(w) || DETERMINERS.contains(&before))
            // A bank holiday is the carrier's calendar, not the customer's plan.
            && !(*w == "holiday" && matches!(before, "bank" | "public"))
    });
    event && (0..words.len()).any(|i| names_a_near_date(&words, i))
}

/// Whether `words[i]` starts a near date: "tomorrow", "this Saturday", "on the 14th".
fn names_a_near_date(words: &[&str], i: usize) -> bool {
    let word = words[i];
    let next = words.get(i + 1).copied().unwrap_or("");
    // "Guten Morgen" is a greeting, not tomorrow.
    let greeting = word == "morgen" && i > 0 && words[i - 1] == "guten";
    (NEAR_DAYS.contains(&word) && !greeting)
        || (BEFORE_A_DAY.contains(&word) && DAYS.contains(&next))
        || (BEFORE_A_DAY.contains(&word)
            && next == "the"
            && words.get(i + 2).is_some_and(|w| is_ordinal(w)))
}

/// `14th`, `1st`, `22nd`, `3rd`.
fn is_ordinal(word: &str) -> bool {
    let digits = word.trim_end_matches(|c: char| c.is_alphabetic());
    let suffix = &word[digits.len()..];
    !digits.is_empty()
        && digits.len() <= 2
        && digits.chars().all(|c| c.is_ascii_digit())
        && matches!(suffix, "st" | "nd" | "rd" | "th")
}
