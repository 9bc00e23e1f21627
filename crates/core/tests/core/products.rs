//! Product questions through the graph: the item asked for offered alone when it can be
//! had, every size and colour named, the alternatives marked, and a recommendation
//! answered with what is in stock.

use crate::graph::{classified, product, run, Scripted, Shop};
use deskhand_core::product::{ProductCandidate, ProductQuery};
use deskhand_core::*;
use time::macros::date;

fn colour(mut product: ProductCandidate, color: &str) -> ProductCandidate {
    product.color = color.into();
    product
}

fn offered(draft: &Draft) -> (Vec<i64>, Vec<i64>) {
    let mut requested = Vec::new();
    let mut alternatives = Vec::new();
    for observation in draft
        .observations
        .iter()
        .filter(|o| o.source == "inventory")
    {
        let id = observation.data["product_id"].as_i64().unwrap();
        if observation.data["alternative"] == serde_json::json!(true) {
            alternatives.push(id);
        } else {
            requested.push(id);
        }
    }
    (requested, alternatives)
}

/// A product question whose extracted query is `query`, against a shop of `products`.
fn ask(query: ProductQuery, products: Vec<ProductCandidate>, body: &str) -> Draft {
    let question = classified(Topic::ProductAvailabilityOrRecommendation, Urgency::Low);
    ask_classified(question, query, products, body)
}

/// An email classified `as_classified` whose extracted query is `query`.
fn ask_classified(
    as_classified: deskhand_core::ports::Classified,
    query: ProductQuery,
    products: Vec<ProductCandidate>,
    body: &str,
) -> Draft {
    let engine = Scripted {
        classified: Ok(as_classified),
        query,
        reply_body: None,
        reply_subject: None,
    };
    let mut shop = Shop::default();
    shop.products = products;
    run(engine, shop, body).draft
}

fn ask_for_black_pegasus(products: Vec<ProductCandidate>) -> Draft {
    let query = ProductQuery {
        brand: Some("Nike".into()),
        model_words: vec!["pegasus".into()],
        size: Some(9.5),
        color: Some("Black".into()),
        ..ProductQuery::default()
    };
    ask(
        query,
        products,
        "Is the Pegasus 41 in black, size 9.5 available?",
    )
}

#[test]
fn the_item_asked_for_is_offered_alone_when_it_is_in_stock() {
    let draft = ask_for_black_pegasus(vec![
        product(1, 4, None),
        colour(product(2, 9, None), "White"),
        colour(product(3, 2, None), "Blue"),
    ]);
    assert_eq!(offered(&draft), (vec![1], vec![]));
    let body = draft.reply.unwrap().body;
    assert!(body.contains("Black"), "{body}");
    assert!(!body.contains("White"), "nothing else is offered: {body}");
}

fn sized(mut product: ProductCandidate, size: f64) -> ProductCandidate {
    product.size = size;
    product
}

#[test]
fn a_size_converted_from_eu_is_matched_exactly_and_its_neighbours_are_other_sizes() {
    // EU 44 converts to US 10.5.
    let query = ProductQuery {
        brand: Some("Nike".into()),
        model_words: vec!["pegasus".into()],
        size: Some(10.5),
        color: Some("Black".into()),
        ..ProductQuery::default()
    };
    let shop = || {
        vec![
            sized(product(1, 3, None), 10.0),
            sized(product(2, 5, None), 10.5),
            sized(product(3, 2, None), 11.0),
        ]
    };
    let body = "Haben Sie den Pegasus 41 in Schwarz in Größe 44?";
    let draft = ask(query.clone(), shop(), body);
    assert_eq!(offered(&draft), (vec![2], vec![]));

    // The converted size sold out: that is the answer, not a neighbour half a size off
    // sent as if it were the size asked for (nor offered: it is not their size).
    let mut sold_out = shop();
    sold_out[1].quantity = 0;
    let draft = ask(query, sold_out, body);
    assert_eq!(offered(&draft), (vec![2], vec![]));
    let reply = draft.reply.expect("a reply").body;
    assert!(reply.contains("out of stock"), "{reply}");
}

