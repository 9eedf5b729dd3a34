use time::macros::datetime;

use super::*;
use crate::task::{NewTask, TaskId};
use crate::user::UserId;

#[test]
fn stats_count_pending_completed_overdue_and_priorities() {
    let now = datetime!(2026-01-08 10:00 UTC);
    let owner = UserId::parse("alice").unwrap();
    let make = |priority, completed, due: Option<OffsetDateTime>| {
        Task::create(
            TaskId::generate(),
            owner.clone(),
            NewTask {
                completed,
                priority,
                due_date: due.map(DueDate::new),
                ..crate::testing::new_task("t")
            },
            now,
        )
        .expect("a valid task")
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
