//! The SQL that differs between PostgreSQL and SQLite, kept to one place.

use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, SimpleExpr};

/// An expression whose order is the order of the timestamps it holds.
///
/// PostgreSQL compares `timestamptz` natively. SQLite keeps timestamps as RFC 3339 text with a
/// variable number of fraction digits (`…:30Z` sorts after `…:30.5Z`), so there both sides of a
/// comparison or sort are rewritten to a fixed-width form first.
pub(crate) fn timestamp(backend: DbBackend, expr: impl Into<SimpleExpr>) -> SimpleExpr {
    let expr = expr.into();
    match backend {
        DbBackend::Sqlite => Expr::cust_with_exprs("strftime('%Y-%m-%dT%H:%M:%fZ', ?)", [expr]),
        _ => expr,
    }
}

/// The function that returns the greatest of its arguments: `GREATEST` on PostgreSQL, the
/// scalar `MAX` of several arguments on SQLite.
pub(crate) fn greatest(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Sqlite => "MAX",
        _ => "GREATEST",
    }
}

/// A `LIKE` pattern matching `text` anywhere, lower-cased, with `%`, `_` and `\` taken literally
/// (the queries declare `\` as the escape character).
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(contains_pattern(r"50%_a\B"), r"%50\%\_a\\b%");
    }
}
