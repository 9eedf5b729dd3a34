use proptest::prelude::*;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;

fn rule(raw: &str) -> Recurrence {
    Recurrence::parse(raw).expect("a valid rule")
}

fn zone(name: &str) -> TimeZone {
    TimeZone::parse(name).expect("a known zone")
}

/// The due date after completing at `now` a task due at `due` repeating by `raw` in `zone`.
fn next(
    raw: &str,
    zone_name: &str,
    due: OffsetDateTime,
    now: OffsetDateTime,
) -> Option<Occurrence> {
    rule(raw).next_after(DueDate::new(due), zone(zone_name), now)
}

fn next_due(
    raw: &str,
    zone_name: &str,
    due: OffsetDateTime,
    now: OffsetDateTime,
) -> OffsetDateTime {
    next(raw, zone_name, due, now)
        .expect("a further occurrence")
        .due
        .at()
}

#[test]
fn rules_are_returned_in_canonical_form() {
    assert_eq!(
        rule("freq=weekly;byday=MO,WE").as_str(),
        "FREQ=WEEKLY;BYDAY=MO,WE"
    );
    assert_eq!(rule("RRULE:FREQ=DAILY;INTERVAL=1").as_str(), "FREQ=DAILY");
    assert_eq!(
        rule("BYMONTHDAY=31;FREQ=MONTHLY;COUNT=3").as_str(),
        "FREQ=MONTHLY;COUNT=3;BYMONTHDAY=31"
    );
    assert_eq!(
        rule("FREQ=DAILY;UNTIL=20261231T235959Z").as_str(),
        "FREQ=DAILY;UNTIL=20261231T235959Z"
    );
}

#[test]
fn rules_finer_than_a_day_or_not_of_the_rfc_are_refused() {
    for refused in [
        "FREQ=HOURLY",
        "FREQ=MINUTELY",
        "FREQ=SECONDLY",
        "FREQ=DAILY;BYHOUR=9",
        "FREQ=WEEKLY;BYMINUTE=30",
        "FREQ=DAILY;UNTIL=20261231T235959",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=FORTNIGHTLY",
        "BYDAY=MO",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=DAILY;FOO=1",
        "",
        "every monday",
    ] {
        let error = Recurrence::parse(refused).expect_err(refused);
        assert_eq!(error.field(), "recurrence", "{refused}");
    }
    let long = format!("FREQ=DAILY;BYMONTH={}", vec!["1"; 300].join(","));
    assert!(Recurrence::parse(&long).is_err());
}

#[test]
fn time_zones_are_iana_names() {
    assert_eq!(zone("Europe/Berlin").name(), "Europe/Berlin");
    assert_eq!(TimeZone::default().name(), "UTC");
    assert_eq!(zone("UTC"), TimeZone::UTC);
    for refused in ["Mars/Olympus", "", "+02:00", "CEST-ish", "utc", "UTC "] {
        assert_eq!(TimeZone::parse(refused).unwrap_err().field(), "timezone");
    }
}

#[test]
fn daily_moves_to_the_next_day() {
    let due = datetime!(2026-03-02 09:00 UTC);
    assert_eq!(
        next_due("FREQ=DAILY", "UTC", due, datetime!(2026-03-02 08:00 UTC)),
        datetime!(2026-03-03 09:00 UTC)
    );
}

#[test]
fn an_overdue_task_moves_past_now_not_to_the_next_missed_day() {
    let due = datetime!(2026-03-02 09:00 UTC);
    assert_eq!(
        next_due("FREQ=DAILY", "UTC", due, datetime!(2026-03-10 12:00 UTC)),
        datetime!(2026-03-11 09:00 UTC)
    );
}

