use std::sync::OnceLock;

use super::*;
use crate::article::TaggedFacets;
use crate::schema::Schema;

fn extractor() -> &'static Extractor {
    static EXTRACTOR: OnceLock<Extractor> = OnceLock::new();
    EXTRACTOR.get_or_init(|| {
        let schema = Schema::builtin().unwrap();
        Extractor::new(&schema.dictionaries, &schema.places().unwrap()).unwrap()
    })
}

fn article(title: &str, body: &str) -> Article {
    Article {
        key: "t".into(),
        title: title.into(),
        title_is_derived: false,
        summary: None,
        body: body.into(),
        published: None,
        url: None,
        source: None,
        author: None,
        language: None,
        tagged: TaggedFacets::default(),
        extra: Default::default(),
        gold: None,
    }
}

fn countries(title: &str, body: &str) -> Vec<String> {
    let (entities, _) = extractor().extract(&article(title, body));
    entities.countries.into_iter().map(|c| c.key).collect()
}

fn topics(title: &str, body: &str) -> Vec<String> {
    let (entities, _) = extractor().extract(&article(title, body));
    entities.topics.into_iter().map(|t| t.key).collect()
}

#[test]
fn names_aliases_demonyms_capitals_and_metonyms() {
    let found = countries(
        "Talks",
        "Pyongyang and the Kremlin signed a pact; North Korean troops and Downing Street, \
         the DPRK said.",
    );
    assert!(found.contains(&"NorthKorea".to_owned()), "{found:?}");
    assert!(found.contains(&"Russia".to_owned()), "{found:?}");
    assert!(found.contains(&"UnitedKingdom".to_owned()), "{found:?}");
}

#[test]
fn mentions_and_evidence_are_counted() {
    let (entities, _) = extractor().extract(&article(
        "North Korea",
        "Pyongyang said North Korean troops were safe.",
    ));
    let korea = entities
        .countries
        .iter()
        .find(|c| c.key == "NorthKorea")
        .unwrap();
    assert_eq!(korea.iso2, "KP");
    assert_eq!(korea.mentions, 3);
    assert_eq!(korea.evidence, ["North Korea", "Pyongyang", "North Korean"]);
    assert_eq!(korea.first_offset, Some(0));
}

#[test]
fn word_boundaries_hold() {
    assert_eq!(countries("x", "Nigeria's oil"), ["Nigeria"]);
    assert!(countries("x", "The Omani Romania").contains(&"Romania".to_owned()));
    assert!(!countries("x", "Iranians").contains(&"Iraq".to_owned()));
    assert!(countries("x", "Russianness").is_empty());
}

#[test]
fn longest_match_wins() {
    assert_eq!(
        countries("x", "in Papua New Guinea today"),
        ["PapuaNewGuinea"]
    );
    assert_eq!(countries("x", "New Mexico voters"), ["UnitedStates"]);
    assert_eq!(countries("x", "South Korean exports"), ["SouthKorea"]);
}

#[test]
fn a_rejected_longer_match_leaves_the_shorter_one() {
    // "Paris Club" (capitalised) is a stoplist phrase; "a Paris club" is still Paris.
    assert!(countries("x", "the Paris Club of creditors").is_empty());
    assert_eq!(
        countries("x", "talks with a Paris club of lenders"),
        ["France"]
    );
}

#[test]
fn case_rules() {
    assert!(countries("x", "let us go, said the china shop owner about turkey").is_empty());
    assert_eq!(countries("x", "the US said"), ["UnitedStates"]);
    assert_eq!(countries("TURKEY RAISES RATES", "x"), ["Turkey"]);
}

#[test]
fn accented_names_in_capitals() {
    assert_eq!(countries("TÜRKIYE HOSTS TALKS", "x"), ["Turkey"]);
}

#[test]
fn accents_and_curly_apostrophes() {
    assert_eq!(countries("x", "Türkiye and Turkiye"), ["Turkey"]);
    assert_eq!(countries("x", "Côte d’Ivoire exports"), ["IvoryCoast"]);
    assert_eq!(countries("x", "Cote d'Ivoire exports"), ["IvoryCoast"]);
}

