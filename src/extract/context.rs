//! The reader's rules for country names that are also first names, surnames or other places:
//! `Jordan` is not the country in "Michael Jordan" or "Jordan Peterson", and `Georgia` is the US
//! state in an article that mentions Atlanta.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// Capitalized words that may stand before a country name without making it part of a name.
const LEADING_WORDS: [&str; 24] = [
    "In",
    "The",
    "And",
    "From",
    "To",
    "Of",
    "For",
    "With",
    "At",
    "On",
    "By",
    "As",
    "But",
    "Into",
    "Across",
    "Both",
    "Neighbouring",
    "Neighboring",
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Central",
    "Visiting",
];

pub struct Context<'a> {
    text: &'a str,
    /// A title in Title Case ("Strong Earthquake Hits Turkey"): its capitals say nothing.
    title_case_end: usize,
    /// Per country: whether one of its `reject_near` words is in the text (looked up once).
    vetoed: RefCell<HashMap<usize, bool>>,
    /// Countries whose ambiguous name was part of a person's name earlier in the text
    /// ("Denzel Washington"): later bare mentions ("Washington said") are that person.
    named: RefCell<HashSet<usize>>,
}

impl<'a> Context<'a> {
    /// The context of `text`, whose first `title_len` bytes are the title.
    pub fn new(text: &'a str, title_len: usize) -> Context<'a> {
        let title = &text[..title_len];
        let words = title.split_whitespace().count();
        let capitalized = title
            .split_whitespace()
            .filter(|w| is_capitalized(w))
            .count();
        let title_case = words >= 3 && capitalized * 3 >= words * 2;
        Context {
            text,
            title_case_end: if title_case { title_len } else { 0 },
            vetoed: RefCell::default(),
            named: RefCell::default(),
        }
    }

    /// Whether an ambiguous name of `country` at `start..end` still reads as the country, or
    /// why not.
    pub fn ambiguous_country_holds(
        &self,
        start: usize,
        end: usize,
        country: usize,
        reject_near: &[String],
    ) -> Result<(), &'static str> {
        let vetoed = *self
            .vetoed
            .borrow_mut()
            .entry(country)
            .or_insert_with(|| reject_near.iter().any(|word| self.contains_word(word)));
        if vetoed {
            return Err("ambiguous name, and the article has a word that means another place");
        }
        if self.in_title_case(start) {
            return Ok(());
        }
        if next_word(&self.text[end..]).is_some_and(is_capitalized) {
            return Err("ambiguous name followed by a capitalized word: part of a name");
        }
        let previous_is_name = previous_word(&self.text[..start])
            .is_some_and(|word| is_capitalized(word) && !LEADING_WORDS.contains(&word));
        if previous_is_name {
            // A given name before it ("Denzel Washington"): later bare mentions are that person.
            self.named.borrow_mut().insert(country);
            return Err("ambiguous name after a capitalized word: part of a name");
        }
        if self.named.borrow().contains(&country) {
            return Err("ambiguous name that was part of a person's name earlier");
        }
        Ok(())
    }

    /// Whether `offset` lies in a title written in Title Case, whose capitals say nothing.
    pub fn in_title_case(&self, offset: usize) -> bool {
        offset < self.title_case_end
    }

    fn contains_word(&self, word: &str) -> bool {
        self.text.match_indices(word).any(|(index, _)| {
            let before = self.text[..index].chars().next_back();
            let after = self.text[index + word.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    }
}

/// `Michael`, not `michael` nor a headline's `RAISES`: capitals all the way say nothing.
fn is_capitalized(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase) && word.chars().any(char::is_lowercase)
}

/// The word right after a single space, if the text goes on that way.
fn next_word(rest: &str) -> Option<&str> {
    let rest = rest.strip_prefix(' ')?;
    let end = rest
        .find(|c: char| !c.is_alphanumeric())
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// The word right before a single space.
fn previous_word(before: &str) -> Option<&str> {
    let before = before.strip_suffix(' ')?;
    let start = before
        .rfind(|c: char| !c.is_alphanumeric())
        .map_or(0, |index| {
            index + before[index..].chars().next().map_or(1, char::len_utf8)
        });
    (start < before.len()).then(|| &before[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(text: &str, name: &str, reject_near: &[&str]) -> bool {
        let start = text.find(name).unwrap();
        let reject_near: Vec<String> = reject_near.iter().map(|word| word.to_string()).collect();
        Context::new(text, 0)
            .ambiguous_country_holds(start, start + name.len(), 0, &reject_near)
            .is_ok()
    }

    #[test]
    fn names_next_to_capitalized_words_are_people() {
        assert!(!holds("said Michael Jordan on Sunday", "Jordan", &[]));
        assert!(!holds("analyst Jordan Ellis said", "Jordan", &[]));
        assert!(holds("troops in Jordan said", "Jordan", &[]));
        assert!(holds("In Jordan, officials", "Jordan", &[]));
        assert!(holds("Amman, Jordan and Israel", "Jordan", &[]));
        assert!(holds("Jordan's king", "Jordan", &[]));
        assert!(
            holds("TROOPS IN JORDAN RAISE ALERT", "JORDAN", &[]),
            "a headline in capitals"
        );
    }

    #[test]
    fn a_name_seen_in_a_full_name_stays_a_name() {
        let text = "Denzel Washington arrived. Washington said the film";
        let context = Context::new(text, 0);
        let holds = |start: usize| {
            context
                .ambiguous_country_holds(start, start + "Washington".len(), 0, &[])
                .is_ok()
        };
        assert!(!holds(7));
        assert!(!holds(27), "the later bare surname is the same person");
        let text = "troops in the Jordan Valley. Jordan said";
        let context = Context::new(text, 0);
        let valley = context.ambiguous_country_holds(14, 20, 0, &[]);
        assert!(valley.is_err());
        assert!(
            context.ambiguous_country_holds(29, 35, 0, &[]).is_ok(),
            "a following capitalized word names a place, not a person"
        );
    }

    #[test]
    fn title_case_titles_say_nothing_about_names() {
        let text = "Strong Earthquake Hits Turkey\n\nRescuers deployed in Turkey.";
        let context = Context::new(text, 29);
        assert!(context.ambiguous_country_holds(23, 29, 0, &[]).is_ok());
        let body = text.rfind("Turkey").unwrap();
        assert!(
            context
                .ambiguous_country_holds(body, body + 6, 0, &[])
                .is_ok()
        );
    }

    #[test]
    fn reject_near_words_veto_the_country() {
        let text = "Voters in Georgia lined up in Atlanta.";
        assert!(!holds(text, "Georgia", &["Atlanta"]));
        assert!(holds(
            "Protests in Georgia continued in Tbilisi.",
            "Georgia",
            &["Atlanta"]
        ));
        assert!(holds("Georgia, near Atlantas", "Georgia", &["Atlanta"]));
    }

    #[test]
    fn words_around_a_match() {
        assert_eq!(next_word(" Peterson said"), Some("Peterson"));
        assert_eq!(next_word(", Peterson"), None);
        assert_eq!(previous_word("said Michael "), Some("Michael"));
        assert_eq!(previous_word("Émile "), Some("Émile"));
    }
}
