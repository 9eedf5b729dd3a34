use time::macros::datetime;

use super::*;
use crate::task::{Recurrence, TimeZone};

const NOW: OffsetDateTime = datetime!(2026-01-08 10:00 UTC);
const LATER: OffsetDateTime = datetime!(2026-01-08 11:00 UTC);

fn new_task() -> NewTask {
    crate::testing::new_task("Buy milk")
}

fn task() -> Task {
    Task::create(
        TaskId::generate(),
        UserId::parse("alice").unwrap(),
        new_task(),
        NOW,
    )
    .expect("a valid task")
}

#[test]
fn title_is_trimmed() {
    assert_eq!(
        TaskTitle::parse("  Buy milk \t").unwrap().as_str(),
        "Buy milk"
    );
}

#[test]
fn title_of_200_emoji_is_accepted() {
    let title = "😀".repeat(200);
    assert_eq!(TaskTitle::parse(&title).unwrap().as_str(), title);
}

#[test]
fn title_of_201_characters_is_rejected() {
    let error = TaskTitle::parse("a".repeat(201)).unwrap_err();
    assert_eq!(error.to_string(), "title: must be 1 to 200 characters");
}

#[test]
fn blank_title_is_rejected() {
    assert!(TaskTitle::parse("   ").is_err());
    assert!(TaskTitle::parse("").is_err());
}

#[test]
fn title_with_a_bell_character_is_rejected() {
    let error = TaskTitle::parse("ring \u{7} ring").unwrap_err();
    assert_eq!(error.message(), "must not contain control characters");
}

#[test]
fn title_with_a_newline_inside_is_rejected() {
    assert!(TaskTitle::parse("two\nlines").is_err());
}

#[test]
fn description_of_1000_characters_is_accepted() {
    let text = "é".repeat(1000);
    assert_eq!(
        TaskDescription::parse(&text).unwrap().unwrap().as_str(),
        text
    );
}

#[test]
fn description_of_1001_characters_is_rejected() {
    assert!(TaskDescription::parse("a".repeat(1001)).is_err());
}

#[test]
fn empty_or_blank_description_becomes_none() {
    assert_eq!(TaskDescription::parse(""), Ok(None));
    assert_eq!(TaskDescription::parse("  \n "), Ok(None));
}

#[test]
fn description_keeps_line_breaks_and_tabs_in_any_script() {
    for text in ["  line one\r\n\tline two", "café\r\n\tthé"] {
        assert_eq!(
            TaskDescription::parse(text).unwrap().unwrap().as_str(),
            text
        );
    }
}

#[test]
fn description_with_other_control_characters_is_rejected() {
    for control in ["a\0b", "café\u{85}", "café\u{7f}", "café\0", "caf\u{9f}é"] {
        assert!(TaskDescription::parse(control).is_err(), "{control:?}");
    }
}

#[test]
fn priority_accepts_exactly_the_three_names() {
    assert_eq!(Priority::parse("low"), Ok(Priority::Low));
    assert_eq!(Priority::parse("medium"), Ok(Priority::Medium));
    assert_eq!(Priority::parse("high"), Ok(Priority::High));
    assert!(Priority::parse("High").is_err());
    assert!(Priority::parse("urgent").is_err());
}

#[test]
fn priority_defaults_to_medium() {
    assert_eq!(Priority::default(), Priority::Medium);
}

#[test]
fn tags_are_trimmed_and_deduplicated_ignoring_case_keeping_the_first() {
    let tags = Tags::parse(&[" Work ", "home", "WORK", "Home", "x"]).unwrap();
    let names: Vec<&str> = tags.as_slice().iter().map(Tag::as_str).collect();
    assert_eq!(names, ["Work", "home", "x"]);
    let tags = Tags::parse(&["Straße", "STRASSE", "ÉTÉ", "été", "Été!"]).unwrap();
    let names: Vec<&str> = tags.as_slice().iter().map(Tag::as_str).collect();
    assert_eq!(names, ["Straße", "STRASSE", "ÉTÉ", "Été!"]);
}

