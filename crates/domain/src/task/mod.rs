//! Tasks: the aggregate, its listing query, the repository port and the use cases.

mod error;
mod model;
mod placement;
mod ports;
mod query;
mod recurrence;
mod service;

pub use error::TaskError;
pub use model::{
    Applied, Completion, DueDate, NewTask, Priority, RemindAt, Tag, Tags, Task, TaskDescription,
    TaskId, TaskPatch, TaskRecord, TaskTitle, Version,
};
pub use placement::{
    Destination, MAX_SUBTASKS, MoveRequest, ParentFacts, SubtaskCounts, check_can_become_subtask,
};
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockTaskRepository;
pub use ports::{CompletionWrite, TaskRepository};
pub use query::{
    ListFilter, ParentFilter, PriorityCounts, SearchText, SortKey, SortOrder, StatusFilter,
    TaskPage, TaskQuery, TaskStats,
};
pub use recurrence::{Occurrence, Recurrence, TimeZone};
pub use service::TaskService;
