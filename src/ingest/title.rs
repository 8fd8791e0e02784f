//! Titles made from the text of an article that has none.

const DERIVED_TITLE_MAX_CHARS: usize = 120;

/// A title from the first sentence of `text`, shortened at a word boundary.
pub fn derive_title(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let first_line = text.lines().next().unwrap_or(text);
    let sentence_end = first_line
        .match_indices(['.', '!', '?'])
        .map(|(index, _)| index)
        .find(|&index| {
            index >= 20
                && first_line[index + 1..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
        })
        .unwrap_or(first_line.len());
    let sentence = first_line[..sentence_end].trim();
    if sentence.chars().count() <= DERIVED_TITLE_MAX_CHARS {
        return Some(sentence.to_owned());
    }
    let cut: String = sentence.chars().take(DERIVED_TITLE_MAX_CHARS).collect();
    let at_word = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    Some(format!("{}…", at_word.trim_end_matches([',', ';', ':'])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_title_is_first_sentence_cut_at_a_word() {
        assert_eq!(
            derive_title("Troops crossed the border at dawn. Officials said more would follow.")
                .as_deref(),
            Some("Troops crossed the border at dawn")
        );
        let long = "word ".repeat(60);
        let title = derive_title(&long).unwrap();
        assert!(title.ends_with('…') && title.chars().count() <= DERIVED_TITLE_MAX_CHARS + 1);
        assert_eq!(derive_title("  "), None);
    }
}
