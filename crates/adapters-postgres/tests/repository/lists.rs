//! Lists, subtasks and manual order: placement, cascades and counts, concurrency included.

use std::sync::Arc;

use adapters_postgres::SeaListRepository;
use adapters_postgres::testing::TestDatabase;
use domain::list::{List, ListId, ListName, ListRepository, NewList};
use domain::position::{End, Position, Slot};
use domain::repo::RepoError;
use domain::task::{
    Completion, Destination, ListFilter, ParentFilter, SortKey, SubtaskCounts, Task, TaskId,
    TaskPage, TaskQuery, TaskRepository, Version,
};
use domain::user::UserId;
use time::Duration;

use crate::Written;
use crate::{NOW, Repos, new_task, user};

adapters_postgres::on_both_backends!(
    setup = crate::database;
    lists_are_created_last_and_moved_without_rewriting_the_others,
    a_list_name_is_unique_per_user_ignoring_case,
    deleting_a_list_deletes_its_tasks_and_their_subtasks,
    a_subtask_joins_its_parents_list_and_counts_follow_every_write,
    completing_a_parent_completes_its_pending_subtasks_with_its_completed_at,
    clearing_completed_counts_subtasks_and_recounts_parents,
    a_parent_must_be_a_top_level_task_of_the_owner,
    moving_a_task_writes_no_sibling_and_takes_its_subtasks_along,
    a_thousand_moves_to_one_spot_keep_positions_short_and_ordered,
    concurrent_moves_to_one_spot_all_succeed_in_a_total_order,
    concurrent_subtask_creations_are_counted_exactly,
    sort_by_position_draws_the_inbox_then_each_list_with_subtasks_under_parents,
    sort_by_position_within_one_list_or_family_is_by_position,
    a_task_moved_to_an_end_of_its_siblings_in_one_write_goes_there_alone,
    a_task_moved_to_the_front_goes_before_an_older_lower_front,
    concurrent_moves_to_the_front_all_succeed_in_a_total_order,
    another_users_list_is_refused_everywhere,
);

fn alice() -> UserId {
    UserId::parse("alice").unwrap()
}

/// Alice's repositories, shared with the change log's tests.
pub(crate) struct Fixture {
    pub(crate) repos: Repos,
    pub(crate) lists: SeaListRepository,
}

impl Fixture {
    pub(crate) async fn new(db: &TestDatabase) -> Self {
        let repos = Repos::new(db);
        domain::user::UserRepository::ensure(&repos.users, &user("alice"), NOW)
            .await
            .unwrap();
        Self {
            repos,
            lists: SeaListRepository::new(db.store()),
        }
    }

    pub(crate) async fn list(&self, owner: &str, name: &str) -> List {
        domain::user::UserRepository::ensure(&self.repos.users, &user(owner), NOW)
            .await
            .unwrap();
        let new = NewList {
            name: ListName::parse(name).unwrap(),
            color: None,
        };
        let list = List::create(ListId::generate(), UserId::parse(owner).unwrap(), new, NOW);
        self.lists.insert(&list).await.unwrap()
    }

    /// A task of alice's in `list` under `parent`.
    pub(crate) async fn task(
        &self,
        title: &str,
        list: Option<ListId>,
        parent: Option<TaskId>,
    ) -> Task {
        let mut new = new_task(title);
        new.list = Some(list);
        new.parent = parent;
        let task = Task::create(TaskId::generate(), alice(), new, NOW).expect("a valid task");
        self.repos.tasks.insert(&task).await.unwrap()
    }

    async fn get(&self, id: TaskId) -> Task {
        self.repos.tasks.get(&alice(), id).await.unwrap()
    }

    async fn place(&self, task: TaskId, destination: Destination) -> Result<Task, RepoError> {
        let version = self.get(task).await.version();
        self.repos
            .tasks
            .place(&alice(), task, &destination, version, NOW)
            .await
    }

    /// Titles in `sort=position` order.
    async fn drawn(&self, list: Option<ListFilter>) -> Vec<String> {
        self.drawn_in_family(list, None).await
    }

    /// Titles in `sort=position` order, with a parent filter too.
    async fn drawn_in_family(
        &self,
        list: Option<ListFilter>,
        parent: Option<ParentFilter>,
    ) -> Vec<String> {
        let query = TaskQuery {
            sort: SortKey::Position,
            list,
            parent,
            limit: 500,
            ..TaskQuery::default()
        };
        let page = self.repos.tasks.list(&alice(), &query).await.unwrap();
        page.tasks
            .iter()
            .map(|t| t.title().as_str().to_owned())
            .collect()
    }
}

