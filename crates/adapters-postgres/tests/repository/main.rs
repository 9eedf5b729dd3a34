//! The repository suite: every test runs on SQLite, and on PostgreSQL when `TEST_DATABASE_URL`
//! is set (each in a schema of its own).

mod changes;
mod idempotency;
mod listing;
mod lists;
mod pool;
mod reminders;
mod rows;
mod schema;
mod tasks;
mod users;

use adapters_postgres::testing::TestDatabase;
use adapters_postgres::{SeaTaskRepository, SeaUserRepository};
use domain::task::{NewTask, Task, TaskId, TaskRepository};
use domain::testing::new_task;
use domain::user::{AuthenticatedUser, UserId, UserRepository};
use time::OffsetDateTime;
use time::macros::datetime;

/// The fixture of the repository tests is the database itself.
async fn database(db: TestDatabase) -> TestDatabase {
    db
}

const NOW: OffsetDateTime = datetime!(2026-01-08 10:00 UTC);

fn user(name: &str) -> AuthenticatedUser {
    AuthenticatedUser::new(
        UserId::parse(name).unwrap(),
        Some(format!("{name}@example.com")),
        None,
    )
}

/// The repositories of one test database.
struct Repos {
    tasks: SeaTaskRepository,
    users: SeaUserRepository,
}

impl Repos {
    fn new(db: &TestDatabase) -> Self {
        Self {
            tasks: SeaTaskRepository::new(db.store()),
            users: SeaUserRepository::new(db.store()),
        }
    }

    /// Stores a task of `owner` (provisioning them) created at `at`.
    async fn add(&self, owner: &str, new: NewTask, at: OffsetDateTime) -> Task {
        let owner = user(owner);
        self.users.ensure(&owner, at).await.unwrap();
        let task =
            Task::create(TaskId::generate(), owner.id().clone(), new, at).expect("a valid task");
        self.tasks.insert(&task).await.unwrap()
    }
}

/// The task a completion change wrote: the tasks of these tests do not repeat, except where a
/// test says so.
trait Written {
    fn task(self) -> domain::task::Task;
}

impl Written for domain::task::CompletionWrite {
    fn task(self) -> domain::task::Task {
        match self {
            Self::Done(task) => task,
            Self::Recurring => panic!("a recurring task was left to the domain"),
        }
    }
}
