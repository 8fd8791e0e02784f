//! The query line to a parse tree. The grammar, with examples, is in `docs/query-language.md`:
//!
//! ```text
//! query       = [ and_expr ] ;
//! and_expr    = or_expr { [ "AND" ] or_expr } ;
//! or_expr     = unary { "OR" unary } ;
//! unary       = ( "-" | "NOT" ) unary | "+" unary | primary ;
//! primary     = "(" and_expr ")" | NAME ":" field_value | term ;
//! field_value = "(" and_expr ")" | WORD "," WORD { "," WORD } | term ;
//! term        = PHRASE [ "~" DIGITS ] | WORD [ "*" ] | WORD "~" [ "0" | "1" | "2" ] ;
//! ```

use super::QueryError;
use super::ast::{Modifier, Node, Span, Text};

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Minus,
    Plus,
    And,
    Or,
    Not,
    Word(String),
    /// `"..."`, with the `~N` proximity written right after it.
    Phrase(String, Option<u32>),
    /// `name:` directly followed by its value.
    FieldName(String),
}

#[derive(Debug, Clone)]
struct Spanned {
    token: Token,
    span: Span,
}

fn is_word_end(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

fn lex(query: &str) -> Result<Vec<Spanned>, QueryError> {
    let chars: Vec<char> = query.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        let start = at;
        let token = match c {
            _ if c.is_whitespace() => {
                at += 1;
                continue;
            }
            '(' => {
                at += 1;
                Token::Open
            }
            ')' => {
                at += 1;
                Token::Close
            }
            '-' | '+'
                if chars
                    .get(at + 1)
                    .is_some_and(|&next| !is_word_end(next) || next == '"' || next == '(') =>
            {
                at += 1;
                if c == '-' { Token::Minus } else { Token::Plus }
            }
            '"' => {
                let (text, end) = lex_phrase(&chars, at)?;
                let (proximity, end) = lex_proximity(query, &chars, end)?;
                if chars
                    .get(end)
                    .is_some_and(|&next| !next.is_whitespace() && !matches!(next, '(' | ')'))
                {
                    return Err(QueryError::at(
                        query,
                        Span::new(end, end + 1),
                        "a closing quote needs a space after it; for a list with a quoted \
                         value, write `country:(\"North Korea\" OR Ukraine)`",
                    ));
                }
                at = end;
                Token::Phrase(text, proximity)
            }
            _ => {
                let end = (at..chars.len())
                    .find(|&i| is_word_end(chars[i]))
                    .unwrap_or(chars.len());
                let word: String = chars[at..end].iter().collect();
                at = end;
                match word.split_once(':') {
                    Some((name, ""))
                        if !name.is_empty() && at < chars.len() && !chars[at].is_whitespace() =>
                    {
                        Token::FieldName(name.to_owned())
                    }
                    Some((name, value)) if !name.is_empty() && !value.is_empty() => {
                        let name_end = start + name.chars().count() + 1;
                        tokens.push(Spanned {
                            token: Token::FieldName(name.to_owned()),
                            span: Span::new(start, name_end),
                        });
                        tokens.push(Spanned {
                            token: Token::Word(value.to_owned()),
                            span: Span::new(name_end, end),
                        });
                        continue;
                    }
                    Some((name, "")) if !name.is_empty() => {
                        return Err(QueryError::at(
                            query,
                            Span::new(start, end),
                            format!("`{name}:` needs a value"),
                        ));
                    }
                    _ => match word.as_str() {
                        "AND" => Token::And,
                        "OR" => Token::Or,
                        "NOT" => Token::Not,
                        _ => Token::Word(word),
                    },
                }
            }
        };
        tokens.push(Spanned {
            token,
            span: Span::new(start, at),
        });
    }
    Ok(tokens)
}

/// Reads `"..."` starting at `open`, with `\"` and `\\` escapes; returns the text and the end.
fn lex_phrase(chars: &[char], open: usize) -> Result<(String, usize), QueryError> {
    let mut text = String::new();
    let mut at = open + 1;
    while at < chars.len() {
        match chars[at] {
            '"' => return Ok((text, at + 1)),
            '\\' if matches!(chars.get(at + 1), Some('"' | '\\')) => {
                text.push(chars[at + 1]);
                at += 2;
            }
            c => {
                text.push(c);
                at += 1;
            }
        }
    }
    let query: String = chars.iter().collect();
    Err(QueryError::at(
        &query,
        Span::new(open, open + 1),
        "this quote is never closed",
    ))
}