fn to(list: Option<ListId>, parent: Option<TaskId>, slot: Slot<TaskId>) -> Destination {
    Destination { list, parent, slot }
}

async fn lists_are_created_last_and_moved_without_rewriting_the_others(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    let a = fx.list("alice", "A").await;
    let b = fx.list("alice", "B").await;
    let c = fx.list("alice", "C").await;

    let moved = fx
        .lists
        .place(&alice(), c.id(), Slot::After(a.id()), None, NOW)
        .await
        .unwrap();

    let names: Vec<String> = fx
        .lists
        .all(&alice())
        .await
        .unwrap()
        .iter()
        .map(|l| l.name().as_str().to_owned())
        .collect();
    assert_eq!(names, ["A", "C", "B"]);
    assert_eq!(moved.version().get(), 2);
    let unchanged = fx.lists.get(&alice(), b.id()).await.unwrap();
    assert_eq!(
        (unchanged.position(), unchanged.version()),
        (b.position(), b.version())
    );
    fx.lists
        .place(&alice(), a.id(), Slot::Last, None, NOW)
        .await
        .unwrap();
    fx.lists
        .place(&alice(), b.id(), Slot::First, None, NOW)
        .await
        .unwrap();
    let names: Vec<String> = fx
        .lists
        .all(&alice())
        .await
        .unwrap()
        .iter()
        .map(|l| l.name().as_str().to_owned())
        .collect();
    assert_eq!(names, ["B", "C", "A"]);
    assert!(matches!(
        fx.lists.place(&alice(), a.id(), Slot::After(ListId::generate()), None, NOW).await,
        Err(RepoError::Rule(e)) if e.field() == "after"
    ));
}

async fn a_list_name_is_unique_per_user_ignoring_case(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    fx.list("alice", "Work").await;
    let twin = List::create(
        ListId::generate(),
        alice(),
        NewList {
            name: ListName::parse("WORK").unwrap(),
            color: None,
        },
        NOW,
    );

    assert!(matches!(
        fx.lists.insert(&twin).await,
        Err(RepoError::Conflict)
    ));
    fx.list("bob", "work").await;
}

async fn deleting_a_list_deletes_its_tasks_and_their_subtasks(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    let work = fx.list("alice", "Work").await;
    let parent = fx.task("parent", Some(work.id()), None).await;
    let child = fx.task("child", Some(work.id()), Some(parent.id())).await;
    let inbox = fx.task("inbox", None, None).await;
    assert_eq!(
        fx.lists
            .get(&alice(), work.id())
            .await
            .unwrap()
            .counts()
            .tasks,
        2
    );

    fx.lists.delete(&alice(), work.id(), None).await.unwrap();

    for gone in [parent.id(), child.id()] {
        assert!(matches!(
            fx.repos.tasks.get(&alice(), gone).await,
            Err(RepoError::NotFound)
        ));
    }
    fx.get(inbox.id()).await;
}

async fn a_subtask_joins_its_parents_list_and_counts_follow_every_write(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    let work = fx.list("alice", "Work").await;
    let parent = fx.task("parent", Some(work.id()), None).await;
    let one = fx.task("one", Some(work.id()), Some(parent.id())).await;
    let two = fx.task("two", Some(work.id()), Some(parent.id())).await;
    assert_eq!(one.list(), Some(work.id()));
    assert!(one.position() < two.position());
    let counts = |total, completed| SubtaskCounts { total, completed };
    assert_eq!(fx.get(parent.id()).await.subtasks(), counts(2, 0));

    fx.repos
        .tasks
        .set_completion(&alice(), one.id(), Completion::Toggle, None, NOW)
        .await
        .unwrap()
        .task();
    assert_eq!(fx.get(parent.id()).await.subtasks(), counts(2, 1));
    let list = fx.lists.get(&alice(), work.id()).await.unwrap();
    assert_eq!((list.counts().tasks, list.counts().pending), (3, 2));

    fx.repos
        .tasks
        .delete(&alice(), two.id(), None)
        .await
        .unwrap();
    assert_eq!(fx.get(parent.id()).await.subtasks(), counts(1, 1));
    let reopened = fx.get(one.id()).await;
    let mut pending = reopened.clone();
    pending
        .apply(
            domain::task::TaskPatch {
                completed: Some(false),
                ..Default::default()
            },
            NOW,
        )
        .expect("a valid patch");
    fx.repos.tasks.update(&reopened, &pending).await.unwrap();
    assert_eq!(fx.get(parent.id()).await.subtasks(), counts(1, 0));
    assert_eq!(
        fx.get(parent.id()).await.version(),
        parent.version(),
        "counts are not changes"
    );
}

