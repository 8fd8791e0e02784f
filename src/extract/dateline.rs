//! Datelines: the place a wire story was filed from, at the start of its text.
//!
//! `MOSCOW, February 7. /TASS/.`, `WASHINGTON, March 9 -`, `ROCHESTER, N.Y., March 3 -`,
//! `KHARKIV, Ukraine, April 4 (Atlas Daily) -`, `Hong Kong (CNN) -`.

/// How far into the text a dateline may end.
const MAX_DATELINE_CHARS: usize = 100;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A dateline: byte ranges into the text it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dateline<'t> {
    /// The place, as written (`ROCHESTER`, `Hong Kong`).
    pub place: &'t str,
    pub place_start: usize,
    /// What follows the place after a comma, when it is not the date: a country or state
    /// (`Ukraine`, `N.Y.`).
    pub qualifier: Option<&'t str>,
    /// Where the dateline ends (its dash, outlet or date included).
    pub end: usize,
}

/// The dateline at the start of `text` (after leading whitespace), if it has one.
pub fn parse(text: &str) -> Option<Dateline<'_>> {
    let start = text.len() - text.trim_start().len();
    let line = first_line(&text[start..]);
    let place = leading_place(line)?;
    let mut after_place = &line[place.len()..];
    let mut qualifier = None;
    if let Some(next) = after_place.strip_prefix(", ") {
        let part = qualifier_prefix(next);
        if !part.is_empty() && is_qualifier(part) {
            qualifier = Some(part);
            after_place = &next[part.len()..];
        }
    }
    let end = dateline_end(after_place)?;
    let end = start + (line.len() - after_place.len()) + end;
    Some(Dateline {
        place,
        place_start: start,
        qualifier,
        end,
    })
}

fn first_line(text: &str) -> &str {
    let line = &text[..text.find('\n').unwrap_or(text.len())];
    match line.char_indices().nth(MAX_DATELINE_CHARS) {
        Some((cut, _)) => &line[..cut],
        None => line,
    }
}

/// The place at the start of the line: words in capitals (`NEW YORK`, `WINSTON-SALEM`,
/// `MEDELLÍN`), or title-case words right before an outlet in parentheses (`Hong Kong (CNN)`).
fn leading_place(line: &str) -> Option<&str> {
    let mut capitals_end = 0;
    for word in line.split(' ') {
        let in_capitals = word.chars().any(char::is_alphabetic)
            && word
                .trim_end_matches(',')
                .chars()
                .all(|c| c.is_uppercase() || matches!(c, '.' | '\'' | '-' | '’'));
        if !in_capitals {
            break;
        }
        capitals_end += word.len() + 1;
        if word.ends_with(',') {
            capitals_end -= 1;
            break;
        }
    }
    let capitals = line[..capitals_end.min(line.len())].trim_end_matches([' ', ',']);
    if capitals.chars().filter(|c| c.is_uppercase()).count() >= 3 {
        return Some(capitals);
    }
    let outlet = line.find(" (")?;
    let place = &line[..outlet];
    let title_case = place.split(' ').all(|word| {
        word.chars().next().is_some_and(char::is_uppercase) && word.chars().all(char::is_alphabetic)
    });
    (title_case && place.split(' ').count() <= 3).then_some(place)
}

/// The words after the place's comma up to a comma, an outlet, a date or a dash: `Va.` in
/// `RICHMOND, Va. Feb 26 -`, `N.Y.` in `ROCHESTER, N.Y., March 3 -`.
fn qualifier_prefix(text: &str) -> &str {
    let mut end = 0;
    let mut words = text.split(' ').peekable();
    while let Some(word) = words.next() {
        let next = words.peek().copied().unwrap_or_default();
        if word.starts_with('(')
            || word.starts_with(['-', '—', '–'])
            || is_date(&format!("{word} {next}"))
        {
            break;
        }
        if let Some(last) = word.strip_suffix(',') {
            end += last.len();
            break;
        }
        end += word.len() + 1;
    }
    text[..end.min(text.len())].trim_end()
}

/// A country or state after the place: title-case words or an abbreviation (`N.Y.`).
fn is_qualifier(part: &str) -> bool {
    part.split(' ').count() <= 4
        && part.split(' ').all(|word| {
            word.chars().next().is_some_and(char::is_uppercase)
                && word
                    .chars()
                    .all(|c| c.is_alphabetic() || matches!(c, '.' | '\'' | '’' | '-'))
        })
}