/// Reads the `~N` that may follow a phrase ending at `at`.
fn lex_proximity(
    query: &str,
    chars: &[char],
    at: usize,
) -> Result<(Option<u32>, usize), QueryError> {
    if chars.get(at) != Some(&'~') {
        return Ok((None, at));
    }
    let end = (at + 1..chars.len())
        .find(|&i| !chars[i].is_ascii_digit())
        .unwrap_or(chars.len());
    let digits: String = chars[at + 1..end].iter().collect();
    match digits.parse() {
        Ok(slop) if end == chars.len() || is_word_end(chars[end]) => Ok((Some(slop), end)),
        _ => Err(QueryError::at(
            query,
            Span::new(at, end.max(at + 1)),
            "write how many words may come between the phrase's words: `\"mine clearance\"~3`",
        )),
    }
}

/// How deeply parentheses and negations may nest: deeper queries are refused, not overflowed.
const MAX_DEPTH: usize = 64;
/// Words and phrases a query may hold: each is a clause the engine runs.
const MAX_TERMS: usize = 256;
/// Fuzzy words (`~`) a query may hold: each expands to every word in reach in the index.
const MAX_FUZZY: usize = 16;

struct Parser<'q> {
    query: &'q str,
    tokens: Vec<Spanned>,
    at: usize,
    depth: usize,
}

/// Parses the query line; `None` for an empty query (every article).
pub fn parse(query: &str) -> Result<Option<Node>, QueryError> {
    let mut parser = Parser {
        query,
        tokens: lex(query)?,
        at: 0,
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return Ok(None);
    }
    check_cost(query, &parser.tokens)?;
    let node = parser.and_expr()?;
    match parser.peek() {
        None => Ok(Some(node)),
        // `and_expr` reads everything up to the end or an unmatched `)`.
        Some(Spanned { span, .. }) => Err(parser.error(*span, "this `)` closes no `(`")),
    }
}

