//! Listing, stats and clearing: each filter and sort, paging, escaping, isolation.

use adapters_postgres::testing::TestDatabase;
use domain::task::{
    Completion, DueDate, NewTask, Priority, SearchText, SortKey, SortOrder, StatusFilter, Tags,
    Task, TaskDescription, TaskPatch, TaskQuery, TaskRepository, TaskStats, TaskTitle,
};
use domain::user::UserId;
use domain::validation::Vocabulary;
use time::Duration;
use time::macros::datetime;

use crate::Written;
use crate::{NOW, Repos, new_task};

adapters_postgres::on_both_backends!(
    setup = crate::database;
    listing_defaults_to_newest_first_and_only_the_owners_tasks,
    status_priority_and_due_filters_select_the_right_tasks,
    tag_filters_require_every_tag_ignoring_case,
    tag_filters_follow_updates_that_change_the_tags_and_those_that_keep_them,
    search_ignores_case_in_title_and_description,
    search_treats_like_metacharacters_literally,
    title_sort_ignores_case,
    due_date_sort_puts_undated_tasks_last_in_both_orders,
    priority_sort_puts_high_first_by_default,
    timestamps_within_one_second_sort_in_time_order,
    paging_is_stable_and_reports_the_total,
    a_page_past_the_end_is_empty_but_knows_the_total,
    stats_agree_with_the_domains_definition,
    clearing_completed_deletes_only_the_owners_completed_tasks,
);

/// A listing query written as its wire parameters, each read by the domain's own parser.
fn query(pairs: &[(&str, &str)]) -> TaskQuery {
    let mut query = TaskQuery::default();
    let (mut tags, mut order) = (Vec::new(), None);
    for &(name, value) in pairs {
        match name {
            "status" => query.status = StatusFilter::parse(value).unwrap(),
            "q" => query.search = SearchText::parse(value).unwrap(),
            "priority" => query.priority = Some(Priority::parse(value).unwrap()),
            "tag" => tags.push(value),
            "due_before" => query.due_before = Some(DueDate::parse(value).unwrap()),
            "due_after" => query.due_after = Some(DueDate::parse(value).unwrap()),
            "sort" => query.sort = SortKey::parse(value).unwrap(),
            "order" => order = Some(SortOrder::parse(value).unwrap()),
            "limit" => query.limit = TaskQuery::parse_limit(value).unwrap(),
            "offset" => query.offset = TaskQuery::parse_offset(value).unwrap(),
            other => panic!("no parameter {other}"),
        }
    }
    query.tags = TaskQuery::parse_tags(&tags).unwrap();
    query.order = order.unwrap_or_else(|| query.sort.default_order());
    query
}

fn alice() -> UserId {
    UserId::parse("alice").unwrap()
}

async fn titles(repos: &Repos, pairs: &[(&str, &str)]) -> Vec<String> {
    repos
        .tasks
        .list(&alice(), &query(pairs))
        .await
        .unwrap()
        .tasks
        .iter()
        .map(|t| t.title().as_str().to_owned())
        .collect()
}

fn with(title: &str, edit: impl FnOnce(&mut NewTask)) -> NewTask {
    let mut new = new_task(title);
    edit(&mut new);
    new
}

async fn listing_defaults_to_newest_first_and_only_the_owners_tasks(db: &TestDatabase) {
    let repos = Repos::new(db);
    for (seconds, title) in [(0, "first"), (1, "second"), (2, "third")] {
        repos
            .add("alice", new_task(title), NOW + Duration::seconds(seconds))
            .await;
    }
    repos.add("bob", new_task("bob's"), NOW).await;

    let page = repos
        .tasks
        .list(&alice(), &TaskQuery::default())
        .await
        .unwrap();

    assert_eq!(page.total, 3);
    let listed: Vec<&str> = page.tasks.iter().map(|t| t.title().as_str()).collect();
    assert_eq!(listed, ["third", "second", "first"]);
}

