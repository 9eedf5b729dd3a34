//! The wire shapes of shared/API.md: request bodies (unknown fields refused) turned into domain
//! values with every field error collected, and responses borrowed from domain values.

use domain::list::{Color, List, ListId, ListName, ListPatch, NewList};
use domain::position::Slot;
use domain::sync::{ChangePage, Entry};
use domain::task::{
    DueDate, MoveRequest, NewTask, Priority, Recurrence, RemindAt, Tags, Task, TaskDescription,
    TaskId, TaskPatch, TaskStats, TaskTitle, TimeZone,
};
use domain::user::User;
use domain::validation::{Collector, FieldError, ValidationErrors, Vocabulary};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::num::NonZeroU8;
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use time::format_description::well_known::iso8601::{
    Config as Iso8601Config, EncodedConfig, TimePrecision,
};
use utoipa::ToSchema;

use crate::schema::{
    ColorText, DescriptionText, ListNameText, PriorityName, RecurrenceText, TagName, TimeZoneName,
    TitleText,
};

/// A timestamp on the wire: RFC 3339 in UTC with milliseconds, `2026-01-08T10:15:30.123Z`.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub OffsetDateTime);

/// The wire's form as `time`'s ISO 8601 writer has it: a listing writes ~120 timestamps, and
/// this writer takes half the instructions of the equivalent format description (~700 against
/// ~1,450 each). It writes four-digit years only.
const WIRE: EncodedConfig = Iso8601Config::DEFAULT
    .set_time_precision(TimePrecision::Second {
        decimal_digits: NonZeroU8::new(3),
    })
    .encode();

/// The same form for the years `WIRE` cannot write (an instant before the year 0 in UTC, such
/// as `0000-01-01T00:30:00+01:00`), signed as before.
const OTHER_YEARS: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let utc = self.0.to_offset(time::UtcOffset::UTC);
        // Formatted on the stack: a listing writes four timestamps per task.
        let mut buffer = [0u8; 32];
        let mut free: &mut [u8] = &mut buffer;
        let written = if (0..=9999).contains(&utc.year()) {
            utc.format_into(&mut free, &Iso8601::<WIRE>)
        } else {
            utc.format_into(&mut free, OTHER_YEARS)
        }
        .map_err(serde::ser::Error::custom)?;
        let text = std::str::from_utf8(&buffer[..written]).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(text)
    }
}

/// A task as the API returns it.
#[derive(Serialize, ToSchema)]
#[schema(as = Task)]
pub struct TaskResponse<'a> {
    /// Assigned by the server (UUID v7).
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    /// The owner.
    pub user_id: &'a str,
    /// 1–200 characters.
    pub title: &'a str,
    /// At most 1000 characters.
    #[schema(required = true)]
    pub description: Option<&'a str>,
    /// Done or not.
    pub completed: bool,
    /// When it was completed, while it is.
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub completed_at: Option<Timestamp>,
    /// `low`, `medium` or `high`.
    #[schema(value_type = PriorityName)]
    pub priority: &'static str,
    /// At most 10 tags.
    #[schema(value_type = Vec<String>)]
    pub tags: TagNames<'a>,
    /// Optional due date.
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub due_date: Option<Timestamp>,
    /// How it repeats, in canonical form; `null` when it does not.
    #[schema(value_type = Option<RecurrenceText>, required = true)]
    pub recurrence: Option<&'a str>,
    /// The IANA time zone whose wall clock the recurrence keeps.
    #[schema(value_type = TimeZoneName)]
    pub timezone: &'static str,
    /// When the user is reminded (a `reminder` event), if at all.
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub remind_at: Option<Timestamp>,
    /// Its list; `null` for the inbox.
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub list_id: Option<uuid::Uuid>,
    /// Its parent, for a subtask.
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub parent_id: Option<uuid::Uuid>,
    /// Its place among its siblings: sort siblings by it in byte order.
    pub position: &'a str,
    /// Its subtasks (0 on a subtask).
    pub subtask_count: u32,
    /// Its completed subtasks.
    pub completed_subtask_count: u32,
    /// Set by the server.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Set by the server.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A task's tags as the array of their names, written straight from the task: collecting the
