//! The task: its validated fields and the entity that keeps their invariants.

use std::fmt;

use compact_str::CompactString;

use time::OffsetDateTime;
use uuid::Uuid;

use super::placement::SubtaskCounts;
use super::recurrence::{Recurrence, TimeZone};
use crate::clock::truncate_to_millis;
use crate::list::ListId;
use crate::position::Position;
use crate::user::UserId;
use crate::validation::{
    Collector, FieldError, ValidationErrors, Vocabulary, length_and_control, single_line,
};

/// A task's id: a time-ordered UUID (version 7), so that ids sort by creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(Uuid);

impl TaskId {
    /// A fresh version-7 id.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    /// Any UUID in its textual form. Lookups by an id of another version simply find nothing.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::parse_field(raw, "id")
    }

    /// As [`TaskId::parse`], reporting a bad id as `field` (`parent_id`, `after`...).
    pub fn parse_field(raw: &str, field: &str) -> Result<Self, FieldError> {
        Uuid::parse_str(raw)
            .map(Self)
            .map_err(|_| FieldError::new(field, "must be a UUID"))
    }

    /// The UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl From<Uuid> for TaskId {
    fn from(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A title: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTitle(CompactString);

impl TaskTitle {
    /// Longest title, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Trims, then checks length (in characters, not bytes) and content. An already trimmed
    /// title is kept as it is given: a long owned one is not copied, a short one (most of
    /// them) is held inline.
    pub fn parse(raw: impl Into<CompactString>) -> Result<Self, FieldError> {
        let raw = raw.into();
        let title = raw.trim();
        single_line("title", title, 1, Self::MAX_CHARS)?;
        if title.len() == raw.len() {
            Ok(Self(raw))
        } else {
            Ok(Self(title.into()))
        }
    }

    /// The normalised title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A description: at most 1000 characters; line breaks and tabs allowed, other controls not.
/// Blank input means "no description", so it parses to `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDescription(CompactString);

impl TaskDescription {
    /// Longest description, in characters.
    pub const MAX_CHARS: usize = 1000;

    /// `Ok(None)` for a blank description; otherwise the text as given (not trimmed: leading
    /// indentation can be meaningful in multi-line text).
    pub fn parse(raw: impl Into<CompactString>) -> Result<Option<Self>, FieldError> {
        let raw = raw.into();
        if raw.trim().is_empty() {
            return Ok(None);
        }
        let (len, control) = length_and_control(&raw, &['\n', '\r', '\t']);
        if len > Self::MAX_CHARS {
            return Err(FieldError::new(
                "description",
                "must be at most 1000 characters",
            ));
        }
        if control {
            return Err(FieldError::new(
                "description",
                "must not contain control characters other than tabs and line breaks",
            ));
        }
        Ok(Some(Self(raw)))
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How important a task is. Ordered: `Low < Medium < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Priority {
    /// `"low"`.
    Low,
    /// `"medium"`, the default.
    #[default]
    Medium,
    /// `"high"`.
    High,
}

impl Priority {
    /// Every priority, lowest first.
    pub const ALL: [Self; 3] = [Self::Low, Self::Medium, Self::High];
}

impl Vocabulary for Priority {
    const FIELD: &'static str = "priority";
    const NAMES: &'static [(&'static str, Self)] = &[
        ("low", Self::Low),
        ("medium", Self::Medium),
        ("high", Self::High),
    ];
}

/// One tag: trimmed, 1 to 32 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(CompactString);

impl Tag {
    /// Longest tag, in characters.
    pub const MAX_CHARS: usize = 32;

    /// Trims, then checks length and content.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let tag = raw.trim();
        single_line("tag", tag, 1, Self::MAX_CHARS)?;
        Ok(Self(tag.into()))
    }

    /// The tag as the user wrote it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form tags are compared in: tags that differ only in case are the same tag.
    pub fn key(&self) -> String {
        self.as_str().to_lowercase()
    }

    /// Whether the two have the same [`key`](Self::key), without building it for ASCII tags:
    /// every task a listing reads has its tags parsed again.
    fn same_as(&self, other: &Self) -> bool {
        if self.0.is_ascii() && other.0.is_ascii() {
            self.0.eq_ignore_ascii_case(&other.0)
        } else {
            self.key() == other.key()
        }
    }
}

/// A task's tags: at most 10, duplicates (ignoring case) dropped, first spelling and order kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<Tag>);

impl Tags {
    /// Most tags a task may have.
    pub const MAX: usize = 10;

    /// Parses each tag (errors name `tags[i]`), drops duplicates, then checks the count.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, ValidationErrors> {
        let mut collector = Collector::new();
        let mut tags: Vec<Tag> = Vec::with_capacity(raw.len());
        for (i, item) in raw.iter().enumerate() {
            let parsed = Tag::parse(item.as_ref()).map_err(|e| e.renamed(format!("tags[{i}]")));
            if let Some(tag) = collector.check(parsed)
                && !tags.iter().any(|t| t.same_as(&tag))
            {
                tags.push(tag);
            }
        }
        if tags.len() > Self::MAX {
            collector.push(FieldError::new(
                "tags",
                "must have at most 10 distinct tags",
            ));
        }
        collector.finish(|| Self(tags))
    }

    /// The tags, in order.
    pub fn as_slice(&self) -> &[Tag] {
        &self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A due date, held in UTC at millisecond precision (the wire format's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DueDate(OffsetDateTime);

impl DueDate {
    /// Any instant; it is converted to UTC and truncated to milliseconds.
    pub fn new(at: OffsetDateTime) -> Self {
        Self(truncate_to_millis(at))
    }

    /// An RFC 3339 timestamp such as `2026-01-08T10:15:30.123Z`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        parse_timestamp(raw, "due_date").map(Self::new)
    }

    /// The instant.
    pub fn at(self) -> OffsetDateTime {
        self.0
    }
}

/// When to remind the user of a task, held as a [`DueDate`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RemindAt(OffsetDateTime);

impl RemindAt {
    /// Any instant; it is converted to UTC and truncated to milliseconds.
    pub fn new(at: OffsetDateTime) -> Self {
        Self(truncate_to_millis(at))
    }

    /// An RFC 3339 timestamp.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        parse_timestamp(raw, "remind_at").map(Self::new)
    }

    /// The instant.
    pub fn at(self) -> OffsetDateTime {
        self.0
    }
}

fn parse_timestamp(raw: &str, field: &str) -> Result<OffsetDateTime, FieldError> {
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).map_err(|_| {
        FieldError::new(
            field,
            "must be an RFC 3339 timestamp such as 2026-01-08T10:15:30Z",
        )
    })
}

/// A task's version: 1 when created, one more with each change. It is the task's `ETag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(i64);

impl Version {
    /// The version of a new task.
    pub const INITIAL: Self = Self(1);

    /// A stored version; values below 1 do not exist.
    pub fn new(value: i64) -> Option<Self> {
        (value >= 1).then_some(Self(value))
    }

    /// The next version.
    #[must_use]
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }

    /// The counter.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// What a client may give when creating a task, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// Required title.
    pub title: TaskTitle,
    /// Optional description.
    pub description: Option<TaskDescription>,
    /// Whether it starts done (`false` unless given).
    pub completed: bool,
    /// `Medium` unless given.
    pub priority: Priority,
    /// Possibly empty.
    pub tags: Tags,
    /// Optional.
    pub due_date: Option<DueDate>,
    /// The list asked for: `None` when not given, `Some(None)` for the inbox.
    pub list: Option<Option<ListId>>,
    /// The parent, for a subtask.
    pub parent: Option<TaskId>,
    /// How it repeats, if it does.
    pub recurrence: Option<Recurrence>,
    /// The zone whose wall clock the recurrence keeps; UTC unless given.
    pub timezone: TimeZone,
    /// When to remind the user, if at all.
    pub remind_at: Option<RemindAt>,
}

/// A partial update: `None` keeps a field, `Some` sets it; for nullable fields `Some(None)`
/// clears it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskPatch {
    /// New title.
    pub title: Option<TaskTitle>,
    /// New description, or `Some(None)` to clear it.
    pub description: Option<Option<TaskDescription>>,
    /// New completion state; `completed_at` follows.
    pub completed: Option<bool>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New tags (replacing the old ones).
    pub tags: Option<Tags>,
    /// New due date, or `Some(None)` to clear it.
    pub due_date: Option<Option<DueDate>>,
    /// New recurrence rule, or `Some(None)` to stop repeating.
    pub recurrence: Option<Option<Recurrence>>,
    /// New time zone.
    pub timezone: Option<TimeZone>,
    /// New reminder time, or `Some(None)` to drop the reminder.
    pub remind_at: Option<Option<RemindAt>>,
}

/// What [`Task::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Nothing changed.
    Unchanged,
    /// The task changed.
    Changed,
    /// A recurring task was completed and moved to its next occurrence instead: its completed
    /// subtasks are to be reopened with it.
    Advanced,
}

/// A change of completion state, done atomically by the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Flip `completed`.
    Toggle,
    /// Set `completed` to this value (no change when it already is).
    Set(bool),
}