#[test]
fn each_size_the_customer_would_take_is_offered_and_no_other() {
    let query = ProductQuery {
        brand: Some("Nike".into()),
        model_words: vec!["pegasus".into()],
        size: Some(10.0),
        other_sizes: vec![10.5],
        color: Some("Black".into()),
        ..ProductQuery::default()
    };
    let draft = ask(
        query,
        vec![
            sized(product(1, 3, None), 10.0),
            sized(product(2, 5, None), 10.5),
            sized(product(3, 2, None), 11.0),
        ],
        "I'm between a 10 and a 10.5 in the black Pegasus 41, which do you have?",
    );
    assert_eq!(offered(&draft), (vec![1, 2], vec![]));
}

#[test]
fn an_unavailable_item_is_named_and_at_most_three_alternatives_are_marked() {
    let draft = ask_for_black_pegasus(vec![
        product(1, 0, None),
        colour(product(2, 9, None), "White"),
        colour(product(3, 2, None), "Blue"),
        colour(product(4, 1, None), "Red"),
        colour(product(5, 3, None), "Green"),
    ]);
    let (requested, alternatives) = offered(&draft);
    assert_eq!(requested, [1], "what was asked for is reported, sold out");
    assert_eq!(alternatives.len(), 3, "{alternatives:?}");
    assert!(
        !alternatives.contains(&1),
        "the sold-out item is no alternative to itself"
    );
    let body = draft.reply.unwrap().body;
    assert!(
        body.contains("out of stock, and no restock is scheduled"),
        "{body}"
    );
    assert!(body.contains("alternatives"), "{body}");
}

fn named(mut product: ProductCandidate, name: &str) -> ProductCandidate {
    product.name = name.into();
    product.model = name.into();
    product
}

#[test]
fn each_item_an_email_lists_is_looked_up_with_its_own_size() {
    // "1) the Pegasus in a 10 2) the Ghost for my daughter, a 6.5": one reply, both items.
    let pegasus = |id, size| sized(named(product(id, 3, None), "Pegasus 41"), size);
    let ghost = |id, size| {
        let mut row = sized(named(product(id, 2, None), "Ghost 16"), size);
        row.brand = "Brooks".into();
        row
    };
    let query = ProductQuery {
        model_words: vec!["pegasus".into()],
        size: Some(10.0),
        also: vec![ProductQuery {
            model_words: vec!["ghost".into()],
            size: Some(6.5),
            ..ProductQuery::default()
        }],
        ..ProductQuery::default()
    };
    let draft = ask(
        query,
        vec![
            pegasus(1, 10.0),
            pegasus(2, 6.5),
            ghost(3, 6.5),
            ghost(4, 10.0),
        ],
        "1) Pegasus 41, size 10 2) Ghost 16, size 6.5",
    );
    assert_eq!(offered(&draft), (vec![1, 3], vec![]));
}

#[test]
fn every_row_of_what_was_named_is_answered_the_ones_to_be_had_first() {
    // "Black or blue": black sold out, blue in stock; both are what was asked for.
    let query = ProductQuery {
        brand: Some("Nike".into()),
        model_words: vec!["pegasus".into()],
        size: Some(9.5),
        color: Some("Black".into()),
        other_colors: vec!["Blue".into()],
        ..ProductQuery::default()
    };
    let draft = ask(
        query,
        vec![
            product(1, 0, None),
            colour(product(2, 3, None), "Blue"),
            colour(product(3, 5, None), "White"),
        ],
        "Pegasus 41 in black or blue, size 9.5?",
    );
    assert_eq!(
        offered(&draft),
        (vec![2, 1], vec![]),
        "in stock first, no alternatives"
    );
    let body = draft.reply.unwrap().body;
    assert!(
        body.contains("Blue") && body.contains("out of stock"),
        "{body}"
    );
    assert!(!body.contains("White"), "{body}");
}

