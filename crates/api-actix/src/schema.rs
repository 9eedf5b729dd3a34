//! Schemas of wire values whose rules live in the domain: the names of each closed set and the
//! bounds of each text are read from the domain's own constants, so the document cannot drift
//! from what the server accepts.

use std::borrow::Cow;

use domain::list::ListName;
use domain::task::{
    Priority, Recurrence, SearchText, SortKey, SortOrder, StatusFilter, Tag, TaskDescription,
    TaskTitle,
};
use domain::validation::Vocabulary;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// No control character (C0, DEL, C1) anywhere.
const NO_CONTROLS: &str = r"^[^\u0000-\u001F\u007F-\u009F]*$";
/// No control character, and at least one that is not white space (the text is trimmed).
const NOT_BLANK: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";
/// No control character but tabs and line breaks.
const MULTI_LINE: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

fn text(min: usize, max: usize, pattern: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .into()
}

fn names<V: Vocabulary>() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(V::NAMES.iter().map(|(name, _)| *name)))
        .into()
}

/// A schema named `$name`, built by `$schema`.
macro_rules! wire_schema {
    ($(#[$doc:meta])* $marker:ident, $name:literal, $schema:expr) => {
        $(#[$doc])*
        pub struct $marker;

        impl PartialSchema for $marker {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $marker {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

wire_schema!(
    /// `low`, `medium` or `high`.
    PriorityName, "Priority", names::<Priority>()
);
wire_schema!(
    /// Which tasks by completion state.
    StatusName, "Status", names::<StatusFilter>()
);
wire_schema!(
    /// What a listing is sorted by.
    SortName, "Sort", names::<SortKey>()
);
wire_schema!(
    /// Sort direction.
    OrderName, "Order", names::<SortOrder>()
);
wire_schema!(
    /// A title: trimmed, 1–200 characters, no control characters.
    TitleText, "Title", text(1, TaskTitle::MAX_CHARS, NOT_BLANK)
);
wire_schema!(
    /// A description: at most 1000 characters; tabs and line breaks allowed.
    DescriptionText, "Description", text(0, TaskDescription::MAX_CHARS, MULTI_LINE)
);
wire_schema!(
    /// A tag: trimmed, 1–32 characters, no control characters.
    TagName, "TagName", text(1, Tag::MAX_CHARS, NOT_BLANK)
);
wire_schema!(
    /// A search text: at most 200 characters, no control characters (blank: no search).
    SearchQuery, "SearchText", text(0, SearchText::MAX_CHARS, NO_CONTROLS)
);
wire_schema!(
    /// A list's name: trimmed, 1–100 characters, no control characters.
    ListNameText, "ListName", text(1, ListName::MAX_CHARS, NOT_BLANK)
);
wire_schema!(
    /// An RFC 5545 recurrence rule, the part after `RRULE:`: `FREQ` of `DAILY`, `WEEKLY`,
    /// `MONTHLY` or `YEARLY`, with `INTERVAL`, `BYDAY`, `BYMONTHDAY`, `BYMONTH`, `BYSETPOS`,
    /// `COUNT`, `UNTIL` (UTC, `…Z`) and `WKST` as the RFC says. Returned in canonical form.
    RecurrenceText,
    "Recurrence",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(Recurrence::MAX_CHARS))
        .examples(["FREQ=WEEKLY;BYDAY=MO,WE"])
        .into()
);
wire_schema!(
    /// An IANA time zone, spelled exactly.
    TimeZoneName,
    "TimeZone",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .examples(["Europe/Berlin"])
        .into()
);
wire_schema!(
    /// A colour, `#rrggbb` in any case (returned in lower case).
    ColorText,
    "Color",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^#[0-9A-Fa-f]{6}$"))
        .into()
);
wire_schema!(
    /// A list's id, or `inbox`.
    ListFilterText,
    "ListFilter",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(
            "^(inbox|[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12})$"
        ))
        .into()
);
wire_schema!(
    /// A task's id, or `none` (top-level tasks).
    ParentFilterText,
    "ParentFilter",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(
            "^(none|[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12})$"
        ))
        .into()
);

/// The names of the events `/events` sends.
pub const EVENT_NAMES: [&str; 8] = [
    "task.created",
    "task.updated",
    "task.deleted",
    "list.created",
    "list.updated",
    "list.deleted",
    "reminder",
    "reset",
];

wire_schema!(
    /// One message of `/events`: its `event` name, its `id` (a cursor) and its `data` (the
    /// task or list as JSON text; `{"id": ...}` for a deletion; `{}` for a reset). Comment
    /// lines (the heartbeat) are not messages.
    EventMessage,
    "Event",
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "event",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(EVENT_NAMES)),
        )
        .property(
            "id",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[0-9]+$")),
        )
        .property("data", ObjectBuilder::new().schema_type(Type::String))
        .required("event")
        .required("id")
        .required("data")
        .into()
);