#[test]
fn ambiguous_names_need_context() {
    assert!(countries("x", "said Michael Jordan after the game").is_empty());
    assert_eq!(countries("x", "King Abdullah of Jordan met"), ["Jordan"]);
    assert!(!countries("x", "Voters in Atlanta, Georgia, queued").contains(&"Georgia".to_owned()));
    assert_eq!(
        countries("x", "Protesters in Tbilisi, Georgia, marched"),
        ["Georgia"]
    );
}

#[test]
fn demonyms_count_for_the_country() {
    assert_eq!(countries("x", "Russian officials"), ["Russia"]);
    assert_eq!(countries("x", "Ukrainians fled"), ["Ukraine"]);
}

#[test]
fn topics_need_substantial_evidence() {
    assert!(topics("Markets", "One sanction was mentioned in passing.").is_empty());
    assert_eq!(
        topics(
            "Markets",
            "New sanctions followed earlier sanctions; sanctioned banks."
        ),
        ["sanctions"]
    );
    assert!(topics("Sanctions tightened", "Banks react.").contains(&"sanctions".to_owned()));
}

#[test]
fn a_derived_title_is_not_counted_twice_nor_as_a_title() {
    let mut untitled = article(
        "Kim Jong-un visited Moscow to discuss sanctions",
        "Kim Jong-un visited Moscow to discuss sanctions with officials on Monday.",
    );
    untitled.title_is_derived = true;
    let (entities, _) = extractor().extract(&untitled);
    assert_eq!(entities.countries[0].mentions, 1);
    assert!(entities.topics.is_empty(), "{:?}", entities.topics);
}

#[test]
fn regions_come_from_countries_and_the_text() {
    let (entities, _) = extractor().extract(&article("x", "Pyongyang and the Middle East"));
    let keys: Vec<&str> = entities.regions.iter().map(|r| r.key.as_str()).collect();
    for expected in ["Asia", "EastAsia", "MiddleEast"] {
        assert!(keys.contains(&expected), "{keys:?}");
    }
}

#[test]
fn people_and_organizations() {
    let (entities, _) = extractor().extract(&article(
        "x",
        "Kim Jong-un inspected the Korean People's Army; NATO and Vladimir Putin reacted.",
    ));
    let people: Vec<&str> = entities.people.iter().map(|p| p.key.as_str()).collect();
    let orgs: Vec<&str> = entities
        .organizations
        .iter()
        .map(|o| o.key.as_str())
        .collect();
    assert!(
        people.contains(&"KimJongUn") && people.contains(&"VladimirPutin"),
        "{people:?}"
    );
    assert!(
        orgs.contains(&"NATO") && orgs.contains(&"KoreanPeoplesArmy"),
        "{orgs:?}"
    );
}

#[test]
fn tags_from_the_record_merge_and_unknown_tags_are_reported() {
    let mut tagged = article("x", "Nothing here.");
    tagged.tagged.countries = vec!["JP".into(), "Atlantis".into()];
    tagged.tagged.topics = vec!["trade".into()];
    let (entities, unknown) = extractor().extract(&tagged);
    assert_eq!(entities.countries[0].key, "Japan");
    assert_eq!(entities.topics[0].key, "trade");
    assert_eq!(
        unknown,
        [UnknownTag {
            field: "countries",
            value: "Atlantis".into()
        }]
    );
}

