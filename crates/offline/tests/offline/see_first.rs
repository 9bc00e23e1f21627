//! The label definitions' see-first cases as customers of a European shop write them:
//! repeated asking, bank and payment disputes, consumer bodies, scams and shouting, in
//! their own words and languages, and the look-alikes that are none of these.

use deskhand_core::Urgency;
use deskhand_offline::{classify_text, safety_floor, see_first_floor, TriageModel};

#[test]
fn consumer_bodies_lawyers_and_scams_make_an_email_urgent_in_any_language() {
    for (text, reason) in [
        (
            "Je me suis renseignée auprès de l'UFC-Que Choisir.",
            "legal threat",
        ),
        (
            "Annars gör jag en anmälan till Allmänna reklamationsnämnden.",
            "legal threat",
        ),
        ("I will take this to Citizens Advice.", "legal threat"),
        ("Mijn advocaat neemt contact met u op.", "legal threat"),
        (
            "There is a charge on my card I don't recognise.",
            "fraud or unauthorised charge",
        ),
        (
            "I got a scam text quoting my order number.",
            "fraud or unauthorised charge",
        ),
        (
            "Ci sono addebiti non miei, è una truffa.",
            "fraud or unauthorised charge",
        ),
        (
            "My son needed stitches after the sole came off.",
            "injury or safety",
        ),
        (
            "The heel cracked and I twisted my ankle.",
            "injury or safety",
        ),
        (
            "La suela se despegó y me caí en el asfalto.",
            "injury or safety",
        ),
        ("Sans réponse, je saisirai la CNIL.", "legal threat"),
        (
            "Die Lieferadresse wurde geändert. Das war ich nicht.",
            "fraud or unauthorised charge",
        ),
    ] {
        assert_eq!(safety_floor(text), Some(reason), "{text}");
    }
    for text in [
        "We are a clinic for running injuries and would like to partner.",
        "Is the Pegasus 41 in stock in a 10?",
        "Thank you, I recognise the charge now, it was my husband.",
    ] {
        assert_ne!(
            safety_floor(text),
            Some("legal threat"),
            "{text} threatens no one"
        );
    }
}

#[test]
fn repeated_asking_disputes_and_wrong_goods_are_seen_first_in_the_customers_words() {
    for (text, reason) in [
        (
            "Ich habe Ihnen schon wieder geschrieben, bisher ohne Antwort.",
            "repeated asking",
        ),
        (
            "This is my fourth email about order 4471.",
            "repeated asking",
        ),
        ("C'est la deuxième fois que j'écris.", "repeated asking"),
        (
            "Reclamei duas vezes e continuo sem resposta.",
            "repeated asking",
        ),
        (
            "Om jag inte hör något bestrider jag betalningen hos Klarna.",
            "chargeback or bank threat",
        ),
        (
            "I have opened a dispute with PayPal.",
            "chargeback or bank threat",
        ),
        ("Anders ga ik naar mijn bank.", "chargeback or bank threat"),
        (
            "I'll be posting about this in our running club's Facebook group.",
            "threat to go public",
        ),
        (
            "The box had the wrong item in it.",
            "wrong, missing or defective goods",
        ),
        (
            "The socks were missing from the parcel.",
            "wrong, missing or defective goods",
        ),
        (
            "Please call me today, 07700 900781.",
            "asks for an answer now",
        ),
    ] {
        assert_eq!(see_first_floor(text), Some(reason), "{text}");
    }
    for text in [
        "Es la tercera vez que les compro y siempre llega todo perfecto.",
        "I saw your ad on Facebook, do you ship to Ireland?",
        "Could you post it on Monday instead of Friday?",
        "Sorted it with PayPal myself, thanks.",
        "My last pair from another shop fell apart after four months.",
        "Guten Tag, sind die Größen 41, 42 und 44 sofort lieferbar?",
    ] {
        assert_eq!(see_first_floor(text), None, "{text}");
    }
}

#[test]
fn a_shouted_email_is_seen_first_but_a_shouted_subject_alone_is_not() {
    let model = TriageModel::shipped().expect("the shipped model loads");
    let shouted = classify_text(
        "GREY SHOE",
        "WHY IS EVERYTHING NEON YELLOW THIS SEASON. I WANT A PLAIN GREY RUNNING SHOE. DO YOU HAVE ANYTHING IN A 11?",
        &model,
    );
    assert!(shouted.urgency >= Urgency::High, "{:?}", shouted.urgency);
    let calm = classify_text(
        "ORDER 4471 - PEGASUS 41",
        "Hello, do you have the Pegasus 41 in a 10? Any colour is fine. Thanks",
        &model,
    );
    assert!(calm.urgency < Urgency::High, "{:?}", calm.urgency);
}