#[test]
fn ten_tags_are_accepted_and_eleven_rejected() {
    let ten: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    assert_eq!(Tags::parse(&ten).unwrap().as_slice().len(), 10);
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let errors = Tags::parse(&eleven).unwrap_err();
    assert_eq!(errors.errors()[0].field(), "tags");
}

#[test]
fn eleven_tags_with_a_duplicate_are_ten_and_accepted() {
    let mut tags: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    tags.push("T3".into());
    assert_eq!(Tags::parse(&tags).unwrap().as_slice().len(), 10);
}

#[test]
fn tag_of_32_characters_is_accepted_and_33_rejected() {
    assert!(Tags::parse(&["ü".repeat(32)]).is_ok());
    assert!(Tags::parse(&["ü".repeat(33)]).is_err());
}

#[test]
fn every_bad_tag_is_reported_with_its_index() {
    let errors = Tags::parse(&["ok", "", "also ok", &"x".repeat(40)]).unwrap_err();
    let fields: Vec<&str> = errors.errors().iter().map(FieldError::field).collect();
    assert_eq!(fields, ["tags[1]", "tags[3]"]);
}

#[test]
fn due_date_is_parsed_converted_to_utc_and_truncated_to_milliseconds() {
    let due = DueDate::parse("2026-01-08T12:15:30.123456+02:00").unwrap();
    assert_eq!(due.at(), datetime!(2026-01-08 10:15:30.123 UTC));
}

#[test]
fn due_date_that_is_not_rfc3339_is_rejected() {
    assert!(DueDate::parse("2026-01-08").is_err());
    assert!(DueDate::parse("tomorrow").is_err());
}

#[test]
fn task_id_parses_uuids_only() {
    let id = TaskId::generate();
    assert_eq!(TaskId::parse(&id.to_string()), Ok(id));
    assert!(TaskId::parse("42").is_err());
}

#[test]
fn generated_task_ids_are_version_7() {
    assert_eq!(TaskId::generate().as_uuid().get_version_num(), 7);
}

#[test]
fn a_new_task_is_pending_at_version_1() {
    let task = task();
    assert!(!task.completed());
    assert_eq!(task.completed_at(), None);
    assert_eq!(task.version(), Version::INITIAL);
    assert_eq!(task.created_at(), NOW);
    assert_eq!(task.updated_at(), NOW);
}

#[test]
fn a_task_created_completed_has_completed_at() {
    let new = NewTask {
        completed: true,
        ..new_task()
    };
    let task = Task::create(TaskId::generate(), UserId::parse("a").unwrap(), new, NOW)
        .expect("a valid task");
    assert_eq!(task.completed_at(), Some(NOW));
}

#[test]
fn update_sets_present_fields_and_keeps_absent_ones() {
    let mut task = task();
    let patch = TaskPatch {
        title: Some(TaskTitle::parse("Buy oat milk").unwrap()),
        priority: Some(Priority::High),
        ..TaskPatch::default()
    };
    assert_eq!(task.apply(patch, LATER), Ok(Applied::Changed));
    assert_eq!(task.title().as_str(), "Buy oat milk");
    assert_eq!(task.priority(), Priority::High);
    assert_eq!(task.description(), None);
    assert_eq!(task.version(), Version::INITIAL.next());
    assert_eq!(task.updated_at(), LATER);
    assert_eq!(task.created_at(), NOW);
}

#[test]
fn update_with_null_clears_a_nullable_field() {
    let mut task = task();
    task.apply(
        TaskPatch {
            due_date: Some(Some(DueDate::new(LATER))),
            ..TaskPatch::default()
        },
        NOW,
    )
    .expect("a valid patch");
    task.apply(
        TaskPatch {
            due_date: Some(None),
            ..TaskPatch::default()
        },
        LATER,
    )
    .expect("a valid patch");
    assert_eq!(task.due_date(), None);
}

