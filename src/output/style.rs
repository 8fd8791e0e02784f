//! Terminal colours, on only when asked for or when writing to a terminal without `NO_COLOR`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

const RESET: &str = "\x1b[0m";

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    pub fn title(&self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn label(&self, text: &str) -> String {
        self.paint("36", text)
    }

    pub fn highlight(&self, text: &str) -> String {
        self.paint("1;33", text)
    }

    pub fn warning(&self, text: &str) -> String {
        self.paint("33", text)
    }

    pub fn error(&self, text: &str) -> String {
        self.paint("1;31", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_adds_no_escapes() {
        assert_eq!(Style { color: false }.highlight("x"), "x");
        assert_eq!(Style { color: true }.highlight("x"), "\x1b[1;33mx\x1b[0m");
    }
}
