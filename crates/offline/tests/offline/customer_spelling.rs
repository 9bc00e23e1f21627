//! Product questions as parents, team secretaries and people on their phones write them:
//! men's and women's sizes, order lines of pairs, sizes in words, names misspelled or
//! split, colours refused, and the colour said first.

use deskhand_core::product::CatalogVocabulary;
use deskhand_offline::extract_product_query;

fn catalog() -> CatalogVocabulary {
    CatalogVocabulary {
        brands: vec![
            "Hoka".into(),
            "Brooks".into(),
            "Adidas".into(),
            "Asics".into(),
            "Saucony".into(),
            "Nike".into(),
            "Altra".into(),
        ],
        models: vec![
            "Clifton 9".into(),
            "Bondi 8".into(),
            "Adrenaline GTS 24".into(),
            "Ultraboost Light".into(),
            "GT-2000 13".into(),
            "Ride 17".into(),
            "Vomero 18".into(),
            "Cloudmonster".into(),
        ],
        colors: vec![
            "Black".into(),
            "White".into(),
            "Grey".into(),
            "Pink".into(),
            "Orange".into(),
        ],
        materials: vec!["Mesh".into()],
        widths: vec!["D".into(), "2E".into()],
    }
}

fn sizes(text: &str) -> Vec<f64> {
    let query = extract_product_query(text, &catalog());
    query.size.into_iter().chain(query.other_sizes).collect()
}

#[test]
fn mens_and_womens_sizes_are_read_and_the_mens_size_wins_when_both_are_said() {
    assert_eq!(
        sizes("the wave rider in a narrow? mens 9. colour not important"),
        [9.0]
    );
    assert_eq!(sizes("men's size 10.5 please"), [10.5]);
    assert_eq!(
        sizes("a womens 9 which i think is a mens 7,5? any colour"),
        [7.5],
        "the catalog's men's size, as the customer worked it out"
    );
    assert_eq!(
        sizes("the clifton 9 in a womens 8.5"),
        [8.5],
        "a women's size alone is read as written"
    );
}

#[test]
fn every_size_on_the_lines_of_a_team_order_is_read() {
    assert_eq!(
        sizes("the Bondi 8, all in black:\n- 3 pairs in size 9\n- 2 pairs in size 10\n- 1 pair in size 11"),
        [9.0, 10.0, 11.0]
    );
    assert_eq!(
        sizes("Ride 17, colour doesn't matter:\n4 x size 8\n3 x size 8.5\n2 x size 9.5"),
        [8.0, 8.5, 9.5]
    );
    assert_eq!(
        sizes("all in white: size 7 x 1, size 8 x 2, size 10 x 1"),
        [7.0, 8.0, 10.0]
    );
    assert_eq!(
        sizes("je 2 Paar in den Größen 41, 42 und 44"),
        [7.5, 8.5, 10.5],
        "a list of European sizes"
    );
    assert_eq!(
        sizes("a size 9 and 2 pairs of socks"),
        [9.0],
        "a count of something else is no size"
    );
}

#[test]
fn a_size_and_a_half_in_digits_or_words_is_read() {
    assert_eq!(sizes("he's a 10 and a half now"), [10.5]);
    assert_eq!(sizes("size ten and a half"), [10.5]);
    assert_eq!(sizes("size ten, black"), [10.0]);
}

#[test]
fn misspelled_and_split_names_find_the_catalogs_model_and_brand() {
    let query = |text: &str| extract_product_query(text, &catalog());
    let cliffton = query("can i get cliffton 9 sz 11 wide");
    assert_eq!(cliffton.model_words, ["clifton"]);
    let brookes = query("my dad has worn the brookes adrenalin for years, size 9");
    assert_eq!(brookes.brand.as_deref(), Some("Brooks"));
    assert!(
        brookes.model_words.contains(&"adrenaline".to_owned()),
        "{brookes:?}"
    );
    let addidas = query("the addidas ultra boost in white, eu 44");
    assert_eq!(addidas.brand.as_deref(), Some("Adidas"));
    assert!(
        addidas.model_words.contains(&"ultraboost".to_owned()),
        "{addidas:?}"
    );
    let asic = query("do u have asic gt 2000 13 sz 12 2E?");
    assert_eq!(asic.brand.as_deref(), Some("Asics"));
    assert!(
        asic.model_words.contains(&"gt".to_owned()),
        "two letters said with the long number of GT-2000 name it: {asic:?}"
    );
    assert_eq!(
        query("saucany ride 17 in a 9").brand.as_deref(),
        Some("Saucony")
    );
    let monster = query("the on cloud monster in blk, uk 10");
    assert_eq!(monster.model_words, ["cloudmonster"]);
    for untouched in [
        "could you check my order, size 9",
        "mike said the ultra cushioned ones, size 9",
        "not sure the basics of running apply, size 9",
    ] {
        let query = query(untouched);
        assert_eq!(
            (query.brand, query.model_words),
            (None, Vec::<String>::new()),
            "{untouched}"
        );
    }
}

#[test]
fn a_refused_colour_is_no_colour_asked_for_and_the_first_colour_said_wins() {
    let colours = |text: &str| {
        let query = extract_product_query(text, &catalog());
        (query.color, query.not_colors)
    };
    assert_eq!(
        colours("the clifton 9 in a 10, any colour except pink pls"),
        (None, vec!["Pink".to_owned()])
    );
    assert_eq!(
        colours("ride 17, any colour but not the orange one"),
        (None, vec!["Orange".to_owned()])
    );
    assert_eq!(
        colours("I don't mind black or white, size 9"),
        (Some("Black".to_owned()), vec![])
    );
    assert_eq!(
        colours("does the Bondi 8 come in grey at all? black shows every speck"),
        (Some("Grey".to_owned()), vec![])
    );
}

#[test]
fn a_second_size_after_a_few_small_words_and_a_fallback_colour_are_read() {
    assert_eq!(
        sizes("the gt 2000 in blue. one is a size 8 and the other 8.5"),
        [8.0, 8.5]
    );
    let query = extract_product_query(
        "the clifton 9, uk 10.5. pink if you have it otherwise black",
        &catalog(),
    );
    assert_eq!(
        (query.color.as_deref(), query.other_colors),
        (Some("Pink"), vec!["Black".to_owned()])
    );
}

#[test]
fn two_models_weighed_against_each_other_are_both_asked_for_with_what_the_email_says() {
    let query = extract_product_query(
        "Hi, should I get the Clifton 9 or the Bondi 8? I'm a 10.5 wide, black please.",
        &catalog(),
    );
    assert_eq!(query.model_words, ["clifton"]);
    assert_eq!(query.also.len(), 1, "{query:?}");
    let other = &query.also[0];
    assert_eq!(other.model_words, ["bondi"]);
    assert_eq!(
        (other.size, other.width.as_deref(), other.color.as_deref()),
        (Some(10.5), Some("2E"), Some("Black"))
    );
    for one_model in [
        "the Clifton 9 or something like it, size 10",
        "the Clifton 9 in black or white, size 10",
    ] {
        assert!(
            extract_product_query(one_model, &catalog()).also.is_empty(),
            "{one_model}"
        );
    }
}