async fn status_priority_and_due_filters_select_the_right_tasks(db: &TestDatabase) {
    let repos = Repos::new(db);
    let jan = datetime!(2026-01-15 12:00 UTC);
    let feb = datetime!(2026-02-15 12:00 UTC);
    repos
        .add("alice", with("done", |n| n.completed = true), NOW)
        .await;
    repos
        .add(
            "alice",
            with("jan high", |n| {
                n.priority = Priority::High;
                n.due_date = Some(DueDate::new(jan));
            }),
            NOW,
        )
        .await;
    repos
        .add(
            "alice",
            with("feb", |n| n.due_date = Some(DueDate::new(feb))),
            NOW,
        )
        .await;

    assert_eq!(titles(&repos, &[("status", "completed")]).await, ["done"]);
    assert_eq!(
        titles(&repos, &[("status", "pending"), ("sort", "title")]).await,
        ["feb", "jan high"]
    );
    assert_eq!(titles(&repos, &[("priority", "high")]).await, ["jan high"]);
    assert_eq!(
        titles(&repos, &[("due_before", "2026-02-01T00:00:00Z")]).await,
        ["jan high"]
    );
    assert_eq!(
        titles(&repos, &[("due_after", "2026-02-01T00:00:00Z")]).await,
        ["feb"]
    );
    assert_eq!(
        titles(&repos, &[("due_after", "2026-01-15T12:00:00Z")]).await,
        ["feb"],
        "due_after is strict"
    );
}

async fn tag_filters_require_every_tag_ignoring_case(db: &TestDatabase) {
    let repos = Repos::new(db);
    let tagged = |title: &str, tags: &[&str]| with(title, |n| n.tags = Tags::parse(tags).unwrap());
    repos
        .add("alice", tagged("both", &["Work", "urgent"]), NOW)
        .await;
    repos
        .add("alice", tagged("work only", &["work"]), NOW)
        .await;
    repos.add("alice", tagged("none", &[]), NOW).await;
    repos
        .add("bob", tagged("bob's work", &["work", "urgent"]), NOW)
        .await;

    assert_eq!(
        titles(&repos, &[("tag", "WORK"), ("sort", "title")]).await,
        ["both", "work only"]
    );
    assert_eq!(
        titles(&repos, &[("tag", "work"), ("tag", "Urgent")]).await,
        ["both"]
    );
    assert_eq!(
        titles(&repos, &[("tag", "work"), ("tag", "WORK")])
            .await
            .len(),
        2
    );
    assert!(titles(&repos, &[("tag", "absent")]).await.is_empty());
}

async fn tag_filters_follow_updates_that_change_the_tags_and_those_that_keep_them(
    db: &TestDatabase,
) {
    let repos = Repos::new(db);
    let read = repos
        .add(
            "alice",
            with("t", |n| n.tags = Tags::parse(&["old"]).unwrap()),
            NOW,
        )
        .await;
    let update = |read: &Task, patch: TaskPatch| {
        let mut task = read.clone();
        task.apply(patch, NOW).expect("a valid patch");
        task
    };

    let renamed = update(
        &read,
        TaskPatch {
            title: Some(TaskTitle::parse("renamed").unwrap()),
            ..TaskPatch::default()
        },
    );
    repos.tasks.update(&read, &renamed).await.unwrap();
    assert_eq!(titles(&repos, &[("tag", "old")]).await, ["renamed"]);

    let retagged = update(
        &renamed,
        TaskPatch {
            tags: Some(Tags::parse(&["new"]).unwrap()),
            ..TaskPatch::default()
        },
    );
    repos.tasks.update(&renamed, &retagged).await.unwrap();
    assert!(titles(&repos, &[("tag", "old")]).await.is_empty());
    assert_eq!(titles(&repos, &[("tag", "new")]).await, ["renamed"]);
}

