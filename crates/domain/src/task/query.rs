//! The listing query (filters, sort, paging) and the stats of one user's tasks.

use time::OffsetDateTime;

use super::model::{DueDate, Priority, Tag, Task, TaskId};
use crate::list::ListId;
use crate::validation::{Collector, FieldError, ValidationErrors, Vocabulary, single_line};

/// Which tasks by completion state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum StatusFilter {
    /// Every task.
    #[default]
    All,
    /// Not completed.
    Pending,
    /// Completed.
    Completed,
}

/// What a listing is ordered by; ties are always broken by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum SortKey {
    /// Creation time.
    #[default]
    Created,
    /// Last change.
    Updated,
    /// Title, ignoring case.
    Title,
    /// Due date; tasks without one come last in either order.
    DueDate,
    /// Priority (`high` is the greatest).
    Priority,
    /// The order a todo app draws: the inbox, then the lists in their manual order; in each,
    /// top-level tasks in manual order, each followed by its subtasks in manual order.
    Position,
}

impl Vocabulary for StatusFilter {
    const FIELD: &'static str = "status";
    const NAMES: &'static [(&'static str, Self)] = &[
        ("all", Self::All),
        ("pending", Self::Pending),
        ("completed", Self::Completed),
    ];
}

impl Vocabulary for SortKey {
    const FIELD: &'static str = "sort";
    const NAMES: &'static [(&'static str, Self)] = &[
        ("created", Self::Created),
        ("updated", Self::Updated),
        ("title", Self::Title),
        ("due_date", Self::DueDate),
        ("priority", Self::Priority),
        ("position", Self::Position),
    ];
}

impl Vocabulary for SortOrder {
    const FIELD: &'static str = "order";
    const NAMES: &'static [(&'static str, Self)] = &[("asc", Self::Asc), ("desc", Self::Desc)];
}

impl SortKey {
    /// The order used when none is given: newest and most important first, alphabetical and
    /// soonest first.
    pub fn default_order(self) -> SortOrder {
        match self {
            Self::Created | Self::Updated | Self::Priority => SortOrder::Desc,
            Self::Title | Self::DueDate | Self::Position => SortOrder::Asc,
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Greatest first.
    Desc,
}

/// A text to search for in titles and descriptions, ignoring case. It is matched literally:
/// `%`, `_` and `\` are ordinary characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    /// Longest search text, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Trims; blank text means no search (`Ok(None)`). Control characters are refused as in
    /// a title: no stored text has them, and PostgreSQL refuses a NUL in a statement.
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        single_line("q", text, 1, Self::MAX_CHARS)?;
        Ok(Some(Self(text.to_owned())))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which list's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFilter {
    /// Tasks in no list.
    Inbox,
    /// Tasks of this list.
    List(ListId),
}

impl ListFilter {
    /// `inbox` or a list's id.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw == "inbox" {
            return Ok(Self::Inbox);
        }
        ListId::parse(raw, "list_id")
            .map(Self::List)
            .map_err(|_| FieldError::new("list_id", "must be a list's id or inbox"))
    }

    /// The list, or `None` for the inbox.
    pub fn list(self) -> Option<ListId> {
        match self {
            Self::Inbox => None,
            Self::List(id) => Some(id),
        }
    }
}

/// Which tasks by parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentFilter {
    /// Top-level tasks only.
    TopLevel,
    /// The subtasks of this task.
    Of(TaskId),
}

impl ParentFilter {
    /// `none` or a task's id.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw == "none" {
            return Ok(Self::TopLevel);
        }
        TaskId::parse_field(raw, "parent_id")
            .map(Self::Of)
            .map_err(|_| FieldError::new("parent_id", "must be a task's id or none"))
    }
}

/// A validated listing query with every default applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    /// Completion filter.
    pub status: StatusFilter,
    /// Text search.
    pub search: Option<SearchText>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Tasks must carry every one of these tags (compared ignoring case).
    pub tags: Vec<Tag>,
    /// Only tasks due strictly before this instant.
    pub due_before: Option<DueDate>,
    /// Only tasks due strictly after this instant.
    pub due_after: Option<DueDate>,
    /// Only the tasks of one list, or of the inbox.
    pub list: Option<ListFilter>,
    /// Only top-level tasks, or the subtasks of one task.
    pub parent: Option<ParentFilter>,
    /// Sort key.
    pub sort: SortKey,
    /// Sort direction.
    pub order: SortOrder,
    /// Page size, 1 to 500.
    pub limit: u32,
    /// Tasks skipped before the page.
    pub offset: u64,
}