#[test]
fn the_plain_model_is_not_its_variant_nobody_named_and_a_missing_version_is_not_another() {
    let speedcross = |version: &str| ProductQuery {
        model_words: vec!["speedcross".into()],
        model_numbers: vec![format!("speedcross {version}")],
        size: Some(9.5),
        ..ProductQuery::default()
    };
    let shop = || {
        vec![
            named(product(1, 0, None), "Speedcross 6"),
            named(
                product(2, 4, Some((time::macros::date!(2026 - 04 - 01), 3))),
                "Speedcross 6",
            ),
            named(product(3, 2, None), "Speedcross 6 GTX"),
            named(product(4, 2, None), "Speedcross 5"),
        ]
    };
    let draft = ask(speedcross("6"), shop(), "Speedcross 6 in 9.5?");
    assert_eq!(offered(&draft).0, [2, 1], "the GTX was not asked for");

    let mut gtx = speedcross("6");
    gtx.model_words.push("gtx".into());
    let draft = ask(gtx, shop(), "Speedcross 6 GTX in 9.5?");
    assert_eq!(offered(&draft).0, [3]);

    // The Speedcross 7 is not in the catalog: the 6 is an alternative, not the item.
    let draft = ask(
        speedcross("7"),
        shop(),
        "Is the Speedcross 7 out yet, in 9.5?",
    );
    let (requested, alternatives) = offered(&draft);
    assert!(requested.is_empty(), "{requested:?}");
    assert!(!alternatives.is_empty());
}

#[test]
fn the_product_flow_reports_stock_incoming_deliveries_or_neither() {
    let query = ProductQuery {
        brand: Some("Nike".into()),
        size: Some(9.5),
        ..ProductQuery::default()
    };
    let with = |products: Vec<ProductCandidate>| ask(query.clone(), products, "Pegasus in 9.5?");
    let in_stock = with(vec![product(1, 4, None)]);
    assert!(in_stock.reply.unwrap().body.contains("4 in stock"));
    let incoming = with(vec![product(1, 0, Some((date!(2026 - 03 - 20), 20)))]);
    assert!(incoming
        .reply
        .unwrap()
        .body
        .contains("20 more expected on 2026-03-20"));
    let neither = with(vec![product(1, 0, None)]);
    assert!(neither
        .reply
        .unwrap()
        .body
        .contains("no restock is scheduled"));
    let nothing = with(vec![]);
    assert!(nothing.reply.unwrap().body.contains("could not find"));
}

#[test]
fn a_recommendation_offers_what_is_in_stock_and_not_a_sold_out_shoe_that_fits_the_need() {
    let query = ProductQuery {
        size: Some(9.5),
        use_words: vec!["walking".into()],
        ..ProductQuery::default()
    };
    let walking = |mut p: ProductCandidate| {
        p.description = "Cushioned walking shoe".into();
        p
    };
    let draft = ask(
        query.clone(),
        vec![walking(product(1, 3, None)), walking(product(2, 0, None))],
        "something comfy for walking, size 9.5?",
    );
    assert_eq!(offered(&draft), (vec![1], vec![]));
    // With nothing in stock, what arrives later is still said.
    let draft = ask(
        query,
        vec![
            walking(product(1, 0, Some((date!(2026 - 03 - 20), 5)))),
            walking(product(2, 0, None)),
        ],
        "something comfy for walking, size 9.5?",
    );
    assert_eq!(offered(&draft).0, vec![1]);
    // A sold-out shoe that fits the need better does not push out one that can be bought.
    let mut better_fit = walking(product(2, 0, None));
    better_fit.description = "Cushioned walking shoe for all-day standing".into();
    let draft = ask(
        ProductQuery {
            size: Some(9.5),
            use_words: vec!["walking".into(), "standing".into()],
            ..ProductQuery::default()
        },
        vec![walking(product(1, 3, None)), better_fit],
        "something for walking and standing all day, size 9.5?",
    );
    assert_eq!(offered(&draft), (vec![1], vec![]));
}

