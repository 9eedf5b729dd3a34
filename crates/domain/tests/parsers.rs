//! Property tests of every parser: arbitrary input never panics, what is accepted satisfies
//! the rule, parsing the normalised form again changes nothing.

use domain::idempotency::IdempotencyKey;
use domain::task::{
    DueDate, Priority, SearchText, SortKey, SortOrder, StatusFilter, Tag, Tags, TaskDescription,
    TaskId, TaskQuery, TaskTitle,
};
use domain::user::UserId;
use domain::validation::Vocabulary;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn titles_are_normalised_once_and_for_all(raw in any::<String>()) {
        if let Ok(title) = TaskTitle::parse(&raw) {
            let text = title.as_str();
            prop_assert_eq!(text, text.trim());
            prop_assert!((1..=200).contains(&text.chars().count()));
            prop_assert!(!text.chars().any(char::is_control));
            prop_assert_eq!(TaskTitle::parse(text).unwrap(), title);
        }
    }

    #[test]
    fn descriptions_round_trip(raw in any::<String>()) {
        if let Ok(Some(description)) = TaskDescription::parse(&raw) {
            prop_assert_eq!(description.as_str(), raw.as_str());
            prop_assert!(description.as_str().chars().count() <= 1000);
            prop_assert_eq!(TaskDescription::parse(description.as_str()).unwrap(), Some(description));
        }
    }

    #[test]
    fn tags_are_normalised_once_and_for_all(raw in proptest::collection::vec(any::<String>(), 0..14)) {
        if let Ok(tags) = Tags::parse(&raw) {
            let names: Vec<&str> = tags.as_slice().iter().map(Tag::as_str).collect();
            prop_assert!(names.len() <= 10);
            let mut keys: Vec<String> = tags.as_slice().iter().map(Tag::key).collect();
            keys.dedup();
            prop_assert_eq!(keys.len(), names.len());
            prop_assert_eq!(Tags::parse(&names).unwrap(), tags);
        }
    }

    #[test]
    fn user_ids_and_keys_are_taken_verbatim(raw in any::<String>()) {
        if let Ok(id) = UserId::parse(raw.clone()) {
            prop_assert_eq!(id.as_str(), raw.as_str());
        }
        if let Ok(key) = IdempotencyKey::parse(&raw) {
            prop_assert_eq!(key.as_str(), raw.as_str());
        }
    }

    #[test]
    fn short_parsers_never_panic(raw in any::<String>()) {
        let _ = Priority::parse(&raw);
        let _ = TaskId::parse(&raw);
        let _ = SearchText::parse(&raw);
        if let Ok(due) = DueDate::parse(&raw) {
            prop_assert_eq!(due.at().offset(), time::UtcOffset::UTC);
            prop_assert_eq!(due.at().nanosecond() % 1_000_000, 0);
        }
    }

    #[test]
    fn listing_parameters_parse_or_are_refused_never_panic(raw in any::<String>()) {
        let _ = StatusFilter::parse(&raw);
        let _ = SortKey::parse(&raw);
        let _ = SortOrder::parse(&raw);
        if let Ok(limit) = TaskQuery::parse_limit(&raw) {
            prop_assert!((1..=500).contains(&limit));
        }
        if let Ok(offset) = TaskQuery::parse_offset(&raw) {
            prop_assert!(i64::try_from(offset).is_ok());
        }
        if let Ok(tags) = TaskQuery::parse_tags(&[raw.as_str()]) {
            prop_assert_eq!(tags.len(), 1);
        }
        if let Ok(Some(search)) = SearchText::parse(&raw) {
            prop_assert!(!search.as_str().chars().any(char::is_control));
        }
    }
}

#[test]
fn rfc3339_due_dates_round_trip_through_their_wire_form() {
    let due = DueDate::parse("2026-01-08T12:15:30.123+02:00").unwrap();
    let wire = due
        .at()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(DueDate::parse(&wire).unwrap(), due);
}