#[test]
fn titles_introduce_people_outside_the_dictionary() {
    let (entities, _) = extractor().extract(&article(
        "Talks",
        "Defence Minister Arvid Kallastu said on Monday that President Vladimir Putin met \
         General Olena Vasylenko-Hart's staff. PRESIDENT REAGAN SAYS. King Harald spoke.",
    ));
    let people: Vec<(&str, Option<&str>)> = entities
        .people
        .iter()
        .map(|p| (p.key.as_str(), p.role.as_deref()))
        .collect();
    assert!(
        people.contains(&("ArvidKallastu", Some("Defence Minister"))),
        "{people:?}"
    );
    assert!(
        people.contains(&("OlenaVasylenkoHart", Some("General"))),
        "{people:?}"
    );
    assert!(
        people
            .iter()
            .any(|(key, role)| *key == "VladimirPutin"
                && role.is_some_and(|r| r.contains("President"))),
        "a dictionary person keeps the dictionary's key and role: {people:?}"
    );
    assert!(
        !people
            .iter()
            .any(|(key, _)| key.contains("Harald") || key.contains("SAYS"))
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Openings and words that reach datelines, titles, languages and places, glued at random.
    fn article_soup() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "MEDELLÍN, ",
            "ROCHESTER, N.Y., ",
            "Hong Kong (CNN) - ",
            "March 3 - ",
            "/TASS/. ",
            "President ",
            "Foreign Minister ",
            "Arvid ",
            "Kallastu’s ",
            "Jordan ",
            "Georgia ",
            "French-speaking ",
            "Moscow ",
            "Ünal ",
            "’",
            "\"",
            "-",
            "\n\n",
            "\n    ",
            " ",
            ".",
            "ŁÓDŹ, ",
            "Calif.",
            "(",
            ")",
            "Turkey ",
            "Thanksgiving ",
            "é",
            "日本 ",
        ]);
        prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        #[test]
        fn on_any_text(title in "\\PC{0,30}", body in "\\PC{0,200}") {
            let article = article(&title, &body);
            let (entities, decisions, _) = extractor().explain(&article);
            let text_len = article.extraction_text().0.len();
            prop_assert!(entities.countries.iter().all(|c| c.mentions >= 1));
            prop_assert!(decisions.iter().all(|d| d.offset < text_len), "{decisions:?}");
        }

        #[test]
        fn on_news_like_soup(title in article_soup(), body in article_soup()) {
            let (entities, _) = extractor().extract(&article(&title, &body));
            prop_assert!(entities.people.iter().all(|p| !p.key.is_empty()));
        }

        /// The hand-written walk finds what aho-corasick's own anchored search finds, from
        /// every start and for every end of the span.
        #[test]
        fn the_walk_is_an_anchored_leftmost_longest_search(text in article_soup()) {
            for start in (0..text.len()).filter(|&at| text.is_char_boundary(at)) {
                for end in (start..=text.len()).filter(|&at| text.is_char_boundary(at)) {
                    let input = aho_corasick::Input::new(&text)
                        .span(start..end)
                        .anchored(Anchored::Yes);
                    let expected = reference_automaton().find(input);
                    let found = extractor().longest_match(&text, start..end);
                    prop_assert_eq!(found, expected, "{:?} in {:?}", &text[start..end], text);
                }
            }
        }
    }

    /// The extractor's patterns in aho-corasick's own automaton, searched the documented way.
    fn reference_automaton() -> &'static aho_corasick::AhoCorasick {
        static AUTOMATON: OnceLock<aho_corasick::AhoCorasick> = OnceLock::new();
        AUTOMATON.get_or_init(|| {
            aho_corasick::AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .ascii_case_insensitive(true)
                .start_kind(aho_corasick::StartKind::Anchored)
                .build(extractor().patterns.automaton_patterns())
                .unwrap()
        })
    }
}

#[test]
fn titles_invent_no_people() {
    let titles = &Schema::builtin().unwrap().dictionaries.person_titles;
    for body in [
        "General Assembly President Dennis Francis opened the session.",
        "General Motors Chief Executive Mary Barra spoke.",
        "General Secretary Xi Jinping attended.",
        "President Abdel Fattah el-Sisi met envoys.",
        "President Ъъ Ьь arrived.",
    ] {
        let (entities, _) = extractor().extract(&article("Talks", body));
        let invented: Vec<&str> = entities
            .people
            .iter()
            .filter(|p| p.role.as_ref().is_some_and(|role| titles.contains(role)))
            .map(|p| p.key.as_str())
            .filter(|key| *key != "DennisFrancis")
            .collect();
        assert!(invented.is_empty(), "{body}: {invented:?}");
    }
    let (entities, _) = extractor().extract(&article(
        "The Prime Minister Said Tariffs Would Rise",
        "Trade talks resumed.",
    ));
    assert!(entities.people.is_empty(), "{:?}", entities.people);
    for ending in ["\n\nMore", "”", " — ", "?", "\tx"] {
        let body = format!("Foreign Minister Arvid Kallastu{ending}");
        let (entities, _) = extractor().extract(&article("Talks", &body));
        assert!(
            entities.people.iter().any(|p| p.key == "ArvidKallastu"),
            "{body:?}: {:?}",
            entities.people
        );
    }
}

fn dated(title: &str, body: &str, published: &str) -> Article {
    Article {
        published: Some(published.parse().unwrap()),
        ..article(title, body)
    }
}

fn salient_keys(title: &str, body: &str) -> Vec<String> {
    let (entities, _) = extractor().extract(&article(title, body));
    entities
        .countries
        .iter()
        .filter(|c| c.salient)
        .map(|c| c.key.clone())
        .collect()
}