async fn completing_a_parent_completes_its_pending_subtasks_with_its_completed_at(
    db: &TestDatabase,
) {
    let fx = Fixture::new(db).await;
    let parent = fx.task("parent", None, None).await;
    let one = fx.task("one", None, Some(parent.id())).await;
    let two = fx.task("two", None, Some(parent.id())).await;
    let later = NOW + Duration::minutes(5);
    fx.repos
        .tasks
        .set_completion(&alice(), one.id(), Completion::Set(true), None, NOW)
        .await
        .unwrap()
        .task();

    let done = fx
        .repos
        .tasks
        .set_completion(&alice(), parent.id(), Completion::Toggle, None, later)
        .await
        .unwrap()
        .task();

    assert_eq!(
        done.subtasks(),
        SubtaskCounts {
            total: 2,
            completed: 2
        }
    );
    let one = fx.get(one.id()).await;
    let two = fx.get(two.id()).await;
    assert_eq!(
        one.completed_at(),
        Some(NOW),
        "an already completed subtask is left alone"
    );
    assert_eq!((two.completed(), two.completed_at()), (true, Some(later)));
    // Reopening the parent reopens none of them.
    fx.repos
        .tasks
        .set_completion(&alice(), parent.id(), Completion::Toggle, None, later)
        .await
        .unwrap()
        .task();
    assert!(fx.get(two.id()).await.completed());
}

async fn clearing_completed_counts_subtasks_and_recounts_parents(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    let work = fx.list("alice", "Work").await;
    let done = fx.task("done parent", Some(work.id()), None).await;
    fx.task("its pending child", Some(work.id()), Some(done.id()))
        .await;
    let open = fx.task("open parent", Some(work.id()), None).await;
    let finished = fx
        .task("finished child", Some(work.id()), Some(open.id()))
        .await;
    fx.task("pending child", Some(work.id()), Some(open.id()))
        .await;
    let elsewhere = fx.task("inbox done", None, None).await;
    for id in [finished.id(), elsewhere.id()] {
        fx.repos
            .tasks
            .set_completion(&alice(), id, Completion::Set(true), None, NOW)
            .await
            .unwrap()
            .task();
    }
    // Completing the parent completes its child: mark it completed, then reopen the child so
    // that a completed parent with a pending child is cleared too.
    fx.repos
        .tasks
        .set_completion(&alice(), done.id(), Completion::Set(true), None, NOW)
        .await
        .unwrap()
        .task();

    let deleted = fx
        .repos
        .tasks
        .delete_completed(&alice(), Some(ListFilter::List(work.id())))
        .await
        .unwrap();

    assert_eq!(
        deleted, 3,
        "the completed parent, its child and the finished child"
    );
    assert_eq!(
        fx.get(open.id()).await.subtasks(),
        SubtaskCounts {
            total: 1,
            completed: 0
        }
    );
    fx.get(elsewhere.id()).await;
}

async fn a_parent_must_be_a_top_level_task_of_the_owner(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    let parent = fx.task("parent", None, None).await;
    let child = fx.task("child", None, Some(parent.id())).await;
    let rule = |result: Result<Task, RepoError>| match result {
        Err(RepoError::Rule(e)) => e.field().to_owned(),
        other => panic!("{other:?}"),
    };
    let mut grandchild = new_task("grandchild");
    grandchild.parent = Some(child.id());
    let task = Task::create(TaskId::generate(), alice(), grandchild, NOW).expect("a valid task");
    assert_eq!(rule(fx.repos.tasks.insert(&task).await), "parent_id");

    let bobs = fx.list("bob", "Bob's").await;
    let mut foreign = new_task("in bob's list");
    foreign.list = Some(Some(bobs.id()));
    let task = Task::create(TaskId::generate(), alice(), foreign, NOW).expect("a valid task");
    assert_eq!(rule(fx.repos.tasks.insert(&task).await), "list_id");

    let other = fx.task("other", None, None).await;
    assert_eq!(
        rule(
            fx.place(parent.id(), to(None, Some(other.id()), Slot::Last))
                .await
        ),
        "parent_id",
        "a task with subtasks cannot become one"
    );
}