impl Completion {
    /// The state a task in state `completed` ends in.
    pub fn apply_to(self, completed: bool) -> bool {
        match self {
            Self::Toggle => !completed,
            Self::Set(value) => value,
        }
    }
}

/// Every stored field of a task, for adapters to rebuild one from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    /// Id.
    pub id: TaskId,
    /// Owner.
    pub owner: UserId,
    /// Title.
    pub title: TaskTitle,
    /// Description.
    pub description: Option<TaskDescription>,
    /// Done or not.
    pub completed: bool,
    /// When it was last completed; meaningful only while `completed`.
    pub completed_at: Option<OffsetDateTime>,
    /// Priority.
    pub priority: Priority,
    /// Tags.
    pub tags: Tags,
    /// Due date.
    pub due_date: Option<DueDate>,
    /// Its list; `None` for the inbox.
    pub list: Option<ListId>,
    /// Its parent, for a subtask.
    pub parent: Option<TaskId>,
    /// Its place among its siblings.
    pub position: Position,
    /// Its subtasks, as counted when it was read.
    pub subtasks: SubtaskCounts,
    /// How it repeats.
    pub recurrence: Option<Recurrence>,
    /// The zone of its recurrence.
    pub timezone: TimeZone,
    /// When to remind the user.
    pub remind_at: Option<RemindAt>,
    /// Version.
    pub version: Version,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A task. Fields are private so that `completed_at`, `version` and `updated_at` can only move