async fn search_ignores_case_in_title_and_description(db: &TestDatabase) {
    let repos = Repos::new(db);
    repos.add("alice", new_task("Buy MILK"), NOW).await;
    repos
        .add(
            "alice",
            with("groceries", |n| {
                n.description = TaskDescription::parse("oat milk and bread").unwrap();
            }),
            NOW,
        )
        .await;
    repos.add("alice", new_task("call mom"), NOW).await;
    repos.add("bob", new_task("milk for bob"), NOW).await;

    assert_eq!(
        titles(&repos, &[("q", "Milk"), ("sort", "title")]).await,
        ["Buy MILK", "groceries"]
    );
}

async fn search_treats_like_metacharacters_literally(db: &TestDatabase) {
    let repos = Repos::new(db);
    for title in [
        "100% done",
        "1000 done",
        "a_b",
        "axb",
        r"back\slash",
        "backslash",
    ] {
        repos.add("alice", new_task(title), NOW).await;
    }

    assert_eq!(titles(&repos, &[("q", "0%")]).await, ["100% done"]);
    assert_eq!(titles(&repos, &[("q", "a_b")]).await, ["a_b"]);
    assert_eq!(titles(&repos, &[("q", r"k\s")]).await, [r"back\slash"]);
}

async fn title_sort_ignores_case(db: &TestDatabase) {
    let repos = Repos::new(db);
    for title in ["banana", "Apple", "cherry", "apricot"] {
        repos.add("alice", new_task(title), NOW).await;
    }

    assert_eq!(
        titles(&repos, &[("sort", "title")]).await,
        ["Apple", "apricot", "banana", "cherry"]
    );
    assert_eq!(
        titles(&repos, &[("sort", "title"), ("order", "desc")]).await,
        ["cherry", "banana", "apricot", "Apple"]
    );
}

async fn due_date_sort_puts_undated_tasks_last_in_both_orders(db: &TestDatabase) {
    let repos = Repos::new(db);
    let due = |title: &str, at: Option<time::OffsetDateTime>| {
        with(title, |n| n.due_date = at.map(DueDate::new))
    };
    repos.add("alice", due("undated", None), NOW).await;
    repos
        .add(
            "alice",
            due("late", Some(datetime!(2026-03-01 0:00 UTC))),
            NOW,
        )
        .await;
    repos
        .add(
            "alice",
            due("soon", Some(datetime!(2026-01-09 0:00 UTC))),
            NOW,
        )
        .await;

    assert_eq!(
        titles(&repos, &[("sort", "due_date")]).await,
        ["soon", "late", "undated"]
    );
    assert_eq!(
        titles(&repos, &[("sort", "due_date"), ("order", "desc")]).await,
        ["late", "soon", "undated"]
    );
}

async fn priority_sort_puts_high_first_by_default(db: &TestDatabase) {
    let repos = Repos::new(db);
    for (title, priority) in [
        ("m", Priority::Medium),
        ("h", Priority::High),
        ("l", Priority::Low),
    ] {
        repos
            .add("alice", with(title, |n| n.priority = priority), NOW)
            .await;
    }

    assert_eq!(
        titles(&repos, &[("sort", "priority")]).await,
        ["h", "m", "l"]
    );
    assert_eq!(
        titles(&repos, &[("sort", "priority"), ("order", "asc")]).await,
        ["l", "m", "h"]
    );
}

async fn timestamps_within_one_second_sort_in_time_order(db: &TestDatabase) {
    // SQLite stores `…:30Z` and `…:30.5Z`, which compare the wrong way round as text.
    let repos = Repos::new(db);
    let whole = datetime!(2026-01-08 10:00:30 UTC);
    repos
        .add(
            "alice",
            new_task("half past"),
            whole + Duration::milliseconds(500),
        )
        .await;
    repos.add("alice", new_task("whole"), whole).await;
    repos
        .add(
            "alice",
            new_task("before"),
            whole - Duration::milliseconds(1),
        )
        .await;

    assert_eq!(
        titles(&repos, &[("sort", "created"), ("order", "asc")]).await,
        ["before", "whole", "half past"]
    );
}

