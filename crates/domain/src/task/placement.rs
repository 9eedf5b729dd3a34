//! Where a task lives: its list, its parent and its place among siblings, and the rules of
//! moving it. The repository applies these rules again under the owner's lock, so that a
//! concurrent request cannot break them between the check and the write.

use super::model::{Task, TaskId};
use crate::list::ListId;
use crate::position::{End, Slot};
use crate::validation::FieldError;

/// Most subtasks one task may have.
pub const MAX_SUBTASKS: u32 = 200;

/// How many subtasks a task has and how many of them are completed; derived from the
/// subtasks, never set by a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubtaskCounts {
    /// Subtasks.
    pub total: u32,
    /// Completed subtasks.
    pub completed: u32,
}

/// What the rules need to know of a would-be parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentFacts {
    /// Its own parent, if it is a subtask.
    pub parent: Option<TaskId>,
    /// Its list.
    pub list: Option<ListId>,
    /// How many subtasks it has.
    pub subtasks: u32,
}

impl From<&Task> for ParentFacts {
    fn from(task: &Task) -> Self {
        Self {
            parent: task.parent(),
            list: task.list(),
            subtasks: task.subtasks().total,
        }
    }
}

impl ParentFacts {
    /// Whether a task can join this parent in `list`: the parent is top-level, lives in
    /// `list`, and has room for one more subtask (`joining`: the task is not one of them yet).
    pub fn accepts(&self, list: Option<ListId>, joining: bool) -> Result<(), FieldError> {
        if self.parent.is_some() {
            return Err(FieldError::new(
                "parent_id",
                "must be a top-level task: subtasks have no subtasks",
            ));
        }
        if self.list != list {
            return Err(FieldError::new(
                "parent_id",
                "must be a task of the destination list",
            ));
        }
        if joining && self.subtasks >= MAX_SUBTASKS {
            return Err(FieldError::new(
                "parent_id",
                "has 200 subtasks, the most a task may have",
            ));
        }
        Ok(())
    }

    /// The list a new subtask of this parent lives in: the parent's. A list given that
    /// differs (the inbox included) is refused.
    pub fn list_of_new_subtask(
        &self,
        given: Option<Option<ListId>>,
    ) -> Result<Option<ListId>, FieldError> {
        match given {
            Some(list) if list != self.list => Err(FieldError::new(
                "list_id",
                "must be the parent's list (or left out)",
            )),
            _ => Ok(self.list),
        }
    }
}

/// Refuses to make a task that has subtasks a subtask: subtasks have no subtasks.
pub fn check_can_become_subtask(subtasks: u32) -> Result<(), FieldError> {
    if subtasks > 0 {
        return Err(FieldError::new(
            "parent_id",
            "a task that has subtasks cannot become a subtask",
        ));
    }
    Ok(())
}

/// The body of a move: every field optional (`None`: not given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoveRequest {
    /// The destination list, or `Some(None)` for the inbox.
    pub list: Option<Option<ListId>>,
    /// The destination parent, or `Some(None)` for top-level.
    pub parent: Option<Option<TaskId>>,
    /// Where among the destination's siblings.
    pub slot: Slot<TaskId>,
}

/// Where a move puts a task, every default applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destination {
    /// The list (`None`: the inbox).
    pub list: Option<ListId>,
    /// The parent (`None`: top-level).
    pub parent: Option<TaskId>,
    /// Where among the siblings there.
    pub slot: Slot<TaskId>,
}

impl MoveRequest {
    /// The destination of this request for `task`: the list defaults to the current one; the
    /// parent to the current one when the list does not change, else to none. Refuses what no
    /// state of the other tasks could make valid.
    pub fn destination(&self, task: &Task) -> Result<Destination, FieldError> {
        let list = self.list.unwrap_or(task.list());
        let parent = match self.parent {
            Some(parent) => parent,
            None if list == task.list() => task.parent(),
            None => None,
        };
        if parent == Some(task.id()) {
            return Err(FieldError::new("parent_id", "cannot be the task itself"));
        }
        if parent.is_some() {
            check_can_become_subtask(task.subtasks().total)?;
        }
        if self.slot == Slot::After(task.id()) {
            return Err(FieldError::new("after", "cannot be the task being moved"));
        }
        Ok(Destination {
            list,
            parent,
            slot: self.slot,
        })
    }