/// names first was an allocation for every task with tags in a listing.
pub struct TagNames<'a>(&'a Tags);

impl Serialize for TagNames<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.as_slice().iter().map(domain::task::Tag::as_str))
    }
}

impl<'a> From<&'a Task> for TaskResponse<'a> {
    fn from(task: &'a Task) -> Self {
        Self {
            id: *task.id().as_uuid(),
            user_id: task.owner().as_str(),
            title: task.title().as_str(),
            description: task.description().map(TaskDescription::as_str),
            completed: task.completed(),
            completed_at: task.completed_at().map(Timestamp),
            priority: task.priority().name(),
            tags: TagNames(task.tags()),
            due_date: task.due_date().map(|d| Timestamp(d.at())),
            recurrence: task.recurrence().map(Recurrence::as_str),
            timezone: task.timezone().name(),
            remind_at: task.remind_at().map(|r| Timestamp(r.at())),
            list_id: task.list().map(|l| *l.as_uuid()),
            parent_id: task.parent().map(|p| *p.as_uuid()),
            position: task.position().as_str(),
            subtask_count: task.subtasks().total,
            completed_subtask_count: task.subtasks().completed,
            created_at: Timestamp(task.created_at()),
            updated_at: Timestamp(task.updated_at()),
        }
    }
}

/// The body of `POST /tasks`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskBody {
    /// Required; trimmed; 1–200 characters, no control characters.
    #[schema(required = true, value_type = TitleText)]
    title: Option<String>,
    /// At most 1000 characters; `""` means none.
    #[schema(value_type = Option<DescriptionText>)]
    description: Option<String>,
    /// Defaults to `false`.
    completed: Option<bool>,
    /// Defaults to `medium`.
    #[schema(value_type = Option<PriorityName>)]
    priority: Option<String>,
    /// At most 10; each trimmed, 1–32 characters; duplicates (ignoring case) dropped.
    #[schema(value_type = Option<Vec<TagName>>, max_items = 10)]
    tags: Option<Vec<String>>,
    /// RFC 3339 timestamp.
    #[schema(format = DateTime)]
    due_date: Option<String>,
    /// How it repeats (needs `due_date`); `null` or absent: it does not.
    #[schema(value_type = Option<RecurrenceText>)]
    recurrence: Option<String>,
    /// The IANA time zone of its recurrence; defaults to `UTC`.
    #[schema(value_type = Option<TimeZoneName>)]
    timezone: Option<String>,
    /// RFC 3339 timestamp: when to remind the user (at once, if already past).
    #[schema(format = DateTime)]
    remind_at: Option<String>,
    /// A list of the user's, or `null` for the inbox (the default); a subtask's is its parent's.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    list_id: Patch<String>,
    /// A top-level task of the user's: the new task is its subtask.
    #[schema(value_type = Option<String>, format = Uuid)]
    parent_id: Option<String>,
}

impl CreateTaskBody {
    /// The new task, or every field error.
    pub fn into_domain(self) -> Result<NewTask, ValidationErrors> {
        let mut c = Collector::new();
        let title = c.check(
            self.title
                .as_deref()
                .ok_or_else(|| FieldError::new("title", "is required"))
                .and_then(TaskTitle::parse),
        );
        let description = self
            .description
            .as_deref()
            .and_then(|d| c.check(TaskDescription::parse(d)))
            .flatten();
        let priority = self
            .priority
            .as_deref()
            .and_then(|p| c.check(Priority::parse(p)));
        let tags = self
            .tags
            .as_deref()
            .and_then(|t| c.check_all(Tags::parse(t)));
        let due_date = self
            .due_date
            .as_deref()
            .and_then(|d| c.check(DueDate::parse(d)));
        let list = self
            .list_id
            .parse(&mut c, |raw| ListId::parse(raw, "list_id"));
        let parent = self
            .parent_id
            .as_deref()
            .and_then(|p| c.check(TaskId::parse_field(p, "parent_id")));
        let recurrence = self
            .recurrence
            .as_deref()
            .and_then(|r| c.check(Recurrence::parse(r)));
        let timezone = self
            .timezone
            .as_deref()
            .and_then(|z| c.check(TimeZone::parse(z)));
        let remind_at = self
            .remind_at
            .as_deref()
            .and_then(|r| c.check(RemindAt::parse(r)));
        c.finish(|| ())?;
        Ok(NewTask {
            // Present: a missing title was recorded above.
            title: title.ok_or_else(|| FieldError::new("title", "is required"))?,
            description,
            completed: self.completed.unwrap_or(false),
            priority: priority.unwrap_or_default(),
            tags: tags.unwrap_or_default(),
            due_date,
            list,
            parent,
            recurrence,
            timezone: timezone.unwrap_or_default(),
            remind_at,
        })
    }
}