impl Default for TaskQuery {
    fn default() -> Self {
        Self {
            status: StatusFilter::All,
            search: None,
            priority: None,
            tags: Vec::new(),
            due_before: None,
            due_after: None,
            list: None,
            parent: None,
            sort: SortKey::Created,
            order: SortKey::Created.default_order(),
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl TaskQuery {
    /// Page size when none is given.
    pub const DEFAULT_LIMIT: u32 = 100;
    /// Largest page.
    pub const MAX_LIMIT: u32 = 500;
    /// Largest offset: databases count rows in signed 64-bit integers.
    pub const MAX_OFFSET: u64 = i64::MAX as u64;
    /// Most `tag` filters in one query.
    pub const MAX_TAGS: usize = 10;

    /// A page size: a whole number from 1 to [`Self::MAX_LIMIT`].
    pub fn parse_limit(raw: &str) -> Result<u32, FieldError> {
        raw.parse::<u32>()
            .ok()
            .filter(|n| (1..=Self::MAX_LIMIT).contains(n))
            .ok_or_else(|| FieldError::new("limit", "must be a whole number from 1 to 500"))
    }

    /// How many tasks to skip: a whole number from 0 to [`Self::MAX_OFFSET`].
    pub fn parse_offset(raw: &str) -> Result<u64, FieldError> {
        raw.parse::<u64>()
            .ok()
            .filter(|n| *n <= Self::MAX_OFFSET)
            .ok_or_else(|| {
                FieldError::new(
                    "offset",
                    "must be a whole number from 0 to 9223372036854775807",
                )
            })
    }

    /// The tags a listing requires, each parsed (errors name `tag[i]`), at most
    /// [`Self::MAX_TAGS`].
    pub fn parse_tags<S: AsRef<str>>(raw: &[S]) -> Result<Vec<Tag>, ValidationErrors> {
        let mut c = Collector::new();
        if raw.len() > Self::MAX_TAGS {
            c.push(FieldError::new("tag", "must be given at most 10 times"));
        }
        let tags: Vec<Tag> = raw
            .iter()
            .enumerate()
            .filter_map(|(i, tag)| {
                c.check(Tag::parse(tag.as_ref()).map_err(|e| e.renamed(format!("tag[{i}]"))))
            })
            .collect();
        c.finish(|| tags)
    }
}

/// One page of a listing and how many tasks matched in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPage {
    /// The tasks of this page, in order.
    pub tasks: Vec<Task>,
    /// Matches before paging.
    pub total: u64,
}

/// Counts per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PriorityCounts {
    /// `low` tasks.
    pub low: u64,
    /// `medium` tasks.
    pub medium: u64,
    /// `high` tasks.
    pub high: u64,
}

/// A summary of one user's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskStats {
    /// All tasks.
    pub total: u64,
    /// Completed tasks.
    pub completed: u64,
    /// Pending tasks.
    pub pending: u64,
    /// Pending tasks whose due date has passed.
    pub overdue: u64,
    /// All tasks by priority.
    pub by_priority: PriorityCounts,
}

impl TaskStats {
    /// The stats of `tasks` at `now`: the reference the repositories' single queries are
    /// tested against.
    pub fn of<'a>(tasks: impl IntoIterator<Item = &'a Task>, now: OffsetDateTime) -> Self {
        let mut stats = Self::default();
        for task in tasks {
            stats.total += 1;
            if task.completed() {
                stats.completed += 1;
            } else {
                stats.pending += 1;
            }
            if task.is_overdue(now) {
                stats.overdue += 1;
            }
            *match task.priority() {
                Priority::Low => &mut stats.by_priority.low,
                Priority::Medium => &mut stats.by_priority.medium,
                Priority::High => &mut stats.by_priority.high,
            } += 1;
        }
        stats
    }
}

#[cfg(test)]
mod tests;