/// together with the changes that imply them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task(TaskRecord);

impl Task {
    /// A new task owned by `owner`, created at `now`, in the list asked for (the service
    /// resolves a subtask's list first). The repository gives it its position (last among its
    /// siblings) when storing it.
    ///
    /// # Errors
    /// When it repeats without a due date.
    pub fn create(
        id: TaskId,
        owner: UserId,
        new: NewTask,
        now: OffsetDateTime,
    ) -> Result<Self, FieldError> {
        let task = Self(TaskRecord {
            id,
            owner,
            title: new.title,
            description: new.description,
            completed: new.completed,
            completed_at: new.completed.then_some(now),
            priority: new.priority,
            tags: new.tags,
            due_date: new.due_date,
            list: new.list.flatten(),
            parent: new.parent,
            position: Position::first(),
            subtasks: SubtaskCounts::default(),
            recurrence: new.recurrence,
            timezone: new.timezone,
            remind_at: new.remind_at,
            version: Version::INITIAL,
            created_at: now,
            updated_at: now,
        });
        task.check_repeats(false)?;
        Ok(task)
    }

    /// A task as stored; a `completed_at` on a pending task is dropped.
    pub fn restore(mut record: TaskRecord) -> Self {
        if !record.completed {
            record.completed_at = None;
        }
        Self(record)
    }

    /// The same task at `position`, as the repository stored it.
    #[must_use]
    pub fn placed(mut self, position: Position) -> Self {
        self.0.position = position;
        self
    }

    /// Applies every field the patch carries, then its completion: completing a recurring
    /// task that has a further occurrence moves it there instead ([`Applied::Advanced`]).
    /// Only when something changed do `version` and `updated_at` move.
    ///
    /// # Errors
    /// When the task would repeat without a due date; nothing is changed then.
    pub fn apply(&mut self, patch: TaskPatch, now: OffsetDateTime) -> Result<Applied, FieldError> {
        let before = self.0.clone();
        let t = &mut self.0;
        if let Some(title) = patch.title {
            t.title = title;
        }
        if let Some(description) = patch.description {
            t.description = description;
        }
        if let Some(priority) = patch.priority {
            t.priority = priority;
        }
        if let Some(tags) = patch.tags {
            t.tags = tags;
        }
        let clears_due_date = patch.due_date == Some(None);
        if let Some(due_date) = patch.due_date {
            t.due_date = due_date;
        }
        if let Some(recurrence) = patch.recurrence {
            t.recurrence = recurrence;
        }
        if let Some(timezone) = patch.timezone {
            t.timezone = timezone;
        }
        if let Some(remind_at) = patch.remind_at {
            t.remind_at = remind_at;
        }
        if let Err(error) = self.check_repeats(clears_due_date) {
            self.0 = before;
            return Err(error);
        }
        let advanced = patch
            .completed
            .is_some_and(|completed| self.complete(Completion::Set(completed), now));
        if self.0 == before {
            return Ok(Applied::Unchanged);
        }
        self.0.version = before.version.next();
        self.0.updated_at = now;
        Ok(if advanced {
            Applied::Advanced
        } else {
            Applied::Changed
        })
    }