/// A field of a partial update: left out, explicitly `null`, or a value.
#[derive(Default)]
enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Only called for a field that is present; `#[serde(default)]` covers the absent one.
        Option::<T>::deserialize(d).map(|v| v.map_or(Self::Null, Self::Value))
    }
}

impl Patch<String> {
    /// For a nullable field: absent is `None`, `null` is `Some(None)`, a value is parsed.
    #[expect(
        clippy::option_option,
        reason = "absent, null or a value: the shape the domain takes nullable fields in"
    )]
    fn parse<T>(
        self,
        c: &mut Collector,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Option<Option<T>> {
        match self {
            Self::Absent => None,
            Self::Null => Some(None),
            Self::Value(raw) => c.check(parse(&raw)).map(Some),
        }
    }
}

impl<T> Patch<T> {
    /// For a field that cannot be empty: `null` is an error.
    fn not_null(self, c: &mut Collector, field: &str) -> Option<T> {
        match self {
            Self::Absent => None,
            Self::Null => {
                c.push(FieldError::new(field, "cannot be null"));
                None
            }
            Self::Value(value) => Some(value),
        }
    }
}

/// The body of `PUT`/`PATCH /tasks/{id}`: present fields are set, `null` clears a nullable one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskBody {
    /// New title.
    #[serde(default)]
    #[schema(value_type = TitleText)]
    title: Patch<String>,
    /// New description; `null` or `""` clears it.
    #[serde(default)]
    #[schema(value_type = Option<DescriptionText>)]
    description: Patch<String>,
    /// New completion state.
    #[serde(default)]
    #[schema(value_type = bool)]
    completed: Patch<bool>,
    /// New priority.
    #[serde(default)]
    #[schema(value_type = PriorityName)]
    priority: Patch<String>,
    /// New tags, replacing the old ones.
    #[serde(default)]
    #[schema(value_type = Vec<TagName>, max_items = 10)]
    tags: Patch<Vec<String>>,
    /// New due date; `null` clears it (a recurring task's only with `recurrence: null`).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    due_date: Patch<String>,
    /// New recurrence rule; `null`: it no longer repeats.
    #[serde(default)]
    #[schema(value_type = Option<RecurrenceText>)]
    recurrence: Patch<String>,
    /// New time zone of its recurrence.
    #[serde(default)]
    #[schema(value_type = TimeZoneName)]
    timezone: Patch<String>,
    /// New reminder time (arms the reminder again); `null` drops the reminder.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    remind_at: Patch<String>,
}