/// `Feb 26`, `February 7.`, `Sept. 10`: a month name, then a day number.
fn is_date(part: &str) -> bool {
    let mut words = part.split([' ', '.']).filter(|word| !word.is_empty());
    let month = words.next().unwrap_or_default().to_lowercase();
    MONTHS.iter().any(|prefix| month.starts_with(prefix))
        && words
            .next()
            .is_some_and(|day| day.chars().all(|c| c.is_ascii_digit()))
}

/// Where the dateline ends in `rest` (what follows the place and its qualifier): after a dash,
/// an outlet in parentheses or a `/TASS/`-style slash, with at most a date before it.
fn dateline_end(rest: &str) -> Option<usize> {
    let rest_trimmed = rest.trim_start_matches([',', ' ']);
    let skipped = rest.len() - rest_trimmed.len();
    let date_end = date_prefix_len(rest_trimmed);
    let after_date = &rest_trimmed[date_end..];
    let marker = after_date.trim_start_matches([' ', '.']);
    let at = skipped + date_end + (after_date.len() - marker.len());
    let end = if let Some(dash) = ["- ", "-- ", "— ", "– "]
        .iter()
        .find(|d| marker.starts_with(**d))
    {
        at + dash.len()
    } else if marker.starts_with('(') {
        let close = marker.find(')')?;
        let after = &marker[close + 1..];
        let dash = after.len() - after.trim_start_matches([' ', '-', '—', '–']).len();
        at + close + 1 + dash
    } else if let Some(slashed) = marker.strip_prefix('/') {
        let close = slashed.find('/')? + 2;
        let after = &marker[close..];
        at + close + (after.len() - after.trim_start_matches(['.', ' ']).len())
    } else {
        return None;
    };
    (date_end > 0 || !marker.is_empty()).then_some(end)
}

/// The length of a leading date (`March 3`, `Sept. 10`), or 0.
fn date_prefix_len(text: &str) -> usize {
    let words: Vec<&str> = text.splitn(3, ' ').collect();
    match words[..] {
        [month, day, ..] if is_date(&format!("{month} {day}")) => {
            month.len() + 1 + day.trim_end_matches(['.', ',']).len()
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place_and_qualifier(text: &str) -> Option<(&str, Option<&str>, &str)> {
        parse(text).map(|d| (d.place, d.qualifier, text[d.end..].trim_start()))
    }

    #[test]
    fn wire_datelines() {
        for (text, place, qualifier, rest) in [
            (
                "MOSCOW, February 7. /TASS/. The Kremlin said",
                "MOSCOW",
                None,
                "The Kremlin said",
            ),
            (
                "WASHINGTON, March 9 - The Treasury",
                "WASHINGTON",
                None,
                "The Treasury",
            ),
            (
                "ROCHESTER, N.Y., March 3 - Xerox",
                "ROCHESTER",
                Some("N.Y."),
                "Xerox",
            ),
            (
                "SALVADOR, Feb 26 - Showers continued",
                "SALVADOR",
                None,
                "Showers continued",
            ),
            (
                "KHARKIV, Ukraine, April 4 (Atlas Daily) - Along",
                "KHARKIV",
                Some("Ukraine"),
                "Along",
            ),
            (
                "VIENNA, Sept. 10 (geonews) - The agency",
                "VIENNA",
                None,
                "The agency",
            ),
            (
                "MEDELLÍN, Colombia (Atlas Daily) - Deminers",
                "MEDELLÍN",
                Some("Colombia"),
                "Deminers",
            ),
            (
                "Hong Kong (CNN) - Protesters",
                "Hong Kong",
                None,
                "Protesters",
            ),
            ("NEW YORK, March 3 -- Stocks", "NEW YORK", None, "Stocks"),
            (
                "  SAN JOSE, Calif., May 1 - Chips",
                "SAN JOSE",
                Some("Calif."),
                "Chips",
            ),
        ] {
            assert_eq!(
                place_and_qualifier(text),
                Some((place, qualifier, rest)),
                "{text}"
            );
        }
    }

    #[test]
    fn ordinary_openings_are_not_datelines() {
        for text in [
            "The government said on Monday that",
            "US sanctions on Iran (announced today) will",
            "NATO allies met in Brussels - and agreed",
            "IBM said, March sales rose",
            "A",
            "",
            "GDP grew 3 pct in the quarter",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
