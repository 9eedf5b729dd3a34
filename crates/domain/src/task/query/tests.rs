use time::macros::datetime;

use super::*;
use crate::task::model::Completion;
use crate::task::{NewTask, Tags, TaskId, TaskTitle};
use crate::user::UserId;

fn parse(pairs: &[(&str, &str)]) -> Result<TaskQuery, ValidationErrors> {
    TaskQuery::from_pairs(pairs.iter().copied())
}

fn fields(errors: &ValidationErrors) -> Vec<&str> {
    errors.errors().iter().map(FieldError::field).collect()
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
    assert_eq!(
        errors.errors()[0].message(),
        "must be one of all, pending, completed"
    );
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
    let pairs: Vec<(&str, String)> = (0..11).map(|i| ("tag", format!("t{i}"))).collect();
    let errors = TaskQuery::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str()))).unwrap_err();
    assert_eq!(fields(&errors), ["tag"]);
}

#[test]
fn stats_count_pending_completed_overdue_and_priorities() {
    let now = datetime!(2026-01-08 10:00 UTC);
    let owner = UserId::parse("alice").unwrap();
    let make = |priority, completed, due: Option<OffsetDateTime>| {
        let mut task = Task::create(
            TaskId::generate(),
            owner.clone(),
            NewTask {
                title: TaskTitle::parse("t").unwrap(),
                description: None,
                completed: false,
                priority,
                tags: Tags::default(),
                due_date: due.map(DueDate::new),
            },
            now,
        );
        task.complete(Completion::Set(completed), now);
        task
    };
    let past = Some(datetime!(2026-01-01 0:00 UTC));
    let tasks = [
        make(Priority::High, false, past),
        make(Priority::High, true, past),
        make(Priority::Low, false, None),
        make(
            Priority::Medium,
            false,
            Some(datetime!(2026-02-01 0:00 UTC)),
        ),
    ];
    let stats = TaskStats::of(&tasks, now);
    assert_eq!(
        (stats.total, stats.completed, stats.pending, stats.overdue),
        (4, 1, 3, 1)
    );
    assert_eq!(
        stats.by_priority,
        PriorityCounts {
            low: 1,
            medium: 1,
            high: 2
        }
    );
}
