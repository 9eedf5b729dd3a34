//! The query parameters of the routes that take some: one struct per query, which both the
//! OpenAPI document (`IntoParams`) and the [`Query`](crate::extract::Query) extractor read, then
//! converted once into the domain's terms with every bad value reported.

use domain::sync::{Cursor, PageSize};
use domain::task::{
    DueDate, ListFilter, ParentFilter, Priority, SearchText, SortKey, SortOrder, StatusFilter,
    TaskQuery,
};
use domain::validation::{Collector, FieldError, ValidationErrors, Vocabulary};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::schema::{
    ListFilterText, OrderName, ParentFilterText, PriorityName, SearchQuery, SortName, StatusName,
    TagName,
};

/// `GET /api/{user_id}/tasks`. Unknown parameters are a 422.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTasksParams {
    /// `all` (default), `pending` or `completed`.
    #[param(value_type = Option<StatusName>)]
    status: Option<String>,
    /// Text searched, ignoring case, in title and description (blank: no search).
    #[param(value_type = Option<SearchQuery>)]
    q: Option<String>,
    /// Only this priority.
    #[param(value_type = Option<PriorityName>)]
    priority: Option<String>,
    /// A tag (compared ignoring case); repeat it to require several.
    #[serde(default)]
    #[param(explode = true, max_items = 10, value_type = Option<Vec<TagName>>)]
    tag: Vec<String>,
    /// Only tasks due strictly before this instant (RFC 3339).
    #[param(format = DateTime, value_type = Option<String>)]
    due_before: Option<String>,
    /// Only tasks due strictly after this instant (RFC 3339).
    #[param(format = DateTime, value_type = Option<String>)]
    due_after: Option<String>,
    /// Only the tasks of this list, or of the inbox (`inbox`).
    #[param(value_type = Option<ListFilterText>)]
    list_id: Option<String>,
    /// Only the subtasks of this task, or only top-level tasks (`none`).
    #[param(value_type = Option<ParentFilterText>)]
    parent_id: Option<String>,
    /// `created` (default), `updated`, `title`, `due_date`, `priority` or `position` (the
    /// manual order: the inbox, then each list; each task followed by its subtasks).
    #[param(value_type = Option<SortName>)]
    sort: Option<String>,
    /// `asc` or `desc`; default `desc` for created, updated, priority, else `asc`. Not with
    /// `sort=position`.
    #[param(value_type = Option<OrderName>)]
    order: Option<String>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500, value_type = Option<u32>)]
    limit: Option<String>,
    /// Tasks skipped, 0 to 2^63 − 1 (default 0).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_u64, value_type = Option<u64>)]
    offset: Option<String>,
}

impl ListTasksParams {
    /// The listing query with every default applied, or every bad value.
    pub fn into_domain(self) -> Result<TaskQuery, ValidationErrors> {
        let mut c = Collector::new();
        let mut query = TaskQuery::default();
        if let Some(raw) = &self.status {
            query.status = c.check(StatusFilter::parse(raw)).unwrap_or_default();
        }
        if let Some(raw) = &self.q {
            query.search = c.check(SearchText::parse(raw)).flatten();
        }
        if let Some(raw) = &self.priority {
            query.priority = c.check(Priority::parse(raw));
        }
        query.tags = c
            .check_all(TaskQuery::parse_tags(&self.tag))
            .unwrap_or_default();
        for (name, raw, slot) in [
            ("due_before", &self.due_before, &mut query.due_before),
            ("due_after", &self.due_after, &mut query.due_after),
        ] {
            if let Some(raw) = raw {
                *slot = c.check(DueDate::parse(raw).map_err(|e| e.renamed(name)));
            }
        }
        query.list = list_filter(&mut c, self.list_id.as_deref());
        if let Some(raw) = &self.parent_id {
            query.parent = c.check(ParentFilter::parse(raw));
        }
        if let Some(raw) = &self.sort {
            query.sort = c.check(SortKey::parse(raw)).unwrap_or_default();
        }
        query.order = match &self.order {
            Some(_) if query.sort == SortKey::Position => {
                c.push(FieldError::new(
                    "order",
                    "does not apply to sort=position, the manual order",
                ));
                SortOrder::Asc
            }
            Some(raw) => c.check(SortOrder::parse(raw)).unwrap_or(SortOrder::Asc),
            None => query.sort.default_order(),
        };
        if let Some(raw) = &self.limit {
            query.limit = c
                .check(TaskQuery::parse_limit(raw))
                .unwrap_or(TaskQuery::DEFAULT_LIMIT);
        }
        if let Some(raw) = &self.offset {
            query.offset = c.check(TaskQuery::parse_offset(raw)).unwrap_or(0);
        }
        c.finish(|| query)
    }
}

/// The `list_id` of a query, if given.
fn list_filter(c: &mut Collector, raw: Option<&str>) -> Option<ListFilter> {
    raw.and_then(|raw| c.check(ListFilter::parse(raw)))
}

/// `DELETE /api/{user_id}/tasks`: exactly `status=completed`, and optionally a list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClearCompletedParams {
    /// Must be `completed`.
    #[param(required = true, pattern = "^completed$", value_type = String)]
    status: Option<String>,
    /// Only in this list, or in the inbox (`inbox`).
    #[param(value_type = Option<ListFilterText>)]
    list_id: Option<String>,
}

impl ClearCompletedParams {
    /// The list to clear (all when `None`), if the query asks for what the route does.
    pub fn into_domain(self) -> Result<Option<ListFilter>, ValidationErrors> {
        let mut c = Collector::new();
        if self.status.as_deref() != Some("completed") {
            c.push(FieldError::new("status", "must be completed"));
        }
        let list = list_filter(&mut c, self.list_id.as_deref());
        c.finish(|| list)
    }
}

/// `GET /api/{user_id}/tasks/stats`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Only the tasks of this list, or of the inbox (`inbox`).
    #[param(value_type = Option<ListFilterText>)]
    list_id: Option<String>,
}

impl StatsParams {
    /// The list counted (all when `None`).
    pub fn into_domain(self) -> Result<Option<ListFilter>, ValidationErrors> {
        let mut c = Collector::new();
        let list = list_filter(&mut c, self.list_id.as_deref());
        c.finish(|| list)
    }
}

/// `GET /api/{user_id}/changes`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// The `cursor` of a previous page, or an event's `id`; without it, a snapshot of
    /// everything.
    #[param(value_type = Option<String>)]
    since: Option<String>,
    /// Entries per page, all kinds together: 1 to 1000 (500 when absent).
    #[param(minimum = 1, maximum = 1000, value_type = Option<u32>)]
    limit: Option<String>,
}

impl ChangesParams {
    /// Where to read from and how much.
    pub fn into_domain(self) -> Result<(Option<Cursor>, PageSize), ValidationErrors> {
        let mut c = Collector::new();
        let since = self.since.as_deref().and_then(|raw| {
            c.check(
                raw.parse::<Cursor>()
                    .map_err(|e| FieldError::new("since", e.to_string())),
            )
        });
        let size = match &self.limit {
            Some(raw) => c.check(PageSize::parse(raw)).unwrap_or(PageSize::DEFAULT),
            None => PageSize::DEFAULT,
        };
        c.finish(|| (since, size))
    }
}

#[cfg(test)]
mod tests;