/// Refuses a query that would cost the engine too much: too many terms, or too many fuzzy
/// words, pointing at the first one over the limit.
fn check_cost(query: &str, tokens: &[Spanned]) -> Result<(), QueryError> {
    let (mut terms, mut fuzzy) = (0, 0);
    for Spanned { token, span } in tokens {
        let is_fuzzy = match token {
            Token::Word(word) => word.rsplit_once('~').is_some_and(|(base, distance)| {
                !base.is_empty() && distance.chars().all(|c| c.is_ascii_digit())
            }),
            Token::Phrase(..) => false,
            _ => continue,
        };
        terms += 1;
        fuzzy += usize::from(is_fuzzy);
        if terms > MAX_TERMS {
            return Err(QueryError::at(
                query,
                *span,
                format!("a query may hold {MAX_TERMS} words and phrases; this one has more"),
            ));
        }
        if fuzzy > MAX_FUZZY {
            return Err(QueryError::at(
                query,
                *span,
                format!(
                    "a query may hold {MAX_FUZZY} fuzzy words (`~`), each of which stands for \
                     every word within reach; this one has more"
                ),
            ));
        }
    }
    Ok(())
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Spanned> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Spanned> {
        let token = self.tokens.get(self.at).cloned();
        self.at += usize::from(token.is_some());
        token
    }

    fn error(&self, span: Span, message: impl Into<String>) -> QueryError {
        QueryError::at(self.query, span, message)
    }

    /// Runs `parse` one level deeper, refusing queries nested beyond [`MAX_DEPTH`].
    fn nested(
        &mut self,
        at: Span,
        parse: fn(&mut Self) -> Result<Node, QueryError>,
    ) -> Result<Node, QueryError> {
        if self.depth == MAX_DEPTH {
            return Err(self.error(
                at,
                format!("the query nests more than {MAX_DEPTH} levels of parentheses or signs"),
            ));
        }
        self.depth += 1;
        let node = parse(self);
        self.depth -= 1;
        node
    }

    fn and_expr(&mut self) -> Result<Node, QueryError> {
        let mut parts = vec![self.or_expr()?];
        loop {
            match self.peek().map(|spanned| &spanned.token) {
                None | Some(Token::Close) => break,
                Some(Token::And) => {
                    let and = self.next().expect("peeked");
                    if matches!(self.peek().map(|s| &s.token), None | Some(Token::Close)) {
                        return Err(self.error(and.span, "`AND` needs something on its right"));
                    }
                }
                Some(_) => {}
            }
            parts.push(self.or_expr()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Node::And(parts)
        })
    }

    fn or_expr(&mut self) -> Result<Node, QueryError> {
        let mut parts = vec![self.unary()?];
        while matches!(self.peek().map(|s| &s.token), Some(Token::Or)) {
            let or = self.next().expect("peeked");
            if matches!(
                self.peek().map(|s| &s.token),
                None | Some(Token::Close | Token::Or | Token::And)
            ) {
                return Err(self.error(or.span, "`OR` needs something on its right"));
            }
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Node::Or(parts)
        })
    }

    fn unary(&mut self) -> Result<Node, QueryError> {
        // Callers check for a token first, and the lexer makes a sign only before a term.
        let spanned = self.peek().cloned().expect("a token where a term starts");
        match spanned.token {
            Token::Minus | Token::Not => {
                self.next();
                if matches!(self.peek().map(|s| &s.token), None | Some(Token::Close)) {
                    return Err(self.error(spanned.span, "nothing to exclude after this"));
                }
                let inner = self.nested(spanned.span, Self::unary)?;
                Ok(Node::Not(Box::new(inner)))
            }
            Token::Plus => {
                self.next();
                self.nested(spanned.span, Self::unary)
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Node, QueryError> {
        let spanned = self.next().expect("unary checked for a token");
        match spanned.token {
            Token::Open => self.group(spanned.span),
            Token::Word(word) => self.word(&word, spanned.span).map(Node::Text),
            Token::Phrase(text, proximity) => Ok(Node::Text(phrase(text, proximity, spanned.span))),
            Token::FieldName(name) => self.field_value(name, spanned.span),
            Token::Close => Err(self.error(spanned.span, "this `)` closes no `(`")),
            Token::Or | Token::And => Err(self.error(
                spanned.span,
                "an operator needs a term on its left (quote it to search the word itself)",
            )),
            Token::Minus | Token::Plus | Token::Not => unreachable!("handled by unary"),
        }
    }

    /// The inside of `( ... )` whose `(` is at `open`.
    fn group(&mut self, open: Span) -> Result<Node, QueryError> {
        if matches!(self.peek().map(|s| &s.token), Some(Token::Close)) {
            return Err(self.error(open, "empty parentheses"));
        }
        if self.peek().is_none() {
            return Err(self.error(open, "this `(` is never closed"));
        }
        let inner = self.nested(open, Self::and_expr)?;
        match self.next() {
            Some(Spanned {
                token: Token::Close,
                ..
            }) => Ok(inner),
            _ => Err(self.error(open, "this `(` is never closed")),
        }
    }

    /// What follows `name:`: one value, a comma list (any of them) or a parenthesized group.
    fn field_value(&mut self, name: String, name_span: Span) -> Result<Node, QueryError> {
        let field = |value: Text| Node::Field {
            name: name.clone(),
            name_span,
            value,
        };
        match self.next() {
            Some(Spanned {
                token: Token::Word(word),
                span,
            }) if word.contains(',') => {
                let values = self.comma_list(&word, span)?;
                Ok(Node::Or(values.into_iter().map(field).collect()))
            }
            Some(Spanned {
                token: Token::Word(word),
                span,
            }) => Ok(field(self.word(&word, span)?)),
            Some(Spanned {
                token: Token::Phrase(text, proximity),
                span,
            }) => Ok(field(phrase(text, proximity, span))),
            Some(Spanned {
                token: Token::Open,
                span,
            }) => {
                let group = self.group(span)?;
                self.scope(&name, name_span, group)
            }
            Some(other) => Err(self.error(
                other.span,
                format!("`{name}:` takes a word, a \"quoted value\" or a (group)"),
            )),
            None => Err(self.error(name_span, format!("`{name}:` needs a value"))),
        }
    }

    /// `Russia,Ukraine` at `span`: each value with its own span.
    fn comma_list(&self, word: &str, span: Span) -> Result<Vec<Text>, QueryError> {
        let mut values = Vec::new();
        let mut start = span.start;
        for item in word.split(',') {
            let width = item.chars().count();
            let item_span = Span::new(start, start + width);
            if item.is_empty() {
                return Err(self.error(
                    Span::new(start.saturating_sub(1).max(span.start), start + 1),
                    "an empty value in this list: write `name:a,b` without spaces or stray commas",
                ));
            }
            values.push(self.word(item, item_span)?);
            start += width + 1;
        }
        Ok(values)
    }

    /// Puts the words of a `name:( ... )` group under the field `name`.
    fn scope(&self, name: &str, name_span: Span, node: Node) -> Result<Node, QueryError> {
        let scope_all = |nodes: Vec<Node>| {
            nodes
                .into_iter()
                .map(|node| self.scope(name, name_span, node))
                .collect::<Result<Vec<_>, _>>()
        };
        let field = |value: Text| Node::Field {
            name: name.to_owned(),
            name_span,
            value,
        };
        Ok(match node {
            Node::Text(value) if !value.quoted && value.text.contains(',') => {
                let values = self.comma_list(&value.text, value.span)?;
                Node::Or(values.into_iter().map(field).collect())
            }
            Node::Text(value) => field(value),
            Node::Field {
                name: inner,
                name_span: inner_span,
                ..
            } => {
                return Err(self.error(
                    inner_span,
                    format!("`{inner}:` cannot go inside `{name}:( )`"),
                ));
            }
            Node::Not(inner) => Node::Not(Box::new(self.scope(name, name_span, *inner)?)),
            Node::And(parts) => Node::And(scope_all(parts)?),
            Node::Or(parts) => Node::Or(scope_all(parts)?),
        })
    }

    /// A bare word, with the `*` (prefix) or `~`/`~N` (fuzzy) written at its end.
    fn word(&self, word: &str, span: Span) -> Result<Text, QueryError> {
        let text = |text: &str, modifier| Text {
            text: text.to_owned(),
            quoted: false,
            modifier,
            span,
        };
        if let Some(prefix) = word.strip_suffix('*') {
            if prefix.is_empty() || prefix.ends_with('*') {
                return Err(self.error(span, "write at least one letter before the `*`: `sanct*`"));
            }
            return Ok(text(prefix, Some(Modifier::Prefix)));
        }
        let Some((base, distance)) = word.rsplit_once('~') else {
            return Ok(text(word, None));
        };
        if base.is_empty() || !distance.chars().all(|c| c.is_ascii_digit()) {
            return Ok(text(word, None));
        }
        match distance {
            "" => Ok(text(base, Some(Modifier::Fuzzy(None)))),
            "0" | "1" | "2" => Ok(text(base, Some(Modifier::Fuzzy(distance.parse().ok())))),
            _ => {
                let tilde = span.start + base.chars().count();
                Err(self.error(
                    Span::new(tilde, span.end),
                    "a fuzzy word allows 0, 1 or 2 edits: `sanktions~1`",
                ))
            }
        }
    }
}

fn phrase(text: String, proximity: Option<u32>, span: Span) -> Text {
    Text {
        text,
        quoted: true,
        modifier: proximity.map(Modifier::Proximity),
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(text: &Text) -> String {
        let quoted = if text.quoted {
            format!("\"{}\"", text.text)
        } else {
            text.text.clone()
        };
        match text.modifier {
            None => quoted,
            Some(Modifier::Prefix) => format!("{quoted}*"),
            Some(Modifier::Fuzzy(None)) => format!("{quoted}~"),
            Some(Modifier::Fuzzy(Some(distance))) => format!("{quoted}~{distance}"),
            Some(Modifier::Proximity(slop)) => format!("{quoted}~{slop}"),
        }
    }

    fn shape(node: &Node) -> String {
        match node {
            Node::Text(value) => text(value),
            Node::Field { name, value, .. } => format!("{name}:{}", text(value)),
            Node::Not(inner) => format!("-{}", shape(inner)),
            Node::And(parts) => format!(
                "AND({})",
                parts.iter().map(shape).collect::<Vec<_>>().join(" ")
            ),
            Node::Or(parts) => format!(
                "OR({})",
                parts.iter().map(shape).collect::<Vec<_>>().join(" ")
            ),
        }
    }

    fn parsed(query: &str) -> String {
        shape(&parse(query).unwrap().unwrap())
    }

    #[test]
    fn implicit_and_with_facets() {
        assert_eq!(
            parsed("landmine clearance country:NorthKorea topic:sanctions"),
            "AND(landmine clearance country:NorthKorea topic:sanctions)"
        );
    }

    #[test]
    fn or_binds_tighter_than_and() {
        assert_eq!(
            parsed("mines country:Ukraine OR country:Iraq"),
            "AND(mines OR(country:Ukraine country:Iraq))"
        );
        assert_eq!(parsed("(a b) OR c"), "OR(AND(a b) c)");
        assert_eq!(parsed("a AND b"), "AND(a b)");
    }

    #[test]
    fn negation_phrases_and_quoted_values() {
        assert_eq!(
            parsed("-country:Russia \"land mine\""),
            "AND(-country:Russia \"land mine\")"
        );
        assert_eq!(parsed("country:\"North Korea\""), "country:\"North Korea\"");
        assert_eq!(parsed("NOT war +peace"), "AND(-war peace)");
        assert_eq!(parsed("well-known"), "well-known");
        assert_eq!(parsed("after:2024-01-01"), "after:2024-01-01");
    }

    #[test]
    fn prefix_fuzzy_and_proximity() {
        assert_eq!(parsed("sanct*"), "sanct*");
        assert_eq!(
            parsed("sanktions~ Pyongyang~1"),
            "AND(sanktions~ Pyongyang~1)"
        );
        assert_eq!(parsed("\"mine clearance\"~3"), "\"mine clearance\"~3");
        assert_eq!(
            parsed("title:clear* body:\"a b\"~2"),
            "AND(title:clear* body:\"a b\"~2)"
        );
        assert_eq!(
            parsed("a~b x*y ~"),
            "AND(a~b x*y ~)",
            "not modifiers: kept as words"
        );
    }

    #[test]
    fn field_groups_and_value_lists() {
        assert_eq!(
            parsed("country:(Russia OR Ukraine) mines"),
            "AND(OR(country:Russia country:Ukraine) mines)"
        );
        assert_eq!(
            parsed("country:Russia,Ukraine,KP"),
            "OR(country:Russia country:Ukraine country:KP)"
        );
        assert_eq!(
            parsed("-country:(Russia -\"North Korea\")"),
            "-AND(country:Russia -country:\"North Korea\")"
        );
        assert_eq!(
            parsed("title:(mine* OR demining)"),
            "OR(title:mine* title:demining)"
        );
        let Some(Node::Or(values)) = parse("country:Russia,Ukraine").unwrap() else {
            panic!()
        };
        let Node::Field { value, .. } = &values[1] else {
            panic!()
        };
        assert_eq!(value.span, Span::new(15, 22));
    }

    #[test]
    fn spans_count_characters() {
        let Some(Node::And(parts)) = parse("Türkiye country:KP").unwrap() else {
            panic!()
        };
        let Node::Field {
            name_span, value, ..
        } = &parts[1]
        else {
            panic!()
        };
        assert_eq!(*name_span, Span::new(8, 16));
        assert_eq!(value.span, Span::new(16, 18));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(
            parse(&deep)
                .unwrap_err()
                .message
                .contains("nests more than 64")
        );
        for sign in ["-", "+"] {
            assert!(parse(&format!("{}a", sign.repeat(10_000))).is_err());
        }
        let fine = format!("{}a{}", "(".repeat(60), ")".repeat(60));
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn empty_query_is_none() {
        assert_eq!(parse("   ").unwrap(), None);
    }

    #[test]
    fn syntax_errors_point_at_their_column() {
        for (query, column, message) in [
            ("(sanctions", 1, "never closed"),
            ("sanctions)", 10, "closes no"),
            ("a OR", 3, "`OR` needs"),
            ("\"land mine", 1, "never closed"),
            ("country: x", 1, "needs a value"),
            ("()", 1, "empty parentheses"),
            ("OR a", 1, "needs a term on its left"),
            ("(a NOT)", 4, "nothing to exclude"),
            ("*", 1, "at least one letter"),
            ("sanct**", 1, "at least one letter"),
            ("sanctions~3", 10, "0, 1 or 2 edits"),
            ("\"a b\"~", 6, "how many words"),
            ("\"a b\"~2x", 6, "how many words"),
            ("country:(Russia topic:x)", 17, "cannot go inside"),
            ("country:a,,b", 10, "empty value"),
            ("country:a,", 10, "empty value"),
            ("country:(", 9, "never closed"),
            ("country:)", 9, "takes a word"),
        ] {
            let error = parse(query).unwrap_err();
            assert_eq!(error.column, column, "{query}: {error}");
            assert!(error.message.contains(message), "{query}: {error}");
        }
    }
}