    /// A recurring task needs a due date: its series starts there. `clearing` says the
    /// request cleared the due date, which is then the field at fault.
    fn check_repeats(&self, clearing: bool) -> Result<(), FieldError> {
        if self.0.recurrence.is_none() || self.0.due_date.is_some() {
            Ok(())
        } else if clearing {
            Err(FieldError::new(
                "due_date",
                "cannot be cleared while the task repeats: clear recurrence in the same update",
            ))
        } else {
            Err(FieldError::new("recurrence", "needs a due_date"))
        }
    }

    /// Changes the completion state the way the repository does atomically: `completed_at` is
    /// set when the task becomes done and cleared when it becomes pending. A recurring task
    /// being completed moves to its next occurrence instead, if its series has one: its due
    /// date, its reminder by as much, and its rule's `COUNT` to what is left. Returns whether
    /// it did.
    fn complete(&mut self, change: Completion, now: OffsetDateTime) -> bool {
        let completed = change.apply_to(self.0.completed);
        if completed
            && !self.0.completed
            && let Some((rule, due)) = self.0.recurrence.as_ref().zip(self.0.due_date)
            && let Some(next) = rule.next_after(due, self.0.timezone, now)
        {
            let moved = next.due.at() - due.at();
            self.0.remind_at = self.0.remind_at.map(|at| RemindAt::new(at.at() + moved));
            self.0.due_date = Some(next.due);
            self.0.recurrence = Some(next.rule);
            return true;
        }
        if completed != self.0.completed {
            self.0.completed = completed;
            self.0.completed_at = completed.then_some(now);
        }
        false
    }

    /// Pending with a due date before `now`.
    pub fn is_overdue(&self, now: OffsetDateTime) -> bool {
        !self.0.completed && self.0.due_date.is_some_and(|d| d.at() < now)
    }

    /// Id.
    pub fn id(&self) -> TaskId {
        self.0.id
    }
    /// Owner.
    pub fn owner(&self) -> &UserId {
        &self.0.owner
    }
    /// Title.
    pub fn title(&self) -> &TaskTitle {
        &self.0.title
    }
    /// Description.
    pub fn description(&self) -> Option<&TaskDescription> {
        self.0.description.as_ref()
    }
    /// Done or not.
    pub fn completed(&self) -> bool {
        self.0.completed
    }
    /// When it was completed, while it is.
    pub fn completed_at(&self) -> Option<OffsetDateTime> {
        self.0.completed_at
    }
    /// Priority.
    pub fn priority(&self) -> Priority {
        self.0.priority
    }
    /// Tags.
    pub fn tags(&self) -> &Tags {
        &self.0.tags
    }
    /// Due date.
    pub fn due_date(&self) -> Option<DueDate> {
        self.0.due_date
    }
    /// Its list; `None` for the inbox.
    pub fn list(&self) -> Option<ListId> {
        self.0.list
    }
    /// Its parent, for a subtask.
    pub fn parent(&self) -> Option<TaskId> {
        self.0.parent
    }
    /// Its place among its siblings.
    pub fn position(&self) -> &Position {
        &self.0.position
    }
    /// Its subtasks, as counted when read.
    pub fn subtasks(&self) -> SubtaskCounts {
        self.0.subtasks
    }
    /// How it repeats.
    pub fn recurrence(&self) -> Option<&Recurrence> {
        self.0.recurrence.as_ref()
    }
    /// The zone of its recurrence.
    pub fn timezone(&self) -> TimeZone {
        self.0.timezone
    }
    /// When to remind the user.
    pub fn remind_at(&self) -> Option<RemindAt> {
        self.0.remind_at
    }
    /// Version (the `ETag`).
    pub fn version(&self) -> Version {
        self.0.version
    }
    /// Creation time.
    pub fn created_at(&self) -> OffsetDateTime {
        self.0.created_at
    }
    /// Last change.
    pub fn updated_at(&self) -> OffsetDateTime {
        self.0.updated_at
    }
}

#[cfg(test)]
mod tests;
