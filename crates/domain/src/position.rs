//! Manual order: a position among siblings, chosen so that any item can be put between any two
//! others without renumbering them. Positions are fractional-index keys (the
//! `fractional_index` crate), written as lower-case hex: siblings sorted by their position in
//! plain byte order are in the user's order, on any database and in any client.

use fractional_index::FractionalIndex;

use crate::validation::FieldError;

/// A place among siblings; compare two with `Ord`, which is byte order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(String);

impl Position {
    /// The position of the first item of an empty set of siblings.
    pub fn first() -> Self {
        Self(FractionalIndex::default().to_string())
    }

    /// A position strictly between `before` and `after`, either of which may be absent (the
    /// start or the end of the siblings). `None` when `before` is not strictly below `after`.
    pub fn between(before: Option<&Self>, after: Option<&Self>) -> Option<Self> {
        let index = |p: &Self| FractionalIndex::from_string(&p.0).ok();
        let before = before.map(index);
        let after = after.map(index);
        // A bound that does not decode cannot be placed against.
        if matches!(before, Some(None)) || matches!(after, Some(None)) {
            return None;
        }
        FractionalIndex::new(before.flatten().as_ref(), after.flatten().as_ref())
            .map(|index| Self(index.to_string()))
    }

    /// A stored position: lower-case hex bytes ending in the key's terminator byte (`80`), what
    /// `FractionalIndex::from_string` accepts, checked without decoding: a listing parses one
    /// per row.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let valid = raw.len().is_multiple_of(2)
            && raw.ends_with("80")
            && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new("position", "must be a position key"))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where to put an item among its siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot<Id> {
    /// Before every sibling.
    First,
    /// After every sibling.
    Last,
    /// Right after this sibling.
    After(Id),
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn positions_go_before_after_and_between() {
        let a = Position::first();
        let b = Position::between(Some(&a), None).unwrap();
        let first = Position::between(None, Some(&a)).unwrap();
        let middle = Position::between(Some(&a), Some(&b)).unwrap();
        assert!(first < a && a < middle && middle < b);
        assert_eq!(Position::parse(middle.as_str()), Ok(middle));
    }

    #[test]
    fn equal_or_reversed_bounds_have_nothing_between() {
        let a = Position::first();
        let b = Position::between(Some(&a), None).unwrap();
        assert_eq!(Position::between(Some(&a), Some(&a)), None);
        assert_eq!(Position::between(Some(&b), Some(&a)), None);
    }

    #[test]
    fn a_thousand_insertions_at_the_front_stay_short() {
        let mut front = Position::first();
        for _ in 0..1000 {
            front = Position::between(None, Some(&front)).unwrap();
        }
        assert!(front.as_str().len() <= 20, "{}", front.as_str());
    }

    #[test]
    fn keys_that_are_not_ours_are_refused() {
        for raw in ["", "zz", "7F80", "8", "7f", "080"] {
            assert!(Position::parse(raw).is_err(), "{raw}");
        }
        for raw in ["80", "7f80", "00ff80"] {
            let parsed = Position::parse(raw).unwrap();
            assert!(
                FractionalIndex::from_string(parsed.as_str()).is_ok(),
                "{raw}"
            );
        }
    }

    proptest! {
        #[test]
        fn any_insertion_sequence_keeps_byte_order(steps in prop::collection::vec(0usize..1000, 1..200)) {
            let mut sorted = vec![Position::first()];
            for step in steps {
                let at = step % (sorted.len() + 1);
                let before = at.checked_sub(1).map(|i| &sorted[i]);
                let new = Position::between(before, sorted.get(at)).unwrap();
                sorted.insert(at, new);
            }
            prop_assert!(sorted.windows(2).all(|w| w[0].as_str().as_bytes() < w[1].as_str().as_bytes()));
        }
    }
}