impl UpdateTaskBody {
    /// The patch, or every field error.
    pub fn into_domain(self) -> Result<TaskPatch, ValidationErrors> {
        let mut c = Collector::new();
        let title = self
            .title
            .not_null(&mut c, "title")
            .and_then(|t| c.check(TaskTitle::parse(t)));
        let completed = self.completed.not_null(&mut c, "completed");
        let priority = self
            .priority
            .not_null(&mut c, "priority")
            .and_then(|p| c.check(Priority::parse(&p)));
        let tags = self
            .tags
            .not_null(&mut c, "tags")
            .and_then(|t| c.check_all(Tags::parse(&t)));
        let description = match self.description {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(text) => c.check(TaskDescription::parse(text)),
        };
        let due_date = self.due_date.parse(&mut c, DueDate::parse);
        let recurrence = self.recurrence.parse(&mut c, Recurrence::parse);
        let timezone = self
            .timezone
            .not_null(&mut c, "timezone")
            .and_then(|z| c.check(TimeZone::parse(&z)));
        let remind_at = self.remind_at.parse(&mut c, RemindAt::parse);
        c.finish(|| TaskPatch {
            title,
            description,
            completed,
            priority,
            tags,
            due_date,
            recurrence,
            timezone,
            remind_at,
        })
    }
}

/// The body of `POST /tasks/{id}/move`: every field optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveTaskBody {
    /// The destination list, `null` for the inbox; default: the current list.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    list_id: Patch<String>,
    /// A top-level task of the destination list, `null` for top-level; default: the current
    /// parent when the list does not change, else none.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    parent_id: Patch<String>,
    /// A sibling to follow, `null` for first; absent: last.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    after: Patch<String>,
}

impl MoveTaskBody {
    /// The move, or every field error.
    pub fn into_domain(self) -> Result<MoveRequest, ValidationErrors> {
        let mut c = Collector::new();
        let list = self
            .list_id
            .parse(&mut c, |raw| ListId::parse(raw, "list_id"));
        let parent = self
            .parent_id
            .parse(&mut c, |raw| TaskId::parse_field(raw, "parent_id"));
        let slot = slot(self.after, &mut c, |raw| TaskId::parse_field(raw, "after"));
        c.finish(|| MoveRequest { list, parent, slot })
    }
}

/// `after`: absent is last, `null` first, an id right after it.
fn slot<I>(
    after: Patch<String>,
    c: &mut Collector,
    parse: impl FnOnce(&str) -> Result<I, FieldError>,
) -> Slot<I> {
    match after.parse(c, parse) {
        None => Slot::Last,
        Some(None) => Slot::First,
        Some(Some(id)) => Slot::After(id),
    }
}

/// A list as the API returns it.
#[derive(Serialize, ToSchema)]
#[schema(as = List)]
pub struct ListResponse<'a> {
    /// Assigned by the server (UUID v7).
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
    /// 1–100 characters, unique per user ignoring case.
    pub name: &'a str,
    /// `#rrggbb` in lower case.
    #[schema(required = true)]
    pub color: Option<&'a str>,
    /// Its place among the user's lists: sort lists by it in byte order.
    pub position: &'a str,
    /// Its tasks, subtasks included.
    pub task_count: u64,
    /// Those not completed.
    pub pending_count: u64,
    /// Set by the server.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Set by the server.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl<'a> From<&'a List> for ListResponse<'a> {
    fn from(list: &'a List) -> Self {
        Self {
            id: *list.id().as_uuid(),
            name: list.name().as_str(),
            color: list.color().map(Color::as_str),
            position: list.position().as_str(),
            task_count: list.counts().tasks,
            pending_count: list.counts().pending,
            created_at: Timestamp(list.created_at()),
            updated_at: Timestamp(list.updated_at()),
        }
    }
}

/// The body of `POST /lists`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateListBody {
    /// Required; trimmed; 1–100 characters; unique per user ignoring case.
    #[schema(required = true, value_type = ListNameText)]
    name: Option<String>,
    /// `#rrggbb`, any case.
    #[schema(value_type = Option<ColorText>)]
    color: Option<String>,
}

impl CreateListBody {
    /// The new list, or every field error.
    pub fn into_domain(self) -> Result<NewList, ValidationErrors> {
        let mut c = Collector::new();
        let name = c.check(
            self.name
                .as_deref()
                .ok_or_else(|| FieldError::new("name", "is required"))
                .and_then(ListName::parse),
        );
        let color = self
            .color
            .as_deref()
            .and_then(|raw| c.check(Color::parse(raw)));
        c.finish(|| ())?;
        Ok(NewList {
            name: name.ok_or_else(|| FieldError::new("name", "is required"))?,
            color,
        })
    }
}

