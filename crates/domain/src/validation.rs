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

/// Characters allowed nowhere in single-line text: C0/C1 controls and DEL.
pub(crate) fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// Checks a length in characters (Unicode scalar values, not bytes).
pub(crate) fn char_len_within(text: &str, min: usize, max: usize) -> bool {
    let len = text.chars().count();
    (min..=max).contains(&len)
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
    fn collector_without_errors_builds_the_value() {
        assert_eq!(Collector::new().finish(|| 7), Ok(7));
    }
}
