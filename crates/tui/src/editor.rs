//! A one-line text editor (query bar, time picker fields). The cursor is a char index so
//! multi-byte text never splits.

/// Text and a cursor position (in chars, `0..=len`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEditor {
    /// The text.
    pub text: String,
    /// Cursor position in chars.
    pub cursor: usize,
}

impl LineEditor {
    /// An editor holding `text` with the cursor at its end.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let cursor = text.chars().count();
        LineEditor { text, cursor }
    }

    /// Replaces the text, cursor at the end.
    pub fn set(&mut self, text: impl Into<String>) {
        *self = LineEditor::new(text);
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.text.char_indices().nth(char_index).map(|(i, _)| i).unwrap_or(self.text.len())
    }

    /// Number of chars.
    pub fn len(&self) -> usize {
        self.text.chars().count()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Inserts a char at the cursor. Control characters are refused (pasted escape sequences).
    pub fn insert(&mut self, c: char) {
        if c.is_control() {
            return;
        }
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    /// Inserts a string at the cursor, dropping control characters.
    pub fn insert_str(&mut self, s: &str) {
        for c in s.chars() {
            self.insert(c);
        }
    }

    /// Deletes the char before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor == 0 {
            return;
        }
        let start = self.byte_at(self.cursor - 1);
        let end = self.byte_at(self.cursor);
        self.text.replace_range(start..end, "");
        self.cursor -= 1;
    }

    /// Deletes the char under the cursor.
    pub fn delete(&mut self) {
        if self.cursor >= self.len() {
            return;
        }
        let start = self.byte_at(self.cursor);
        let end = self.byte_at(self.cursor + 1);
        self.text.replace_range(start..end, "");
    }

    /// Deletes the word before the cursor (Ctrl-W).
    pub fn delete_word(&mut self) {
        let chars: Vec<char> = self.text.chars().collect();
        let mut i = self.cursor.min(chars.len());
        while i > 0 && chars[i - 1].is_whitespace() {
            i -= 1;
        }
        while i > 0 && !chars[i - 1].is_whitespace() {
            i -= 1;
        }
        let (start, end) = (self.byte_at(i), self.byte_at(self.cursor));
        self.text.replace_range(start..end, "");
        self.cursor = i;
    }

    /// Moves the cursor left.
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Moves the cursor right.
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.len());
    }

    /// Cursor to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Cursor to the end.
    pub fn end(&mut self) {
        self.cursor = self.len();
    }

    /// Replaces the chars `start..end` (char indexes) with `with`, cursor after it.
    pub fn replace(&mut self, start: usize, end: usize, with: &str) {
        let (bs, be) = (self.byte_at(start), self.byte_at(end.max(start)));
        self.text.replace_range(bs..be, with);
        self.cursor = start + with.chars().count();
    }

    /// Applies a text-editing action (typing, pasting, deleting, moving the cursor); other
    /// actions leave the text as it is. Every text field of the UI edits through this.
    pub fn apply(&mut self, action: &super::action::Action) {
        use super::action::Action;
        match action {
            Action::Input(c) => self.insert(*c),
            Action::Paste(text) => self.insert_str(text),
            Action::Backspace => self.backspace(),
            Action::Delete => self.delete(),
            Action::DeleteWord => self.delete_word(),
            Action::ClearInput => self.set(""),
            Action::CursorLeft => self.left(),
            Action::CursorRight => self.right(),
            Action::CursorHome => self.home(),
            Action::CursorEnd => self.end(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_respect_multibyte_chars() {
        let mut e = LineEditor::new("héllo");
        e.left();
        e.backspace();
        assert_eq!(e.text, "hélo");
        e.home();
        e.delete();
        assert_eq!(e.text, "élo");
        e.insert('\u{1b}');
        e.insert('x');
        assert_eq!(e.text, "xélo");
        assert_eq!(e.cursor, 1);
    }

    #[test]
    fn delete_word_and_replace() {
        let mut e = LineEditor::new("status:200 and meth");
        e.delete_word();
        assert_eq!(e.text, "status:200 and ");
        e.replace(0, 6, "code");
        assert_eq!(e.text, "code:200 and ");
        assert_eq!(e.cursor, 4);
    }
}