/// The body of `PATCH /lists/{list_id}`: present fields are set, `null` clears the colour.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateListBody {
    /// New name.
    #[serde(default)]
    #[schema(value_type = ListNameText)]
    name: Patch<String>,
    /// New colour; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<ColorText>)]
    color: Patch<String>,
}

impl UpdateListBody {
    /// The patch, or every field error.
    pub fn into_domain(self) -> Result<ListPatch, ValidationErrors> {
        let mut c = Collector::new();
        let name = self
            .name
            .not_null(&mut c, "name")
            .and_then(|raw| c.check(ListName::parse(&raw)));
        let color = self.color.parse(&mut c, Color::parse);
        c.finish(|| ListPatch { name, color })
    }
}

/// The body of `POST /lists/{list_id}/move`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveListBody {
    /// A list to follow, `null` for first; absent: last.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    after: Patch<String>,
}

impl MoveListBody {
    /// Where to put the list, or the error.
    pub fn into_domain(self) -> Result<Slot<ListId>, ValidationErrors> {
        let mut c = Collector::new();
        let slot = slot(self.after, &mut c, |raw| ListId::parse(raw, "after"));
        c.finish(|| slot)
    }
}

/// The optional body of `PATCH /tasks/{id}/complete`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// The state to set; without a body the state is toggled.
    pub completed: bool,
}

/// `GET /tasks/stats`.
#[derive(Serialize, ToSchema)]
pub struct StatsResponse {
    /// All tasks.
    total: u64,
    /// Completed tasks.
    completed: u64,
    /// Pending tasks.
    pending: u64,
    /// Pending tasks whose due date has passed.
    overdue: u64,
    /// All tasks by priority.
    by_priority: ByPriority,
}

/// Counts per priority.
#[derive(Serialize, ToSchema)]
pub struct ByPriority {
    /// `low`
    low: u64,
    /// `medium`
    medium: u64,
    /// `high`
    high: u64,
}

impl From<TaskStats> for StatsResponse {
    fn from(stats: TaskStats) -> Self {
        Self {
            total: stats.total,
            completed: stats.completed,
            pending: stats.pending,
            overdue: stats.overdue,
            by_priority: ByPriority {
                low: stats.by_priority.low,
                medium: stats.by_priority.medium,
                high: stats.by_priority.high,
            },
        }
    }
}

/// `DELETE /tasks?status=completed`.
#[derive(Serialize, ToSchema)]
pub struct DeletedResponse {
    /// How many tasks were deleted.
    pub deleted: u64,
}

/// `GET /api/me`.
#[derive(Serialize, ToSchema)]
pub struct MeResponse<'a> {
    /// Better Auth's user id.
    id: &'a str,
    /// From the latest token.
    #[schema(required = true)]
    email: Option<&'a str>,
    /// From the latest token.
    #[schema(required = true)]
    name: Option<&'a str>,
    /// When this server first saw the user.
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

impl<'a> From<&'a User> for MeResponse<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            id: user.id.as_str(),
            email: user.email.as_deref(),
            name: user.name.as_deref(),
            created_at: Timestamp(user.created_at),
        }
    }
}

/// `GET /health` and `GET /ready`.
#[derive(Serialize, ToSchema)]
pub struct StatusResponse {
    /// `ok` or `ready`.
    pub status: &'static str,
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn create(json: serde_json::Value) -> Result<NewTask, ValidationErrors> {
        serde_json::from_value::<CreateTaskBody>(json)
            .unwrap()
            .into_domain()
    }

    fn update(json: serde_json::Value) -> Result<TaskPatch, ValidationErrors> {
        serde_json::from_value::<UpdateTaskBody>(json)
            .unwrap()
            .into_domain()
    }

    #[test]
    fn timestamps_are_written_in_utc_with_milliseconds() {
        let json =
            serde_json::to_string(&Timestamp(datetime!(2026-01-08 12:15:30.1 +02:00))).unwrap();
        assert_eq!(json, "\"2026-01-08T10:15:30.100Z\"");
    }

