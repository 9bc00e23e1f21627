//! Product questions as online shoppers write them: a product page's title pasted in, a
//! link, two models weighed, sizes listed in EU, two-tone colours, and a second request
//! after an "also".

use deskhand_core::product::{CatalogVocabulary, ProductQuery};
use deskhand_core::Topic;
use deskhand_offline::{classify_text, extract_product_query, TriageModel};

fn catalog() -> CatalogVocabulary {
    CatalogVocabulary {
        brands: vec![
            "Brooks".into(),
            "Asics".into(),
            "Nike".into(),
            "Saucony".into(),
            "Hoka".into(),
        ],
        models: vec![
            "Ghost 16".into(),
            "Ghost 16 GTX".into(),
            "Adrenaline GTS 24".into(),
            "Gel-Kayano 31".into(),
            "Pegasus 41".into(),
            "Ride 17".into(),
            "Triumph 22".into(),
            "Glycerin 21".into(),
            "Bondi 8".into(),
            "Clifton 9".into(),
        ],
        colors: vec![
            "Black".into(),
            "Grey".into(),
            "Grey Black".into(),
            "Black Red".into(),
            "Navy Blue".into(),
        ],
        materials: vec![
            "Mesh".into(),
            "Gore-Tex Mesh".into(),
            "Gore-Tex Leather".into(),
        ],
        widths: vec!["D".into(), "2E".into(), "4E".into()],
    }
}

fn query(text: &str) -> ProductQuery {
    extract_product_query(text, &catalog())
}

#[test]
fn a_pasted_product_title_gives_its_size_width_and_two_tone_colour_not_the_version_as_a_size() {
    let asked =
        query("Brooks Ghost 16 Men's Running Shoes - Grey/Black - 10.5 D\n\nis this coming back?");
    assert_eq!(
        asked.size,
        Some(10.5),
        "16 is the Ghost's version: {asked:?}"
    );
    assert_eq!(asked.width.as_deref(), Some("D"));
    assert_eq!(asked.color.as_deref(), Some("Grey Black"));
    assert_eq!(asked.model_numbers, ["ghost 16"]);
    // Written out, the same reading.
    let asked = query("Asics Gel-Kayano 31 Mens | Black-Red | UK 9.5, normal width");
    assert_eq!(asked.size, Some(10.0));
    assert_eq!(asked.width.as_deref(), Some("D"));
    assert_eq!(asked.color.as_deref(), Some("Black Red"));
}

#[test]
fn a_pasted_link_is_read_for_its_model_size_and_width() {
    let asked = query(".../collections/brooks/products/adrenaline-gts-24-mens?size=9.5&width=wide\n\nthis says out of stock, will it be restocked?");
    assert!(
        asked.model_words.contains(&"adrenaline".to_owned()),
        "{asked:?}"
    );
    assert_eq!(asked.size, Some(9.5));
    assert_eq!(asked.width.as_deref(), Some("2E"));
    // A slash between digits is still a fraction.
    assert_eq!(query("the Ride 17 in 9 1/2 please").size, Some(9.5));
}

#[test]
fn two_models_weighed_are_both_asked_for_each_with_its_own_brand() {
    let between = query("I'm torn between the Asics Gel-Kayano 31 and the Brooks Adrenaline GTS 24. Which one do you have in an 11 wide?");
    let items = between.items();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].brand.as_deref(), Some("Asics"));
    assert_eq!(items[1].brand.as_deref(), Some("Brooks"));
    assert!(items
        .iter()
        .all(|i| i.size == Some(11.0) && i.width.as_deref() == Some("2E")));

    // The side that names no brand takes none: the Ghost is no Nike.
    let either = query("Pegasus 41 or Ghost 16 in wide\n\nDo you have the Nike Pegasus 41 or the Brooks Ghost 16 in 8.5 wide?");
    let items = either.items();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|i| i.brand.as_deref() != Some("Nike") || i.model_words == ["pegasus"]),
        "{items:?}"
    );

    // A half size at the end of the sentence stays a half size on both sides.
    let items = query("Looking for either the Saucony Triumph 22 or the Brooks Glycerin 21 in grey, size 9.5. Either would do.").items();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i.size == Some(9.5)), "{items:?}");
}

#[test]
fn every_eu_size_of_a_list_is_read() {
    let asked = query(
        "we'd like the Saucony Ride 17 in EU 41, EU 42 and EU 44. Normal width for all three.",
    );
    assert_eq!(asked.size, Some(7.5));
    assert_eq!(asked.other_sizes, [8.5, 10.5]);
}

#[test]
fn the_waterproof_version_is_asked_by_its_name_and_a_waterproof_need_ranks_by_it() {
    // "the normal mesh one" is what they do not want: no material narrows the GTX rows.
    let version = query("Is the Gore-Tex version of the Ghost 16 available in size 10.5? I can only see the normal mesh one.");
    assert!(version.model_words.contains(&"gtx".to_owned()));
    assert_eq!(version.material, None);
    // A need in German is the catalog's "waterproof", not a model.
    let need = query("ich suche einen wasserdichten Trailschuh, Größe EU 43");
    assert!(need.model_words.is_empty(), "{need:?}");
    assert!(
        need.use_words.contains(&"waterproof".to_owned()),
        "{need:?}"
    );
}

#[test]
fn a_second_request_after_an_also_makes_an_email_of_several_requests() {
    let model = TriageModel::shipped().unwrap();
    let two = classify_text(
        "Order 77230",
        "Hi, my order 77230 still hasn't arrived and the tracking has not moved since Monday. Where is it?\n\nAlso, my bank statement shows I was charged twice for it. Can you refund one of the two charges?\n\nThanks, Simon",
        &model,
    );
    assert!(two.multiple_requests, "{two:?}");
    assert_eq!(two.topic, Topic::Other);
    // "Also" inside one complaint adds to it.
    let one = classify_text(
        "Late parcel",
        "My order 4471 was due last Tuesday and still has not arrived.\n\nAlso, the tracking has not moved in five days. Where is it?",
        &model,
    );
    assert!(!one.multiple_requests, "{one:?}");
    assert_eq!(one.topic, Topic::DeliveryDelay);
}