/// The moves PostgreSQL makes in one statement with no read before: to either end of the
/// siblings a top-level task has, in the inbox or a list, with or without a version. An older
/// version or a subtask is left to `place`, as is every such move on SQLite.
async fn a_task_moved_to_an_end_of_its_siblings_in_one_write_goes_there_alone(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    let postgres = db.backend_name() == "postgres";
    let work = fx.list("alice", "Work").await;
    let to_end = async |task: TaskId, end, expected| {
        fx.repos
            .tasks
            .place_at_end(&alice(), task, end, expected, NOW)
            .await
            .unwrap()
    };
    for (list, filter) in [
        (None, ListFilter::Inbox),
        (Some(work.id()), ListFilter::List(work.id())),
    ] {
        // Either way from a, b to b, a: a to the end, or b to the front.
        for end in [End::Last, End::First] {
            let a = fx.task("a", list, None).await;
            let b = fx.task("b", list, None).await;
            let (moving, staying) = if end == End::Last { (a, b) } else { (b, a) };
            let older = Some(Version::new(9).unwrap());
            assert_eq!(to_end(moving.id(), end, older).await, None);
            let expected = list.map(|_| moving.version());

            let moved = to_end(moving.id(), end, expected).await;
            if postgres {
                let moved = moved.expect("a top-level task at the version expected");
                assert_eq!(fx.drawn(Some(filter)).await, ["b", "a"], "{end:?}");
                assert_eq!(moved, fx.get(moving.id()).await);
                assert_eq!((moved.version().get(), moved.list()), (2, list));
            } else {
                assert_eq!(moved, None);
                assert_eq!(fx.get(moving.id()).await, moving);
            }
            assert_eq!(fx.get(staying.id()).await, staying);
            for task in [moving, staying] {
                fx.repos
                    .tasks
                    .delete(&alice(), task.id(), None)
                    .await
                    .unwrap();
            }
        }
    }
    let parent = fx.task("parent", None, None).await;
    let child = fx.task("child", None, Some(parent.id())).await;
    assert_eq!(to_end(child.id(), End::First, None).await, None);
    assert_eq!(fx.get(child.id()).await, child);
}

/// A front is the owner's number's key, below every key made since; a sibling's older, lower
/// front (made before such keys were) is kept below.
async fn a_task_moved_to_the_front_goes_before_an_older_lower_front(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    fx.task("a", None, None).await;
    let b = fx.task("b", None, None).await;
    db.execute("UPDATE users SET append_seq = 1099511627775 WHERE id = 'alice'")
        .await;

    let moved = fx.place(b.id(), to(None, None, Slot::First)).await.unwrap();
    assert_eq!(moved.position(), &Position::prepended(1_099_511_627_776));
    db.execute("UPDATE tasks SET position = '0080' WHERE title = 'a'")
        .await;
    let moved = fx.place(b.id(), to(None, None, Slot::First)).await.unwrap();
    let older = Position::parse("0080").unwrap();
    assert_eq!(
        Some(moved.position()),
        Position::between(None, Some(&older)).as_ref()
    );
    assert_eq!(fx.drawn(Some(ListFilter::Inbox)).await, ["b", "a"]);
}

/// With a list or parent filter the order leaves out the keys the filter fixes: what is left
/// must still draw them in their order.
async fn sort_by_position_within_one_list_or_family_is_by_position(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    let work = fx.list("alice", "Work").await;
    let parent = fx.task("parent", Some(work.id()), None).await;
    fx.task("x", Some(work.id()), Some(parent.id())).await;
    let y = fx.task("y", Some(work.id()), Some(parent.id())).await;
    let lone = fx.task("lone", Some(work.id()), None).await;
    fx.task("inbox", None, None).await;
    fx.place(y.id(), to(Some(work.id()), Some(parent.id()), Slot::First))
        .await
        .unwrap();
    fx.place(lone.id(), to(Some(work.id()), None, Slot::First))
        .await
        .unwrap();

    let in_work = Some(ListFilter::List(work.id()));
    assert_eq!(fx.drawn(in_work).await, ["lone", "parent", "y", "x"]);
    let of_parent = Some(ParentFilter::Of(parent.id()));
    assert_eq!(fx.drawn_in_family(None, of_parent).await, ["y", "x"]);
    assert_eq!(fx.drawn_in_family(in_work, of_parent).await, ["y", "x"]);
    assert_eq!(
        fx.drawn_in_family(None, Some(ParentFilter::TopLevel)).await,
        ["inbox", "lone", "parent"]
    );
    assert_eq!(
        fx.drawn_in_family(in_work, Some(ParentFilter::TopLevel))
            .await,
        ["lone", "parent"]
    );
}