#[test]
fn salience_follows_dateline_title_lead_and_mentions() {
    assert_eq!(
        salient_keys(
            "Port reopens",
            "ODESA, May 2 - Ships left. Officials in Japan watched."
        ),
        ["Ukraine"],
        "the dateline, not a passing mention"
    );
    assert_eq!(
        salient_keys(
            "North Korea fires missile",
            "Japan protested. Japan and South Korea met."
        ),
        ["NorthKorea", "Japan"],
        "the title, and a country named in the lead again and again"
    );
    assert_eq!(
        salient_keys("Talks", "Officials met in Vienna on Monday."),
        ["Austria"],
        "the only country named"
    );
}

#[test]
fn eras_end_on_their_day() {
    let keys = |published: &str| {
        let (entities, _) =
            extractor().extract(&dated("Talks", "Officials in Moscow said.", published));
        entities
            .countries
            .into_iter()
            .map(|c| c.key)
            .collect::<Vec<_>>()
    };
    assert_eq!(keys("1991-12-25T12:00:00Z"), ["SovietUnion"]);
    assert_eq!(keys("1991-12-26T00:00:00Z"), ["Russia"]);
    assert_eq!(
        countries("Talks", "Officials in Moscow said."),
        ["Russia"],
        "undated"
    );
}

#[test]
fn dateline_qualifiers_and_languages() {
    assert_eq!(
        countries("Chips", "SAN JOSE, Calif., May 1 - Sales rose."),
        ["UnitedStates"]
    );
    assert_eq!(
        countries("Port", "SAVANNAH, Georgia (Reuters) - Ships."),
        ["UnitedStates"]
    );
    assert_eq!(
        countries("Talks", "TBILISI, Georgia (Reuters) - Talks."),
        ["Georgia"]
    );
    assert_eq!(
        countries("Vote", "KOKOMO, Ind., March 2 - Shares."),
        ["UnitedStates"]
    );
    assert_eq!(
        countries(
            "Broadcast",
            "A French-speaking host and Spanish-language subtitles."
        ),
        Vec::<String>::new()
    );
}

fn topic<'e>(entities: &'e Entities, key: &str) -> &'e TopicMention {
    let found = entities.topics.iter().find(|t| t.key == key);
    found.unwrap_or_else(|| panic!("no topic `{key}` in {:?}", entities.topics))
}

#[test]
fn a_sub_topic_rolls_up_to_its_parent_named_in_via() {
    // `military` is no core topic: the phrases decide it, not the model.
    let (entities, _) = extractor().extract(&article(
        "Missile launch",
        "The ballistic missile flew 500 km before landing at sea.",
    ));
    let missiles = topic(&entities, "missiles");
    assert!(missiles.via.is_empty());
    let parent = topic(&entities, "military");
    assert_eq!(parent.via, ["missiles"]);
    assert!(parent.evidence.is_empty(), "{parent:?}");
    assert_eq!(parent.score, missiles.score);
}

#[test]
fn a_sub_topic_with_two_parents_rolls_up_to_both() {
    let found = topics(
        "Dockers go on strike",
        "Strikers picketed the port as the walkout entered its second day.",
    );
    for key in ["strikes", "labour", "protests"] {
        assert!(found.contains(&key.to_owned()), "{key}: {found:?}");
    }
}

#[test]
fn a_parent_found_on_its_own_keeps_its_own_score_and_evidence() {
    let (entities, _) = extractor().extract(&article(
        "Airstrikes and shelling as truce collapses",
        "Artillery shelling and airstrikes hit the city; the ceasefire is over.",
    ));
    let parent = topic(&entities, "armed-conflict");
    assert!(parent.via.is_empty(), "{parent:?}");
    assert!(
        parent.evidence.contains(&"shelling".to_owned()),
        "{parent:?}"
    );
    let keys: Vec<&str> = entities.topics.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys.iter().filter(|k| **k == "armed-conflict").count(), 1);
}

#[test]
fn tagged_sub_topics_roll_up_too() {
    let mut tagged = article("x", "Nothing here.");
    tagged.tagged.topics = vec!["peace-talks".into()];
    let (entities, _) = extractor().extract(&tagged);
    assert_eq!(topic(&entities, "diplomacy").via, ["peace-talks"]);
}
