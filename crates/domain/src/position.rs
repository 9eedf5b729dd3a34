//! Manual order: a position among siblings, chosen so that any item can be put between any two
//! others without renumbering them. Positions are fractional-index keys (the
//! `fractional_index` crate), written as lower-case hex: siblings sorted by their position in
//! plain byte order are in the user's order, on any database and in any client.

use compact_str::{CompactString, format_compact};
use fractional_index::FractionalIndex;

use crate::validation::FieldError;

/// A place among siblings; compare two with `Ord`, which is byte order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(CompactString);

impl Position {
    /// The position of the first item of an empty set of siblings.
    pub fn first() -> Self {
        Self(FractionalIndex::default().to_string().into())
    }

    /// The position of the `n`th item its owner put last among some siblings: after every
    /// position with a smaller `n`, and after every position `between` makes below one of
    /// these. Putting things last this way needs a counter, not a read of the current last;
    /// stored positions made otherwise (first keys, migrated ones) start below `f0`.
    pub fn appended(n: u64) -> Self {
        // The bytes f0, n in eight big-endian bytes, and the terminator 80: one width for all.
        Self(format_compact!("f0{n:016x}80"))
    }

    /// The position of the `n`th item its owner put first among some siblings: before every
    /// position with a smaller `n`, every position `between` makes above one of these, and
    /// `first`'s and `appended`'s. Like `appended`, it needs the owner's counter, not a read
    /// of the current first; but a key `between` made before a first sibling without it can
    /// be lower ([`Self::before`]).
    pub fn prepended(n: u64) -> Self {
        // The byte 01, then i64::MAX - n (the counter is a PostgreSQL bigint) in eight
        // big-endian bytes, then the terminator 80. Fronts made by `between` alone start at
        // 7f and lose one a move: 01 is below the first 127 of them, and is no zero byte.
        let countdown = (i64::MAX as u64).saturating_sub(n);
        Self(format_compact!("01{countdown:016x}80"))
    }

    /// The position the owner's `n`th placement puts before `first`, the first of some
    /// siblings: [`Self::prepended`], unless `first` is older and lower, then a key between
    /// nothing and `first`. `None` when `first` is not a key.
    pub fn before(n: u64, first: &Self) -> Option<Self> {
        let prepended = Self::prepended(n);
        if prepended < *first {
            Some(prepended)
        } else {
            Self::between(None, Some(first))
        }
    }

    /// A position strictly between `before` and `after`, either of which may be absent (the
    /// start or the end of the siblings). `None` when `before` is not strictly below `after`.
    pub fn between(before: Option<&Self>, after: Option<&Self>) -> Option<Self> {
        let index = |p: &Self| FractionalIndex::from_string(&p.0).ok();
        let (lower, upper) = match (before, after) {
            (Some(lower), Some(upper)) => (index(lower)?, index(upper)?),
            (lower, upper) => {
                let lower = lower.map(index);
                let upper = upper.map(index);
                if matches!(lower, Some(None)) || matches!(upper, Some(None)) {
                    return None;
                }
                return FractionalIndex::new(lower.flatten().as_ref(), upper.flatten().as_ref())
                    .map(|index| Self(index.to_string().into()));
            }
        };
        if lower >= upper {
            return None;
        }
        let (left, right) = (lower.as_bytes(), upper.as_bytes());
        // fractional_index 2.0.2 computes `right[i] - 1` on the bytes the two keys share, which
        // overflows on a shared 0x00 byte (keys made by many insertions at the front have
        // them): a panic in debug builds, a key outside the bounds in release ones. There, and
        // should its answer ever not lie between the bounds, a key is made here instead.
        let shared_zero = left
            .iter()
            .zip(right)
            .take(left.len().min(right.len()) - 1)
            .take_while(|(l, r)| l == r)
            .any(|(_, r)| *r == 0);
        if !shared_zero
            && let Some(middle) = FractionalIndex::new_between(&lower, &upper)
            && lower < middle
            && middle < upper
        {
            return Some(Self(middle.to_string().into()));
        }
        FractionalIndex::from_bytes(between_bytes(left, right))
            .ok()
            .map(|index| Self(index.to_string().into()))
    }