/// Several requests in one email, whose product query is `query`.
fn several_requests(query: ProductQuery, products: Vec<ProductCandidate>, body: &str) -> Draft {
    let mut several = classified(Topic::Other, Urgency::Medium);
    several.multiple_requests = true;
    ask_classified(several, query, products, body)
}

#[test]
fn among_several_requests_a_stock_question_gets_the_stock_and_an_order_naming_its_goods_does_not() {
    let pegasus = ProductQuery {
        model_words: vec!["pegasus".into()],
        size: Some(9.5),
        ..ProductQuery::default()
    };
    let asked = several_requests(
        pegasus.clone(),
        vec![product(1, 3, None)],
        "My order 4471 is late. Also, do you have the Pegasus 41 in a 9.5?",
    );
    assert_eq!(asked.route, Route::Escalate);
    assert_eq!(offered(&asked).0, vec![1], "the reviewer sees the stock");
    let named_only = several_requests(
        pegasus,
        vec![product(1, 3, None)],
        "My order 4471 (Pegasus 41 + socks) is late, and you charged me twice for it.",
    );
    assert_eq!(
        offered(&named_only),
        (vec![], vec![]),
        "what was bought is not offered again"
    );
}

#[test]
fn a_need_is_answered_by_name_and_material_too_and_a_variant_is_no_stranger_to_it() {
    // "Something waterproof, size 9.5": the GTX row of a model whose plain row is also in
    // stock is what fits; its name and material say it is waterproof.
    let mut gtx = named(product(1, 2, None), "Pegasus 41 GTX");
    gtx.material = "Gore-Tex Mesh".into();
    let plain = product(2, 4, None);
    let draft = ask(
        ProductQuery {
            size: Some(9.5),
            use_words: vec!["waterproof".into()],
            ..ProductQuery::default()
        },
        vec![gtx, plain],
        "Do you have something waterproof in a 9.5?",
    );
    assert_eq!(offered(&draft), (vec![1], vec![]));
}

#[test]
fn the_kind_of_item_alone_names_no_model_and_a_bare_need_without_a_size_looks_nothing_up() {
    let kind = ProductQuery {
        model_words: vec!["insoles".into()],
        use_words: vec!["flat feet".into()],
        ..ProductQuery::default()
    };
    assert!(!kind.names_a_model());
    let draft = ask(
        kind,
        vec![named(product(1, 3, None), "Run Support Insoles")],
        "do you sell insoles for flat feet? or just shoes",
    );
    assert_eq!(offered(&draft), (vec![], vec![]));
    assert!(
        draft
            .observations
            .iter()
            .any(|o| o.text.contains("without a size; nothing looked up")),
        "{:?}",
        draft.observations
    );
    assert!(ProductQuery {
        model_words: vec!["bondi".into()],
        ..ProductQuery::default()
    }
    .names_a_model());
}

#[test]
fn stock_questions_are_told_from_goods_named_in_passing_in_several_languages() {
    use deskhand_core::product::asks_about_stock;
    for asking in [
        "Do you have the Bondi 8 in an 11?",
        "is the Ghost 16 still available",
        "do u have clifton 9 in 10.5",
        "Haben Sie den Ghost 16 GTX in Größe 44?",
        "¿Tienen las Speedcross 6 en la 44?",
        "Avez-vous les Cloudflyer 4 en 41 ?",
        "Which one would you recommend?",
    ] {
        assert!(asks_about_stock(asking), "{asking}");
    }
    for passing in [
        "My order 9921 (Novablast 5 + socks) was due last Tuesday.",
        "The Clifton 9 I bought split after two weeks.",
        "We'll be back for more when the new starters come in.",
    ] {
        assert!(!asks_about_stock(passing), "{passing}");
    }
}
