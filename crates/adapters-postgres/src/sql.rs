//! The SQL that differs between PostgreSQL and SQLite, kept to one place.

use std::collections::HashMap;
use std::hash::Hash;
use std::mem::Discriminant;
use std::sync::{OnceLock, PoisonError, RwLock};

use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{DbBackend, Statement, Value};

/// Statements whose SQL depends on a few facts only, their *shape* (which clauses they have)
/// and the backend, not on their values: built and written by sea-query (or `format!`) once
/// per shape and backend, then only bound. sea-query spent ~14,000 instructions writing one
/// task's select anew for every `get`, and allocated 43 times for a listing's. Each statement
/// kept here has a test that what it binds is what its builder builds, in every shape.
pub(crate) struct Written<K> {
    sql: OnceLock<RwLock<Kept<K>>>,
}

/// The SQL written so far, by backend and shape. Hashed with foldhash rather than the default
/// `SipHash`: a shape is a few words of ours, and at most [`Written::KEPT`] are kept, so there is
/// no flood of crafted keys to resist, only a lookup on every statement.
type Kept<K> = HashMap<(Discriminant<DbBackend>, K), Box<str>, foldhash::fast::RandomState>;

impl<K: Eq + Hash> Written<K> {
    /// How many shapes are kept: past that (a client trying every combination of a listing's
    /// filters), statements are built anew.
    const KEPT: usize = 256;

    pub(crate) const fn new() -> Self {
        Self {
            sql: OnceLock::new(),
        }
    }

    /// The statement of this shape on `backend` with these values, or `build`'s, whose SQL is
    /// then kept for both. `values` must bind what `build` does, in its order.
    pub(crate) fn statement(
        &self,
        backend: DbBackend,
        shape: K,
        values: impl FnOnce() -> Vec<Value>,
        build: impl FnOnce() -> Statement,
    ) -> Statement {
        let shape = (std::mem::discriminant(&backend), shape);
        let sql = self.sql.get_or_init(RwLock::default);
        if let Some(known) = sql
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&shape)
        {
            return Statement::from_sql_and_values(backend, known.as_ref(), values());
        }
        let statement = build();
        let mut sql = sql.write().unwrap_or_else(PoisonError::into_inner);
        if sql.len() < Self::KEPT {
            sql.insert(shape, statement.sql.as_str().into());
        }
        statement
    }
}

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