#[test]
fn update_that_changes_nothing_keeps_version_and_updated_at() {
    let mut task = task();
    let same_title = TaskPatch {
        title: Some(TaskTitle::parse("Buy milk").unwrap()),
        ..TaskPatch::default()
    };
    assert_eq!(task.apply(same_title, LATER), Ok(Applied::Unchanged));
    assert_eq!(task.version(), Version::INITIAL);
    assert_eq!(task.updated_at(), NOW);
}

#[test]
fn completing_sets_completed_at_and_reopening_clears_it() {
    let mut task = task();
    task.apply(
        TaskPatch {
            completed: Some(true),
            ..TaskPatch::default()
        },
        LATER,
    )
    .expect("a valid patch");
    assert_eq!(task.completed_at(), Some(LATER));
    task.complete(Completion::Toggle, LATER);
    assert!(!task.completed());
    assert_eq!(task.completed_at(), None);
}

#[test]
fn setting_completion_to_the_current_state_keeps_completed_at() {
    let mut task = task();
    task.complete(Completion::Set(true), NOW);
    task.complete(Completion::Set(true), LATER);
    assert_eq!(task.completed_at(), Some(NOW));
}

#[test]
fn restore_drops_completed_at_of_a_pending_task() {
    let mut record = task().0;
    record.completed_at = Some(NOW);
    assert_eq!(Task::restore(record).completed_at(), None);
}

#[test]
fn overdue_means_pending_with_a_past_due_date() {
    let mut task = task();
    task.apply(
        TaskPatch {
            due_date: Some(Some(DueDate::new(NOW))),
            ..TaskPatch::default()
        },
        NOW,
    )
    .expect("a valid patch");
    assert!(task.is_overdue(LATER));
    assert!(!task.is_overdue(NOW));
    task.complete(Completion::Set(true), LATER);
    assert!(!task.is_overdue(LATER));
}

#[test]
fn a_recurring_task_needs_a_due_date() {
    let new = NewTask {
        recurrence: Some(Recurrence::parse("FREQ=DAILY").unwrap()),
        ..new_task()
    };
    let error = Task::create(TaskId::generate(), UserId::parse("a").unwrap(), new, NOW)
        .expect_err("no due date");
    assert_eq!(error.field(), "recurrence");

    let mut task = task();
    let repeat = TaskPatch {
        recurrence: Some(Some(Recurrence::parse("FREQ=DAILY").unwrap())),
        ..TaskPatch::default()
    };
    assert_eq!(task.apply(repeat, LATER).unwrap_err().field(), "recurrence");
    assert_eq!(
        task.version(),
        Version::INITIAL,
        "a refused patch changes nothing"
    );
}

#[test]
fn completing_a_recurring_task_moves_due_date_and_reminder_by_the_same_amount() {
    let mut task = task();
    let weekly = TaskPatch {
        due_date: Some(Some(DueDate::new(datetime!(2026-01-08 09:00 UTC)))),
        remind_at: Some(Some(RemindAt::new(datetime!(2026-01-07 18:30 UTC)))),
        recurrence: Some(Some(Recurrence::parse("FREQ=WEEKLY").unwrap())),
        timezone: Some(TimeZone::parse("Europe/Berlin").unwrap()),
        ..TaskPatch::default()
    };
    assert_eq!(task.apply(weekly, NOW), Ok(Applied::Changed));
    let complete = TaskPatch {
        completed: Some(true),
        ..TaskPatch::default()
    };
    assert_eq!(task.apply(complete, LATER), Ok(Applied::Advanced));
    assert!(!task.completed());
    assert_eq!(task.completed_at(), None);
    assert_eq!(
        task.due_date().unwrap().at(),
        datetime!(2026-01-15 09:00 UTC)
    );
    assert_eq!(
        task.remind_at().unwrap().at(),
        datetime!(2026-01-14 18:30 UTC)
    );
    assert_eq!(task.version(), Version::INITIAL.next().next());
}