async fn moving_a_task_writes_no_sibling_and_takes_its_subtasks_along(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    let a = fx.task("a", None, None).await;
    let b = fx.task("b", None, None).await;
    let c = fx.task("c", None, None).await;
    let child = fx.task("child", None, Some(c.id())).await;

    let moved = fx
        .place(c.id(), to(None, None, Slot::After(a.id())))
        .await
        .unwrap();
    assert_eq!(
        fx.drawn(Some(ListFilter::Inbox)).await,
        ["a", "c", "child", "b"]
    );
    assert_eq!(moved.version().get(), 2);
    for sibling in [&a, &b] {
        let now = fx.get(sibling.id()).await;
        assert_eq!(
            (now.position(), now.version()),
            (sibling.position(), sibling.version())
        );
    }

    let work = fx.list("alice", "Work").await;
    fx.place(c.id(), to(Some(work.id()), None, Slot::Last))
        .await
        .unwrap();
    assert_eq!(fx.get(child.id()).await.list(), Some(work.id()));
    assert_eq!(
        fx.drawn(Some(ListFilter::List(work.id()))).await,
        ["c", "child"]
    );
    assert!(matches!(
        fx.place(b.id(), to(None, None, Slot::After(c.id()))).await,
        Err(RepoError::Rule(e)) if e.field() == "after"
    ));
    // A subtask moves to the top level, and back under another parent.
    fx.place(child.id(), to(Some(work.id()), None, Slot::First))
        .await
        .unwrap();
    assert_eq!(fx.get(c.id()).await.subtasks().total, 0);
    fx.place(child.id(), to(None, Some(a.id()), Slot::Last))
        .await
        .unwrap();
    assert_eq!(fx.get(a.id()).await.subtasks().total, 1);
    assert_eq!(fx.get(child.id()).await.list(), None);
}

async fn a_thousand_moves_to_one_spot_keep_positions_short_and_ordered(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    let first = fx.task("first", None, None).await;
    let mut others = Vec::new();
    for i in 0..5 {
        others.push(fx.task(&format!("t{i}"), None, None).await);
    }
    // Each move puts the last task right after the first: always the same, narrowing gap.
    for i in 0..1000 {
        let last = &others[i % others.len()];
        fx.place(last.id(), to(None, None, Slot::After(first.id())))
            .await
            .unwrap();
    }

    let page = fx
        .repos
        .tasks
        .list(
            &alice(),
            &TaskQuery {
                sort: SortKey::Position,
                ..TaskQuery::default()
            },
        )
        .await
        .unwrap();
    let positions: Vec<&str> = page.tasks.iter().map(|t| t.position().as_str()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let longest = positions.iter().map(|p| p.len()).max().unwrap();
    assert!(longest <= 64, "positions grew to {longest} characters");
}

async fn concurrent_moves_to_one_spot_all_succeed_in_a_total_order(db: &TestDatabase) {
    let page = moved_concurrently(db, Slot::After).await;
    assert_eq!(page.tasks[0].title().as_str(), "first");
}

async fn concurrent_moves_to_the_front_all_succeed_in_a_total_order(db: &TestDatabase) {
    let page = moved_concurrently(db, |_| Slot::First).await;
    assert_eq!(page.tasks[8].title().as_str(), "first");
}

/// Alice's inbox, in position order, after eight tasks were moved at once to the slot made
/// of the task "first": distinct positions, in order, all moves successful.
async fn moved_concurrently(db: &TestDatabase, slot: fn(TaskId) -> Slot<TaskId>) -> TaskPage {
    let fx = Arc::new(Fixture::new(db).await);
    let first = fx.task("first", None, None).await;
    let mut movers = Vec::new();
    for i in 0..8 {
        movers.push(fx.task(&format!("m{i}"), None, None).await);
    }
    let attempts = movers.iter().map(|task| {
        let fx = fx.clone();
        let (id, version) = (task.id(), task.version());
        let destination = to(None, None, slot(first.id()));
        tokio::spawn(async move {
            // As the service moves: to the front in one write, or else by `place`.
            let tasks = &fx.repos.tasks;
            if destination.slot == Slot::First
                && let Some(moved) = tasks
                    .place_at_end(&alice(), id, End::First, Some(version), NOW)
                    .await?
            {
                return Ok(moved);
            }
            tasks.place(&alice(), id, &destination, version, NOW).await
        })
    });
    let attempts: Vec<_> = attempts.collect();
    for attempt in attempts {
        attempt.await.unwrap().unwrap();
    }

    let page = fx
        .repos
        .tasks
        .list(
            &alice(),
            &TaskQuery {
                sort: SortKey::Position,
                ..TaskQuery::default()
            },
        )
        .await
        .unwrap();
    let positions: Vec<&str> = page.tasks.iter().map(|t| t.position().as_str()).collect();
    assert_eq!(positions.len(), 9);
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "distinct and ordered: {positions:?}"
    );
    page
}

