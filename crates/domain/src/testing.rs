//! Fixtures shared by the tests of this crate and of the crates built on it (feature `mocks`):
//! a plain new task, and the bundle of mocked ports behind the services.

use std::sync::Arc;

use crate::clock::Clock;
use crate::idempotency::MockIdempotencyStore;
use crate::list::{ListService, MockListRepository};
use crate::task::{MockTaskRepository, NewTask, Priority, Tags, TaskService, TaskTitle, TimeZone};
use crate::user::{MockUserRepository, UserService};

/// A pending, medium-priority task with this title and nothing else.
///
/// # Panics
/// When `title` is not a valid title.
pub fn new_task(title: &str) -> NewTask {
    NewTask {
        title: TaskTitle::parse(title).expect("a valid title"),
        description: None,
        completed: false,
        priority: Priority::Medium,
        tags: Tags::default(),
        due_date: None,
        list: None,
        parent: None,
        recurrence: None,
        timezone: TimeZone::UTC,
        remind_at: None,
    }
}

/// The repository ports, mocked with no expectations: a call no test set up fails it.
#[derive(Default)]
pub struct MockPorts {
    /// Tasks.
    pub tasks: MockTaskRepository,
    /// Lists.
    pub lists: MockListRepository,
    /// Users.
    pub users: MockUserRepository,
    /// Idempotency keys.
    pub keys: MockIdempotencyStore,
}

impl MockPorts {
    /// The task, list and user services over these ports, sharing them.
    pub fn services(self, clock: Arc<dyn Clock>) -> (TaskService, ListService, UserService) {
        let users = Arc::new(self.users);
        let lists = Arc::new(self.lists);
        let keys = Arc::new(self.keys);
        (
            TaskService::new(
                Arc::new(self.tasks),
                lists.clone(),
                users.clone(),
                keys.clone(),
                clock.clone(),
            ),
            ListService::new(lists, users.clone(), keys, clock.clone()),
            UserService::new(users, clock),
        )
    }
}
