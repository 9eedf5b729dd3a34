//! The listing query (filters, sort, paging) and the stats of one user's tasks.

use time::OffsetDateTime;

use super::model::{DueDate, Priority, Tag, Task};
use crate::validation::{Collector, FieldError, ValidationErrors, char_len_within};

/// Which tasks by completion state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
}

impl SortKey {
    /// The order used when none is given: newest and most important first, alphabetical and
    /// soonest first.
    pub fn default_order(self) -> SortOrder {
        match self {
            Self::Created | Self::Updated | Self::Priority => SortOrder::Desc,
            Self::Title | Self::DueDate => SortOrder::Asc,
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// Trims; blank text means no search (`Ok(None)`).
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if !char_len_within(text, 1, Self::MAX_CHARS) {
            return Err(FieldError::new("q", "must be at most 200 characters"));
        }
        Ok(Some(Self(text.to_owned())))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
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
    /// Most `tag` parameters in one query.
    pub const MAX_TAGS: usize = 10;

    /// Parses decoded query-string pairs. Unknown names, repeated single-valued names and bad
    /// values are all reported, each under its parameter's name, rather than ignored.
    pub fn from_pairs<K, V>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, ValidationErrors>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut c = Collector::new();
        let mut raw = RawQuery::default();
        for (name, value) in pairs {
            let (name, value) = (name.as_ref(), value.as_ref());
            let slot = match name {
                "tag" => {
                    raw.tags.push(value.to_owned());
                    continue;
                }
                "status" => &mut raw.status,
                "q" => &mut raw.q,
                "priority" => &mut raw.priority,
                "due_before" => &mut raw.due_before,
                "due_after" => &mut raw.due_after,
                "sort" => &mut raw.sort,
                "order" => &mut raw.order,
                "limit" => &mut raw.limit,
                "offset" => &mut raw.offset,
                _ => {
                    c.push(FieldError::new(name, "is not a known parameter"));
                    continue;
                }
            };
            if slot.replace(value.to_owned()).is_some() {
                c.push(FieldError::new(name, "must be given at most once"));
            }
        }
        let query = raw.parse(&mut c);
        c.finish(|| query)
    }
}

/// The listing parameters as strings, before validation.
#[derive(Default)]
struct RawQuery {
    status: Option<String>,
    q: Option<String>,
    priority: Option<String>,
    tags: Vec<String>,
    due_before: Option<String>,
    due_after: Option<String>,
    sort: Option<String>,
    order: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

impl RawQuery {
    /// Parses every parameter, recording errors in `c`; the result is meaningful only when
    /// `c` stays empty.
    fn parse(self, c: &mut Collector) -> TaskQuery {
        let mut query = TaskQuery::default();
        if let Some(raw) = self.status {
            query.status = c
                .check(one_of(
                    "status",
                    &raw,
                    &[
                        ("all", StatusFilter::All),
                        ("pending", StatusFilter::Pending),
                        ("completed", StatusFilter::Completed),
                    ],
                ))
                .unwrap_or_default();
        }
        if let Some(raw) = self.q {
            query.search = c.check(SearchText::parse(&raw)).flatten();
        }
        if let Some(raw) = self.priority {
            query.priority = c.check(Priority::parse(&raw));
        }
        if self.tags.len() > TaskQuery::MAX_TAGS {
            c.push(FieldError::new("tag", "must be given at most 10 times"));
        }
        for (i, raw) in self.tags.iter().enumerate() {
            let parsed = Tag::parse(raw).map_err(|e| e.renamed(format!("tag[{i}]")));
            query.tags.extend(c.check(parsed));
        }
        for (name, raw, slot) in [
            ("due_before", self.due_before, &mut query.due_before),
            ("due_after", self.due_after, &mut query.due_after),
        ] {
            if let Some(raw) = raw {
                *slot = c.check(DueDate::parse(&raw).map_err(|e| e.renamed(name)));
            }
        }
        if let Some(raw) = self.sort {
            query.sort = c
                .check(one_of(
                    "sort",
                    &raw,
                    &[
                        ("created", SortKey::Created),
                        ("updated", SortKey::Updated),
                        ("title", SortKey::Title),
                        ("due_date", SortKey::DueDate),
                        ("priority", SortKey::Priority),
                    ],
                ))
                .unwrap_or_default();
        }
        query.order = match self.order {
            Some(raw) => c
                .check(one_of(
                    "order",
                    &raw,
                    &[("asc", SortOrder::Asc), ("desc", SortOrder::Desc)],
                ))
                .unwrap_or(SortOrder::Asc),
            None => query.sort.default_order(),
        };
        if let Some(raw) = self.limit {
            query.limit = c
                .check(
                    raw.parse::<u32>()
                        .ok()
                        .filter(|n| (1..=TaskQuery::MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            FieldError::new("limit", "must be a whole number from 1 to 500")
                        }),
                )
                .unwrap_or(TaskQuery::DEFAULT_LIMIT);
        }
        if let Some(raw) = self.offset {
            query.offset = c
                .check(
                    raw.parse::<u64>()
                        .ok()
                        .filter(|n| *n <= TaskQuery::MAX_OFFSET)
                        .ok_or_else(|| {
                            FieldError::new(
                                "offset",
                                "must be a whole number from 0 to 9223372036854775807",
                            )
                        }),
                )
                .unwrap_or(0);
        }
        query
    }
}

/// The value named `raw` among `choices`, or an error listing them.
fn one_of<T: Copy>(field: &str, raw: &str, choices: &[(&str, T)]) -> Result<T, FieldError> {
    choices
        .iter()
        .find(|(name, _)| *name == raw)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            FieldError::new(field, format!("must be one of {}", names.join(", ")))
        })
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