    #[test]
    fn timestamps_of_every_year_are_written_alike() {
        for (at, wire) in [
            (
                datetime!(0000-01-01 00:00:00 UTC),
                "0000-01-01T00:00:00.000Z",
            ),
            (
                datetime!(9999-12-31 23:59:59.999 UTC),
                "9999-12-31T23:59:59.999Z",
            ),
            (
                datetime!(1969-12-31 23:59:59.5 UTC),
                "1969-12-31T23:59:59.500Z",
            ),
            (
                datetime!(0000-01-01 00:30 +01:00),
                "-0001-12-31T23:30:00.000Z",
            ),
        ] {
            let json = serde_json::to_string(&Timestamp(at)).unwrap();
            assert_eq!(json, format!("\"{wire}\""));
        }
    }

    #[test]
    fn a_create_body_reports_every_broken_rule() {
        let errors = create(serde_json::json!({
            "priority": "urgent", "tags": ["ok", ""], "due_date": "soon"
        }))
        .unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(FieldError::field).collect();
        assert_eq!(fields, ["title", "priority", "tags[1]", "due_date"]);
    }

    #[test]
    fn a_minimal_create_body_gets_the_defaults() {
        let new = create(serde_json::json!({"title": " Buy milk "})).unwrap();
        assert_eq!(new.title.as_str(), "Buy milk");
        assert_eq!((new.priority, new.completed), (Priority::Medium, false));
        assert!(new.tags.is_empty() && new.description.is_none() && new.due_date.is_none());
    }

    #[test]
    fn an_update_tells_null_from_absent() {
        let patch = update(serde_json::json!({"description": null, "due_date": null})).unwrap();
        assert_eq!(patch.description, Some(None));
        assert_eq!(patch.due_date, Some(None));
        assert_eq!(patch.title, None);
    }

    #[test]
    fn an_update_refuses_null_for_fields_that_cannot_be_empty() {
        let errors = update(
            serde_json::json!({"title": null, "priority": null, "tags": null, "completed": null}),
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(FieldError::field).collect();
        assert_eq!(fields, ["title", "completed", "priority", "tags"]);
    }
}

/// A page of the user's changes, or of a snapshot.
#[derive(Serialize, ToSchema)]
pub struct ChangesResponse<'a> {
    /// Tasks created or changed, as they are now.
    pub tasks: Vec<TaskResponse<'a>>,
    /// Ids of tasks deleted (with their list or parent included).
    #[schema(value_type = Vec<String>)]
    pub deleted_tasks: Vec<uuid::Uuid>,
    /// Lists created or changed, as they are now.
    pub lists: Vec<ListResponse<'a>>,
    /// Ids of lists deleted.
    #[schema(value_type = Vec<String>)]
    pub deleted_lists: Vec<uuid::Uuid>,
    /// Where the next call starts (`since`).
    pub cursor: String,
    /// Whether a call from `cursor` has more at once.
    pub has_more: bool,
}

impl<'a> From<&'a ChangePage> for ChangesResponse<'a> {
    fn from(page: &'a ChangePage) -> Self {
        let mut body = Self {
            tasks: Vec::new(),
            deleted_tasks: Vec::new(),
            lists: Vec::new(),
            deleted_lists: Vec::new(),
            cursor: page.cursor.to_string(),
            has_more: page.has_more,
        };
        for change in &page.changes {
            match &change.entry {
                Entry::Task(task) => body.tasks.push(task.into()),
                Entry::List(list) => body.lists.push(list.into()),
                Entry::DeletedTask(id) => body.deleted_tasks.push(*id.as_uuid()),
                Entry::DeletedList(id) => body.deleted_lists.push(*id.as_uuid()),
                // Not a change: `/changes` reads none (`Reading::Changes`).
                Entry::Reminder(_) => {}
            }
        }
        body
    }
}

/// What an event carries for a deletion.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoneResponse {
    /// The id of what was deleted.
    #[schema(value_type = String, format = Uuid)]
    pub id: uuid::Uuid,
}