async fn concurrent_subtask_creations_are_counted_exactly(db: &TestDatabase) {
    let fx = Arc::new(Fixture::new(db).await);
    let parent = fx.task("parent", None, None).await.id();
    let creations: Vec<_> = (0..20)
        .map(|i| {
            let fx = fx.clone();
            tokio::spawn(async move { fx.task(&format!("s{i}"), None, Some(parent)).await })
        })
        .collect();
    let toggles: Vec<_> = (0..5)
        .map(|_| {
            let fx = fx.clone();
            tokio::spawn(async move {
                fx.repos
                    .tasks
                    .set_completion(&alice(), parent, Completion::Toggle, None, NOW)
                    .await
            })
        })
        .collect();
    for creation in creations {
        creation.await.unwrap();
    }
    for toggle in toggles {
        toggle.await.unwrap().unwrap();
    }

    let parent = fx.get(parent).await;
    let query = TaskQuery {
        parent: Some(domain::task::ParentFilter::Of(parent.id())),
        ..TaskQuery::default()
    };
    let subtasks = fx.repos.tasks.list(&alice(), &query).await.unwrap().tasks;
    let completed = subtasks.iter().filter(|t| t.completed()).count();
    assert_eq!(subtasks.len(), 20);
    assert_eq!(
        parent.subtasks(),
        SubtaskCounts {
            total: 20,
            completed: u32::try_from(completed).unwrap()
        }
    );
}

async fn sort_by_position_draws_the_inbox_then_each_list_with_subtasks_under_parents(
    db: &TestDatabase,
) {
    let fx = Fixture::new(db).await;
    let home = fx.list("alice", "Home").await;
    let work = fx.list("alice", "Work").await;
    fx.lists
        .place(&alice(), work.id(), Slot::First, None, NOW)
        .await
        .unwrap();
    let w1 = fx.task("w1", Some(work.id()), None).await;
    fx.task("h1", Some(home.id()), None).await;
    let i1 = fx.task("i1", None, None).await;
    fx.task("w2", Some(work.id()), None).await;
    fx.task("w1.a", Some(work.id()), Some(w1.id())).await;
    fx.task("i2", None, None).await;
    fx.task("i1.a", None, Some(i1.id())).await;
    fx.task("w1.b", Some(work.id()), Some(w1.id())).await;

    assert_eq!(
        fx.drawn(None).await,
        ["i1", "i1.a", "i2", "w1", "w1.a", "w1.b", "w2", "h1"]
    );
    let query = TaskQuery {
        sort: SortKey::Position,
        limit: 3,
        offset: 3,
        ..TaskQuery::default()
    };
    let page = fx.repos.tasks.list(&alice(), &query).await.unwrap();
    assert_eq!(page.total, 8);
    let titles: Vec<&str> = page.tasks.iter().map(|t| t.title().as_str()).collect();
    assert_eq!(titles, ["w1", "w1.a", "w1.b"]);
}

async fn another_users_list_is_refused_everywhere(db: &TestDatabase) {
    let fx = Fixture::new(db).await;
    let bobs = fx.list("bob", "Bob's").await;
    let mine = fx.task("mine", None, None).await;
    let bob = UserId::parse("bob").unwrap();

    assert!(matches!(
        fx.lists.get(&alice(), bobs.id()).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        fx.lists.delete(&alice(), bobs.id(), None).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        fx.place(mine.id(), to(Some(bobs.id()), None, Slot::Last)).await,
        Err(RepoError::Rule(e)) if e.field() == "list_id"
    ));
    assert!(matches!(
        fx.repos
            .tasks
            .place(
                &bob,
                mine.id(),
                &to(None, None, Slot::Last),
                mine.version(),
                NOW
            )
            .await,
        Err(RepoError::NotFound)
    ));
    assert_eq!(fx.lists.all(&bob).await.unwrap().len(), 1);
}
