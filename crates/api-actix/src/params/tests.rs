use domain::task::{Priority, SortKey, SortOrder, StatusFilter, TaskQuery};
use time::macros::datetime;

use super::ListTasksParams;
use crate::error::ApiError;
use crate::extract::Query;

/// The query of these pairs, or the fields of every error (the extractor's and the
/// conversion's alike).
fn parse(pairs: &[(&str, &str)]) -> Result<TaskQuery, Vec<String>> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(pairs);
    let errors = match Query::<ListTasksParams>::parse(&query.finish()) {
        Ok(query) => match query.params.into_domain() {
            Ok(query) => return Ok(query),
            Err(errors) => errors.errors().to_vec(),
        },
        Err(ApiError::Validation(errors)) => errors,
        Err(other) => panic!("{other:?}"),
    };
    Err(errors
        .iter()
        .map(|e| format!("{}: {}", e.field(), e.message()))
        .collect())
}

fn fields(errors: &[String]) -> Vec<&str> {
    errors
        .iter()
        .map(|e| e.split_once(':').unwrap().0)
        .collect()
}

#[test]
fn no_parameters_give_the_documented_defaults() {
    let query = parse(&[]).unwrap();
    assert_eq!(query, TaskQuery::default());
    assert_eq!(query.status, StatusFilter::All);
    assert_eq!(
        (query.sort, query.order),
        (SortKey::Created, SortOrder::Desc)
    );
    assert_eq!((query.limit, query.offset), (100, 0));
}

#[test]
fn each_sort_key_has_its_default_order() {
    for (sort, order) in [
        ("created", SortOrder::Desc),
        ("updated", SortOrder::Desc),
        ("priority", SortOrder::Desc),
        ("title", SortOrder::Asc),
        ("due_date", SortOrder::Asc),
    ] {
        assert_eq!(parse(&[("sort", sort)]).unwrap().order, order, "{sort}");
    }
}

#[test]
fn an_explicit_order_wins_over_the_default() {
    let query = parse(&[("sort", "title"), ("order", "desc")]).unwrap();
    assert_eq!((query.sort, query.order), (SortKey::Title, SortOrder::Desc));
}

#[test]
fn every_filter_is_parsed() {
    let query = parse(&[
        ("status", "pending"),
        ("q", "  milk "),
        ("priority", "high"),
        ("tag", "Work"),
        ("tag", "home"),
        ("due_before", "2026-02-01T00:00:00Z"),
        ("due_after", "2026-01-01T00:00:00Z"),
        ("limit", "500"),
        ("offset", "20"),
    ])
    .unwrap();
    assert_eq!(query.status, StatusFilter::Pending);
    assert_eq!(query.search.unwrap().as_str(), "milk");
    assert_eq!(query.priority, Some(Priority::High));
    assert_eq!(query.tags.len(), 2);
    assert_eq!(
        query.due_before.unwrap().at(),
        datetime!(2026-02-01 0:00 UTC)
    );
    assert_eq!(
        query.due_after.unwrap().at(),
        datetime!(2026-01-01 0:00 UTC)
    );
    assert_eq!((query.limit, query.offset), (500, 20));
}

#[test]
fn limit_must_be_between_1_and_500() {
    assert_eq!(parse(&[("limit", "1")]).unwrap().limit, 1);
    for bad in ["0", "501", "-1", "ten", ""] {
        assert_eq!(
            fields(&parse(&[("limit", bad)]).unwrap_err()),
            ["limit"],
            "{bad}"
        );
    }
}

#[test]
fn offset_must_be_between_0_and_the_largest_signed_64_bit_integer() {
    assert_eq!(
        parse(&[("offset", "9223372036854775807")]).unwrap().offset,
        9_223_372_036_854_775_807
    );
    for bad in ["-5", "9223372036854775808", "1e3"] {
        assert_eq!(
            fields(&parse(&[("offset", bad)]).unwrap_err()),
            ["offset"],
            "{bad}"
        );
    }
}

#[test]
fn every_bad_value_is_reported_under_its_parameter() {
    let errors = parse(&[
        ("status", "done"),
        ("priority", "urgent"),
        ("sort", "size"),
        ("order", "up"),
        ("due_before", "soon"),
        ("tag", ""),
    ])
    .unwrap_err();
    assert_eq!(
        fields(&errors),
        [
            "status",
            "priority",
            "tag[0]",
            "due_before",
            "sort",
            "order"
        ]
    );
    assert_eq!(errors[0], "status: must be one of all, pending, completed");
}

#[test]
fn unknown_parameters_are_rejected_not_ignored() {
    assert_eq!(
        fields(&parse(&[("stauts", "pending")]).unwrap_err()),
        ["stauts"]
    );
}

#[test]
fn a_single_valued_parameter_given_twice_is_rejected() {
    let errors = parse(&[("status", "pending"), ("status", "completed")]).unwrap_err();
    assert_eq!(fields(&errors), ["status"]);
}

#[test]
fn a_blank_search_means_no_search() {
    assert_eq!(parse(&[("q", "  ")]).unwrap().search, None);
}

#[test]
fn more_than_ten_tag_filters_are_rejected() {
    let tags: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let pairs: Vec<(&str, &str)> = tags.iter().map(|t| ("tag", t.as_str())).collect();
    assert_eq!(fields(&parse(&pairs).unwrap_err()), ["tag"]);
}

#[test]
fn a_search_with_a_control_character_is_refused() {
    for bad in ["\0", "a\0b", "a\nb"] {
        assert_eq!(fields(&parse(&[("q", bad)]).unwrap_err()), ["q"], "{bad:?}");
    }
}
