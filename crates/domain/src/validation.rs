//! Field-level validation errors, collected so that a client learns every problem at once.

use std::fmt;

/// One rejected field: a path such as `title` or `tags[3]`, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    field: String,
    message: String,
}

impl FieldError {
    /// A problem with `field`, described by `message` (which never repeats the input).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same problem reported under another name, e.g. `due_before` for a due date.
    #[must_use]
    pub fn renamed(self, field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            ..self
        }
    }

    /// The path of the field, as the client named it.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong, in words meant for a developer reading a response.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every field problem of one input; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// The individual problems, in the order they were found.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(error: FieldError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// Runs several parsers and keeps every error instead of stopping at the first.
#[derive(Debug, Default)]
pub struct Collector {
    errors: Vec<FieldError>,
}

impl Collector {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records the error and returns `None`.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.errors.push(e)).ok()
    }

    /// Like [`Collector::check`] for parsers that report several fields at once.
    pub fn check_all<T>(&mut self, result: Result<T, ValidationErrors>) -> Option<T> {
        result.map_err(|e| self.errors.extend(e.0)).ok()
    }

    /// Records a problem found outside a parser.
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// `Ok(build())` when nothing was recorded; `build` runs only then, so it may unwrap the
    /// values the checks returned.
    pub fn finish<T>(self, build: impl FnOnce() -> T) -> Result<T, ValidationErrors> {
        if self.errors.is_empty() {
            Ok(build())
        } else {
            Err(ValidationErrors(self.errors))
        }
    }
}

/// A closed set of values, each with the one name clients use for it (on the wire, in the
/// OpenAPI document, in error messages).
pub trait Vocabulary: Copy + PartialEq + Sized + 'static {
    /// The field or parameter the values are given in, for errors.
    const FIELD: &'static str;
    /// Every value with its name, in the order error messages list them.
    const NAMES: &'static [(&'static str, Self)];

    /// The value named `raw` exactly, or an error listing the names.
    fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::NAMES
            .iter()
            .find(|(name, _)| *name == raw)
            .map(|(_, value)| *value)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(name, _)| *name).collect();
                FieldError::new(Self::FIELD, format!("must be one of {}", names.join(", ")))
            })
    }

    /// This value's name.
    fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, value)| *value == self)
            .map_or("", |(name, _)| name)
    }
}

/// The rule of every single-line text a user sends: `min` to `max` characters (Unicode scalar
/// values, not bytes) and no control character (C0, C1, DEL). A NUL would make PostgreSQL
/// refuse the statement, and a line break could forge a line of a log.
pub(crate) fn single_line(
    field: &str,
    text: &str,
    min: usize,
    max: usize,
) -> Result<(), FieldError> {
    let (len, control) = length_and_control(text, &[]);
    if !(min..=max).contains(&len) {
        return Err(FieldError::new(
            field,
            format!("must be {min} to {max} characters"),
        ));
    }
    if control {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// The length of `text` in characters (Unicode scalar values), and whether it has a control
/// character (C0, C1, DEL) other than the ones `allowed`. ASCII text (most of it) is judged
/// byte by byte: stored text is parsed again for every row a listing reads.
pub(crate) fn length_and_control(text: &str, allowed: &[char]) -> (usize, bool) {
    if text.is_ascii() {
        // A fold has no early exit, so it is vectorised; most text has no control character,
        // and only text with one is searched again for one that is not allowed.
        let control = text
            .bytes()
            .fold(false, |found, b| found | b.is_ascii_control())
            && text
                .bytes()
                .any(|b| b.is_ascii_control() && !allowed.contains(&char::from(b)));
        (text.len(), control)
    } else {
        text.chars().fold((0, false), |(len, control), c| {
            (
                len + 1,
                control || (c.is_control() && !allowed.contains(&c)),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_keeps_every_error_in_order() {
        let mut c = Collector::new();
        assert_eq!(c.check::<u8>(Err(FieldError::new("a", "bad"))), None);
        assert_eq!(c.check(Ok(1)), Some(1));
        c.push(FieldError::new("b", "worse"));
        let errors = c.finish(|| ()).unwrap_err();
        assert_eq!(errors.to_string(), "a: bad; b: worse");
    }

    #[test]
    fn single_line_text_is_bounded_in_characters_and_has_no_controls() {
        assert_eq!(single_line("f", "éé", 1, 2), Ok(()));
        assert_eq!(
            single_line("f", "ééé", 1, 2).unwrap_err().message(),
            "must be 1 to 2 characters"
        );
        for control in ["\0", "a\nb", "\u{7f}", "\u{85}"] {
            assert_eq!(
                single_line("f", control, 1, 9).unwrap_err().message(),
                "must not contain control characters"
            );
        }
    }

    #[test]
    fn collector_without_errors_builds_the_value() {
        assert_eq!(Collector::new().finish(|| 7), Ok(7));
    }
}