async fn paging_is_stable_and_reports_the_total(db: &TestDatabase) {
    let repos = Repos::new(db);
    // Equal sort keys everywhere: only the id tie-break orders them.
    let mut all = Vec::new();
    for i in 0..7 {
        all.push(
            repos
                .add("alice", new_task(&format!("same {i}")), NOW)
                .await,
        );
    }
    let mut seen = Vec::new();
    for offset in [0, 3, 6] {
        let offset = offset.to_string();
        let page = repos
            .tasks
            .list(
                &alice(),
                &query(&[("limit", "3"), ("offset", &offset), ("sort", "created")]),
            )
            .await
            .unwrap();
        assert_eq!(page.total, 7);
        seen.extend(page.tasks.into_iter().map(|t| t.id()));
    }

    let mut expected: Vec<_> = all.iter().map(Task::id).collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, expected);
}

async fn a_page_past_the_end_is_empty_but_knows_the_total(db: &TestDatabase) {
    let repos = Repos::new(db);
    repos.add("alice", new_task("only"), NOW).await;

    let page = repos
        .tasks
        .list(&alice(), &query(&[("offset", "10")]))
        .await
        .unwrap();

    assert!(page.tasks.is_empty());
    assert_eq!(page.total, 1);
}

async fn stats_agree_with_the_domains_definition(db: &TestDatabase) {
    let repos = Repos::new(db);
    let past = Some(DueDate::new(NOW - Duration::days(1)));
    let future = Some(DueDate::new(NOW + Duration::days(1)));
    let mut tasks = vec![
        repos
            .add(
                "alice",
                with("a", |n| {
                    n.priority = Priority::High;
                    n.due_date = past;
                }),
                NOW,
            )
            .await,
        repos
            .add(
                "alice",
                with("b", |n| {
                    n.completed = true;
                    n.due_date = past;
                }),
                NOW,
            )
            .await,
        repos
            .add(
                "alice",
                with("c", |n| {
                    n.priority = Priority::Low;
                    n.due_date = future;
                }),
                NOW,
            )
            .await,
        repos
            .add("alice", with("d", |n| n.priority = Priority::High), NOW)
            .await,
    ];
    repos
        .add("bob", with("e", |n| n.due_date = past), NOW)
        .await;
    let toggled = repos
        .tasks
        .set_completion(&alice(), tasks[3].id(), Completion::Toggle, None, NOW)
        .await
        .unwrap()
        .task();
    tasks[3] = toggled;

    let stats = repos.tasks.stats(&alice(), None, NOW).await.unwrap();

    assert_eq!(stats, TaskStats::of(&tasks, NOW));
    assert_eq!(
        (stats.total, stats.completed, stats.pending, stats.overdue),
        (4, 2, 2, 1)
    );
    assert_eq!(
        repos
            .tasks
            .stats(&UserId::parse("nobody").unwrap(), None, NOW)
            .await
            .unwrap(),
        TaskStats::default()
    );
}

async fn clearing_completed_deletes_only_the_owners_completed_tasks(db: &TestDatabase) {
    let repos = Repos::new(db);
    repos
        .add("alice", with("done 1", |n| n.completed = true), NOW)
        .await;
    repos
        .add("alice", with("done 2", |n| n.completed = true), NOW)
        .await;
    repos.add("alice", new_task("pending"), NOW).await;
    repos
        .add("bob", with("bob done", |n| n.completed = true), NOW)
        .await;

    assert_eq!(
        repos.tasks.delete_completed(&alice(), None).await.unwrap(),
        2
    );

    assert_eq!(titles(&repos, &[]).await, ["pending"]);
    let bob = repos
        .tasks
        .list(&UserId::parse("bob").unwrap(), &TaskQuery::default())
        .await
        .unwrap();
    assert_eq!(bob.total, 1);
}