    /// A stored position: lower-case hex bytes ending in the key's terminator byte (`80`), what
    /// `FractionalIndex::from_string` accepts, checked without decoding: a listing parses one
    /// per row.
    pub fn parse(raw: impl Into<CompactString>) -> Result<Self, FieldError> {
        let raw = raw.into();
        let valid = raw.len().is_multiple_of(2)
            && raw.ends_with("80")
            && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if valid {
            Ok(Self(raw))
        } else {
            Err(FieldError::new("position", "must be a position key"))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A key strictly between two keys `left < right` (byte strings ending in the terminator
/// 0x80): `left` followed by one more terminator when they differ inside `left`; else (`left`
/// is a prefix of `right`) `left` followed by the rest of `right` lowered at its first
/// non-zero byte.
fn between_bytes(left: &[u8], right: &[u8]) -> Vec<u8> {
    let mut key = left.to_vec();
    if let Some(rest) = right.strip_prefix(left) {
        let nonzero = rest.iter().position(|b| *b != 0).unwrap_or(rest.len() - 1);
        key.extend_from_slice(&rest[..nonzero]);
        key.push(rest[nonzero] - 1);
    }
    key.push(0x80);
    key
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

/// One end of some siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum End {
    /// Before every sibling.
    First,
    /// After every sibling.
    Last,
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
    fn appended_positions_go_after_everything_else_and_in_their_order() {
        let first = Position::first();
        let one = Position::appended(1);
        let two = Position::appended(2);
        assert!(first < one && one < two);
        assert!(Position::appended(u64::from(u32::MAX)) < Position::appended(u64::MAX));
        let middle = Position::between(Some(&one), Some(&two)).unwrap();
        let front = Position::between(None, Some(&first)).unwrap();
        assert!(front < first && one < middle && middle < two);
        assert_eq!(Position::parse(two.as_str()), Ok(two));
    }

    #[test]
    fn prepended_positions_go_before_everything_else_and_in_their_order() {
        let one = Position::prepended(1);
        let two = Position::prepended(2);
        assert!(two < one && one < Position::first() && one < Position::appended(0));
        let largest = Position::prepended(i64::MAX as u64);
        assert!(largest < Position::prepended(u64::from(u32::MAX)));
        assert_eq!(largest.as_str(), "01000000000000000080");
        let middle = Position::between(Some(&two), Some(&one)).unwrap();
        assert!(two < middle && middle < one);
        assert_eq!(Position::parse(two.as_str()), Ok(two));
    }

    #[test]
    fn before_a_first_sibling_is_by_the_counter_unless_the_sibling_is_lower() {
        let first = Position::appended(1);
        assert_eq!(Position::before(5, &first), Some(Position::prepended(5)));
        let prepended = Position::prepended(5);
        assert_eq!(
            Position::before(6, &prepended),
            Some(Position::prepended(6))
        );
        // An older front, made by `between` alone, far down.
        let low = Position::parse("0080").unwrap();
        let before = Position::before(7, &low).unwrap();
        assert!(before < low);
        assert_eq!(Some(before), Position::between(None, Some(&low)));
    }

    #[test]
    fn keys_sharing_a_zero_byte_still_get_a_key_between() {
        // Made by many insertions at the front; the crate alone overflows on them.
        let lower = Position::parse("007f80").unwrap();
        let upper = Position::parse("0080").unwrap();
        let middle = Position::between(Some(&lower), Some(&upper)).unwrap();
        assert!(lower < middle && middle < upper, "{}", middle.as_str());
        let prefix = Position::parse("80").unwrap();
        let longer = Position::parse("8000008080").unwrap();
        let middle = Position::between(Some(&prefix), Some(&longer)).unwrap();
        assert!(prefix < middle && middle < longer, "{}", middle.as_str());
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
        fn any_insertion_sequence_keeps_byte_order(
            steps in prop::collection::vec(0usize..1000, 1..400),
            front in 0usize..300,
        ) {
            let mut sorted = vec![Position::first()];
            // Many insertions at the front by `between` first, which make keys with zero bytes.
            for _ in 0..front {
                let new = Position::between(None, sorted.first()).unwrap();
                sorted.insert(0, new);
            }
            // Then fronts by the counter among the others, as a move to the front makes them.
            let mut counter = 0;
            for step in steps {
                let at = step % (sorted.len() + 1);
                let new = if at == 0 && step % 2 == 0 {
                    counter += 1;
                    Position::before(counter, &sorted[0]).unwrap()
                } else {
                    let before = at.checked_sub(1).map(|i| &sorted[i]);
                    Position::between(before, sorted.get(at)).unwrap()
                };
                sorted.insert(at, new);
            }
            prop_assert!(sorted.windows(2).all(|w| w[0].as_str().as_bytes() < w[1].as_str().as_bytes()));
        }
    }
}