    /// The end of the siblings a top-level task has that this request puts it at, when that
    /// is all it asks: no list named, no parent or none, first or last.
    pub fn end_of_siblings(&self) -> Option<End> {
        if self.list.is_some() || self.parent.is_some_and(|parent| parent.is_some()) {
            return None;
        }
        match self.slot {
            Slot::First => Some(End::First),
            Slot::Last => Some(End::Last),
            Slot::After(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::testing::new_task;
    use crate::user::UserId;

    fn task_in(list: Option<ListId>, parent: Option<TaskId>) -> Task {
        let mut new = new_task("t");
        new.list = Some(list);
        new.parent = parent;
        Task::create(
            TaskId::generate(),
            UserId::parse("alice").unwrap(),
            new,
            datetime!(2026-11-26 10:00 UTC),
        )
        .expect("a valid task")
    }

    #[expect(
        clippy::option_option,
        reason = "the request's own shape: absent, null or an id"
    )]
    fn request(
        list: Option<Option<ListId>>,
        parent: Option<Option<TaskId>>,
        slot: Slot<TaskId>,
    ) -> MoveRequest {
        MoveRequest { list, parent, slot }
    }

    #[test]
    fn only_a_move_naming_no_list_or_parent_is_to_an_end_of_the_current_siblings() {
        let (list, parent) = (ListId::generate(), TaskId::generate());
        assert_eq!(
            request(None, None, Slot::First).end_of_siblings(),
            Some(End::First)
        );
        assert_eq!(
            request(None, Some(None), Slot::Last).end_of_siblings(),
            Some(End::Last)
        );
        for other in [
            request(None, None, Slot::After(parent)),
            request(Some(None), None, Slot::Last),
            request(Some(Some(list)), None, Slot::First),
            request(None, Some(Some(parent)), Slot::Last),
        ] {
            assert_eq!(other.end_of_siblings(), None, "{other:?}");
        }
    }

    #[test]
    fn a_move_keeps_the_list_and_parent_unless_told_otherwise() {
        let (list, parent) = (ListId::generate(), TaskId::generate());
        let task = task_in(Some(list), Some(parent));

        let stay = request(None, None, Slot::First).destination(&task).unwrap();
        assert_eq!((stay.list, stay.parent), (Some(list), Some(parent)));
        let elsewhere = request(Some(None), None, Slot::Last)
            .destination(&task)
            .unwrap();
        assert_eq!(
            (elsewhere.list, elsewhere.parent),
            (None, None),
            "another list: top-level unless a parent is given"
        );
    }

    #[test]
    fn a_task_cannot_be_its_own_parent_or_follow_itself() {
        let task = task_in(None, None);
        let own = request(None, Some(Some(task.id())), Slot::Last).destination(&task);
        assert_eq!(own.unwrap_err().field(), "parent_id");
        let itself = request(None, None, Slot::After(task.id())).destination(&task);
        assert_eq!(itself.unwrap_err().field(), "after");
    }

    #[test]
    fn a_parent_must_be_top_level_in_the_list_with_room() {
        let list = Some(ListId::generate());
        let facts = |parent, subtasks| ParentFacts {
            parent,
            list,
            subtasks,
        };
        assert!(facts(None, 199).accepts(list, true).is_ok());
        assert!(facts(None, 200).accepts(list, true).is_err());
        assert!(
            facts(None, 200).accepts(list, false).is_ok(),
            "a subtask moving within its parent takes no room"
        );
        assert!(
            facts(Some(TaskId::generate()), 0)
                .accepts(list, true)
                .is_err()
        );
        assert!(facts(None, 0).accepts(None, true).is_err());
    }

    #[test]
    fn a_new_subtask_lives_in_its_parents_list() {
        let list = Some(ListId::generate());
        let parent = ParentFacts {
            parent: None,
            list,
            subtasks: 0,
        };
        assert_eq!(parent.list_of_new_subtask(None), Ok(list));
        assert_eq!(parent.list_of_new_subtask(Some(list)), Ok(list));
        assert_eq!(
            parent.list_of_new_subtask(Some(None)).unwrap_err().field(),
            "list_id"
        );
    }
}