#[test]
fn weekly_by_day_moves_to_the_next_listed_weekday() {
    // Monday 2026-03-02.
    let due = datetime!(2026-03-02 09:00 UTC);
    let now = datetime!(2026-03-02 10:00 UTC);
    let wednesday = next_due("FREQ=WEEKLY;BYDAY=MO,WE", "UTC", due, now);
    assert_eq!(wednesday, datetime!(2026-03-04 09:00 UTC));
    assert_eq!(
        next_due("FREQ=WEEKLY;BYDAY=MO,WE", "UTC", wednesday, now),
        datetime!(2026-03-09 09:00 UTC)
    );
    assert_eq!(
        next_due("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "UTC", due, now),
        datetime!(2026-03-16 09:00 UTC)
    );
}

#[test]
fn monthly_on_the_31st_skips_months_without_one() {
    let due = datetime!(2026-01-31 09:00 UTC);
    let now = datetime!(2026-01-31 10:00 UTC);
    let march = next_due("FREQ=MONTHLY;BYMONTHDAY=31", "UTC", due, now);
    assert_eq!(march, datetime!(2026-03-31 09:00 UTC));
    assert_eq!(
        next_due("FREQ=MONTHLY", "UTC", march, now),
        datetime!(2026-05-31 09:00 UTC)
    );
    // The last day of every month is BYMONTHDAY=-1.
    assert_eq!(
        next_due("FREQ=MONTHLY;BYMONTHDAY=-1", "UTC", due, now),
        datetime!(2026-02-28 09:00 UTC)
    );
}

#[test]
fn yearly_on_29_february_waits_for_the_next_leap_year() {
    let due = datetime!(2028-02-29 09:00 UTC);
    assert_eq!(
        next_due("FREQ=YEARLY", "UTC", due, datetime!(2028-02-29 10:00 UTC)),
        datetime!(2032-02-29 09:00 UTC)
    );
}

#[test]
fn count_counts_down_and_a_spent_count_ends_the_series() {
    let due = datetime!(2026-03-02 09:00 UTC);
    let now = datetime!(2026-03-02 10:00 UTC);
    let second = next("FREQ=DAILY;COUNT=3", "UTC", due, now).unwrap();
    assert_eq!(second.due.at(), datetime!(2026-03-03 09:00 UTC));
    assert_eq!(second.rule.as_str(), "FREQ=DAILY;COUNT=2");
    let third = second
        .rule
        .next_after(second.due, TimeZone::UTC, now)
        .unwrap();
    assert_eq!(third.due.at(), datetime!(2026-03-04 09:00 UTC));
    assert_eq!(third.rule.as_str(), "FREQ=DAILY;COUNT=1");
    assert_eq!(third.rule.next_after(third.due, TimeZone::UTC, now), None);
    // Overdue: the occurrences passed are spent too.
    let late = next(
        "FREQ=DAILY;COUNT=5",
        "UTC",
        due,
        datetime!(2026-03-04 12:00 UTC),
    )
    .unwrap();
    assert_eq!(late.due.at(), datetime!(2026-03-05 09:00 UTC));
    assert_eq!(late.rule.as_str(), "FREQ=DAILY;COUNT=2");
    assert_eq!(
        next(
            "FREQ=DAILY;COUNT=3",
            "UTC",
            due,
            datetime!(2026-03-09 12:00 UTC)
        ),
        None
    );
}

#[test]
fn a_spent_until_ends_the_series() {
    let due = datetime!(2026-03-02 09:00 UTC);
    let now = datetime!(2026-03-02 10:00 UTC);
    let raw = "FREQ=DAILY;UNTIL=20260303T090000Z";
    let last = next(raw, "UTC", due, now).unwrap();
    assert_eq!(last.due.at(), datetime!(2026-03-03 09:00 UTC));
    assert_eq!(last.rule.as_str(), raw);
    assert_eq!(last.rule.next_after(last.due, TimeZone::UTC, now), None);
}

#[test]
fn berlin_keeps_nine_oclock_across_both_daylight_saving_changes() {
    // Spring forward on 2026-03-29: 09:00 is 08:00 UTC before, 07:00 UTC after.
    let before = datetime!(2026-03-28 08:00 UTC);
    let now = datetime!(2026-03-28 09:00 UTC);
    assert_eq!(
        next_due("FREQ=DAILY", "Europe/Berlin", before, now),
        datetime!(2026-03-29 07:00 UTC)
    );
    // Fall back on 2026-10-25: from 07:00 UTC to 08:00 UTC.
    let before = datetime!(2026-10-24 07:00 UTC);
    let now = datetime!(2026-10-24 08:00 UTC);
    assert_eq!(
        next_due("FREQ=DAILY", "Europe/Berlin", before, now),
        datetime!(2026-10-25 08:00 UTC)
    );
    // The same rule in UTC keeps the UTC hour instead.
    assert_eq!(
        next_due("FREQ=DAILY", "UTC", before, now),
        datetime!(2026-10-25 07:00 UTC)
    );
}

#[test]
fn new_york_keeps_nine_oclock_across_both_daylight_saving_changes() {
    // Spring forward on 2026-03-08: 09:00 EST is 14:00 UTC, 09:00 EDT is 13:00 UTC.
    let before = datetime!(2026-03-07 14:00 UTC);
    let now = datetime!(2026-03-07 15:00 UTC);
    assert_eq!(
        next_due("FREQ=DAILY", "America/New_York", before, now),
        datetime!(2026-03-08 13:00 UTC)
    );
    // Fall back on 2026-11-01, weekly: Sunday 09:00 EDT to Sunday 09:00 EST.
    let before = datetime!(2026-10-25 13:00 UTC);
    let now = datetime!(2026-10-25 14:00 UTC);
    assert_eq!(
        next_due("FREQ=WEEKLY", "America/New_York", before, now),
        datetime!(2026-11-01 14:00 UTC)
    );
}

#[test]
fn a_rule_whose_days_never_come_has_no_next_occurrence() {
    let due = datetime!(2026-01-01 09:00 UTC);
    assert_eq!(
        next("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "UTC", due, due),
        None
    );
}

/// Rules built from the RFC's parts, valid or not, as clients might write them.
fn rule_text() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        prop::sample::select(vec!["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "X"])
            .prop_map(|f| format!("FREQ={f}")),
        (0u32..400).prop_map(|n| format!("INTERVAL={n}")),
        (0u32..400).prop_map(|n| format!("COUNT={n}")),
        prop::collection::vec(
            (
                prop::option::of(-5i32..6),
                prop::sample::select(vec!["MO", "TU", "WE", "TH", "FR", "SA", "SU", "ZZ"])
            ),
            1..4
        )
        .prop_map(|days| {
            let days: Vec<String> = days
                .into_iter()
                .map(|(n, d)| n.map_or_else(|| d.to_owned(), |n| format!("{n}{d}")))
                .collect();
            format!("BYDAY={}", days.join(","))
        }),
        prop::collection::vec(-40i32..40, 1..4).prop_map(|d| format!(
            "BYMONTHDAY={}",
            d.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )),
        prop::collection::vec(0i32..14, 1..4).prop_map(|m| format!(
            "BYMONTH={}",
            m.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )),
        (-400i32..400).prop_map(|n| format!("BYSETPOS={n}")),
        (1990u32..2100, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| format!("UNTIL={y:04}{m:02}{d:02}T120000Z")),
        prop::sample::select(vec!["MO", "SU", "XX"]).prop_map(|d| format!("WKST={d}")),
        "[ -~]{0,12}",
    ];
    prop::collection::vec(part, 0..6).prop_map(|parts| parts.join(";"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_never_panics_and_what_is_accepted_round_trips(raw in rule_text()) {
        if let Ok(parsed) = Recurrence::parse(&raw) {
            let again = Recurrence::parse(parsed.as_str()).expect("the canonical form parses");
            prop_assert_eq!(again.as_str(), parsed.as_str());
        }
    }

    #[test]
    fn any_text_is_refused_cleanly_or_accepted(raw in "\\PC{0,80}") {
        let _ = Recurrence::parse(&raw);
    }

    #[test]
    fn the_next_occurrence_is_later_than_due_and_now(
        raw in rule_text(),
        due_days in 0i64..3000,
        now_days in 0i64..3000,
        zone_name in prop::sample::select(vec!["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    ) {
        if let Ok(parsed) = Recurrence::parse(&raw) {
            let base = datetime!(2024-01-01 08:30 UTC);
            let due = DueDate::new(base + time::Duration::days(due_days));
            let now = base + time::Duration::days(now_days);
            if let Some(next) = parsed.next_after(due, zone(zone_name), now) {
                prop_assert!(next.due > due);
                prop_assert!(next.due.at() > now);
            }
        }
    }
}
