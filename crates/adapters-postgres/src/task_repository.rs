//! `TaskRepository` on SeaORM.

use std::borrow::Cow;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use domain::list::ListId;
use domain::position::{End, Position, Slot};
use domain::repo::RepoError;
use domain::task::{
    Completion, CompletionWrite, Destination, DueDate, ListFilter, ParentFacts, ParentFilter,
    Priority, PriorityCounts, Recurrence, RemindAt, SortKey, SortOrder, StatusFilter,
    SubtaskCounts, Tags, Task, TaskDescription, TaskId, TaskPage, TaskQuery, TaskRecord,
    TaskRepository, TaskStats, TaskTitle, TimeZone, Version, check_can_become_subtask,
};
use domain::user::UserId;
use domain::validation::FieldError;
use sea_orm::sea_query::{
    CaseStatement, Expr, ExprTrait, Func, LikeExpr, Order, Query, SimpleExpr,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};
use smallvec::SmallVec;
use time::OffsetDateTime;

use crate::entity::{list, task, task_tag};
use crate::error::translate;
use crate::live::ChangeFeed;
use crate::sql::{Written, contains_pattern, timestamp};
use crate::store::Store;
use crate::write::{APPENDED, OwnerWrite, appended, appending_values, changing, owner_first};

/// Tasks in the `tasks` and `task_tags` tables.
#[derive(Debug, Clone)]
pub struct SeaTaskRepository {
    db: DatabaseConnection,
    feed: ChangeFeed,
}

impl SeaTaskRepository {
    /// A repository on the store's pool.
    pub fn new(store: &Store) -> Self {
        Self {
            db: store.connection().clone(),
            feed: store.feed().clone(),
        }
    }

    fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// A task with no list or parent, by [`appending_insert`].
    async fn insert_last(&self, task: &Task) -> Result<Task, RepoError> {
        let row = self
            .db
            .query_one_raw(appending_insert(task))
            .await
            .map_err(translate)?;
        // As `OwnerWrite::last_position`: an owner without a row has no number to place by.
        let row = row.ok_or(RepoError::NotFound)?;
        let raw = text(&row, 0)?.ok_or_else(|| corrupt("position"))?;
        let position = Position::parse(&*raw).map_err(|_| corrupt("position"))?;
        self.feed.changed(task.owner().as_str());
        Ok(task.clone().placed(position))
    }

    /// After a guarded write touched no row: was the task missing, or at another version?
    async fn missing_or_stale(&self, owner: &UserId, id: TaskId) -> RepoError {
        let found = task::Entity::find()
            .select_only()
            .column(task::Column::Version)
            .filter(owned(owner, id))
            .into_tuple::<i64>()
            .one(&self.db)
            .await;
        match found {
            Ok(Some(_)) => RepoError::VersionMismatch,
            Ok(None) => RepoError::NotFound,
            Err(error) => translate(error),
        }
    }

    /// Whether the owner's task `id` exists and repeats.
    async fn repeats(&self, owner: &UserId, id: TaskId) -> Result<bool, RepoError> {
        let rule = task::Entity::find()
            .select_only()
            .column(task::Column::Recurrence)
            .filter(owned(owner, id))
            .into_tuple::<Option<String>>()
            .one(&self.db)
            .await
            .map_err(translate)?;
        Ok(matches!(rule, Some(Some(_))))
    }
}

/// The select of the owner's task `id`, as `Entity::find().filter(owned(..)).one(..)` builds
/// it ([`one_task_built`]), written once per backend.
fn one_task(backend: DbBackend, owner: &UserId, id: TaskId) -> sea_orm::Statement {
    static WRITTEN: Written<()> = Written::new();
    WRITTEN.statement(
        backend,
        (),
        || vec![(*id.as_uuid()).into(), owner.as_str().into(), 1_u64.into()],
        || one_task_built(backend, owner, id),
    )
}

/// [`one_task`] built by SeaORM, values and all.
fn one_task_built(backend: DbBackend, owner: &UserId, id: TaskId) -> sea_orm::Statement {
    task::Entity::find()
        .filter(owned(owner, id))
        .limit(1)
        .build(backend)
}

/// The owner's task `id` as stored now (in `db`, a transaction's view included).
async fn read_task(
    db: &impl ConnectionTrait,
    owner: &UserId,
    id: TaskId,
) -> Result<Task, RepoError> {
    let row = db
        .query_one_raw(one_task(db.get_database_backend(), owner, id))
        .await
        .map_err(translate)?
        .ok_or(RepoError::NotFound)?;
    task_in(&row, owner)
}

/// Runs `update`, a write of one of the owner's tasks (its `WHERE` names the id), and returns
/// the task it wrote, if any.
async fn updated_task(
    db: &impl ConnectionTrait,
    owner: &UserId,
    update: sea_orm::UpdateMany<task::Entity>,
) -> Result<Option<Task>, RepoError> {
    let statement = returning_task(db.get_database_backend(), update);
    written_task(db, owner, statement).await
}

/// `update` returning the task it writes, in the order of `task::Column`: read by position (as
/// [`task_in`] reads) rather than by name as `exec_with_returning` reads it, whose lookups by
/// name were ~25,000 instructions of a toggle.
fn returning_task(
    backend: DbBackend,
    update: sea_orm::UpdateMany<task::Entity>,
) -> sea_orm::Statement {
    use sea_orm::Iterable;
    let mut statement = update.into_query();
    statement.returning(Query::returning().columns(task::Column::iter()));
    backend.build(&statement)
}

/// Runs a [`returning_task`] statement: the task it wrote, if any.
async fn written_task(
    db: &impl ConnectionTrait,
    owner: &UserId,
    statement: sea_orm::Statement,
) -> Result<Option<Task>, RepoError> {
    db.query_one_raw(statement)
        .await
        .map_err(translate)?
        .map(|row| task_in(&row, owner))
        .transpose()
}

/// The owner's row with this id: ownership is part of every statement's `WHERE`.
fn owned(owner: &UserId, id: TaskId) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(task::Column::Id.eq(*id.as_uuid()))
        .add(task::Column::Owner.eq(owner.as_str()))
}

fn priority_code(priority: Priority) -> i16 {
    match priority {
        Priority::Low => 0,
        Priority::Medium => 1,
        Priority::High => 2,
    }
}

fn corrupt(what: &str) -> RepoError {
    RepoError::Unexpected(anyhow!("stored task has an invalid {what}"))
}

/// How many columns a task row has: what a statement reads after them (a listing's
/// `COUNT(*) OVER ()`, the change log's own columns) starts here.
pub(crate) const TASK_COLUMNS: usize = 20;

/// A column of a task row. On PostgreSQL it is decoded from the driver's row directly and
/// without sqlx's check of the column's type against `T`: through SeaORM every NULL was first
/// an error whose message was formatted, then discarded, and the type check compared type
/// descriptions for every value of a listing. The types are the schema's own (the repository
/// tests read back every column of stored tasks on both backends); a NULL where `T` is not
/// an `Option` is still an error.
pub(crate) fn column<T>(row: &sea_orm::QueryResult, index: usize) -> Result<T, sea_orm::DbErr>
where
    T: sea_orm::TryGetable + for<'r> sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>,
{
    match row.try_as_pg_row() {
        Some(pg) => sea_orm::sqlx::Row::try_get_unchecked(pg, index).map_err(decoding),
        None => row.try_get_by_index(index),
    }
}

/// A text column, as [`column`] reads it but borrowed from PostgreSQL's row: what is parsed
/// and not kept (the owner, the tags' JSON, the time zone) costs no copy.
fn text(row: &sea_orm::QueryResult, index: usize) -> Result<Option<Cow<'_, str>>, RepoError> {
    match row.try_as_pg_row() {
        Some(pg) => sea_orm::sqlx::Row::try_get_unchecked::<Option<&str>, _>(pg, index)
            .map(|text| text.map(Cow::Borrowed))
            .map_err(decoding),
        None => row
            .try_get_by_index::<Option<String>>(index)
            .map(|text| text.map(Cow::Owned)),
    }
    .map_err(translate)
}

fn decoding(error: sea_orm::sqlx::Error) -> sea_orm::DbErr {
    sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(error.into()))
}

/// A tag as stored in the tags' JSON, borrowed from it unless it has escapes.
#[derive(serde::Deserialize)]
struct StoredTag<'a>(#[serde(borrow)] Cow<'a, str>);

impl AsRef<str> for StoredTag<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The owner's task in a row whose first [`TASK_COLUMNS`] columns are a task's, in the order
/// of `task::Column` (which `Entity::find()` selects; a test holds the two together), read by
/// position rather than by name: a listing decodes fifty rows, and the lookups by name were a
/// tenth of its instructions. Every statement reading tasks names their owner in its `WHERE`,
/// so the row's owner is checked against `owner` and shares its id rather than copying it.
/// Stored values were validated on the way in: a failure means the row was edited by hand.
fn task_in(row: &sea_orm::QueryResult, owner: &UserId) -> Result<Task, RepoError> {
    let required = |index: usize, what: &str| text(row, index)?.ok_or_else(|| corrupt(what));
    if required(1, "owner")? != owner.as_str() {
        return Err(RepoError::Unexpected(anyhow!(
            "a statement read a task of another owner"
        )));
    }
    let tags = required(7, "tags")?;
    let tags: SmallVec<[StoredTag<'_>; 4]> =
        serde_json::from_str(&tags).map_err(|_| corrupt("tags"))?;
    let count = |index: usize| {
        u32::try_from(column::<i32>(row, index).map_err(translate)?)
            .map_err(|_| corrupt("subtask count"))
    };
    let priority = column::<i16>(row, 6).map_err(translate)?;
    Ok(Task::restore(TaskRecord {
        id: TaskId::from(column::<uuid::Uuid>(row, 0).map_err(translate)?),
        owner: owner.clone(),
        title: TaskTitle::parse(required(2, "title")?).map_err(|_| corrupt("title"))?,
        description: match text(row, 3)? {
            Some(text) => TaskDescription::parse(text).map_err(|_| corrupt("description"))?,
            None => None,
        },
        completed: column(row, 4).map_err(translate)?,
        completed_at: column(row, 5).map_err(translate)?,
        priority: *Priority::ALL
            .get(usize::try_from(priority).map_err(|_| corrupt("priority"))?)
            .ok_or_else(|| corrupt("priority"))?,
        tags: Tags::parse(&tags).map_err(|_| corrupt("tags"))?,
        due_date: column::<Option<OffsetDateTime>>(row, 8)
            .map_err(translate)?
            .map(DueDate::new),
        list: column::<Option<uuid::Uuid>>(row, 9)
            .map_err(translate)?
            .map(ListId::from),
        parent: column::<Option<uuid::Uuid>>(row, 10)
            .map_err(translate)?
            .map(TaskId::from),
        position: Position::parse(required(11, "position")?).map_err(|_| corrupt("position"))?,
        subtasks: SubtaskCounts {
            total: count(12)?,
            completed: count(13)?,
        },
        version: Version::new(column(row, 14).map_err(translate)?)
            .ok_or_else(|| corrupt("version"))?,
        created_at: column(row, 15).map_err(translate)?,
        updated_at: column(row, 16).map_err(translate)?,
        recurrence: text(row, 17)?
            .map(|rule| Recurrence::parse(&rule).map_err(|_| corrupt("recurrence")))
            .transpose()?,
        timezone: TimeZone::parse(&required(18, "timezone")?).map_err(|_| corrupt("timezone"))?,
        remind_at: column::<Option<OffsetDateTime>>(row, 19)
            .map_err(translate)?
            .map(RemindAt::new),
    }))
}

fn tags_json(task: &Task) -> String {
    let names: Vec<&str> = task
        .tags()
        .as_slice()
        .iter()
        .map(domain::task::Tag::as_str)
        .collect();
    serde_json::Value::from(names).to_string()
}

/// The insert of a task's tag rows ([`tags_inserting_built`]), written once per number of
/// tags. Run as it is, nothing is read back (SeaORM's `insert_many(..).exec` asks PostgreSQL
/// to return the rows' keys, which the caller knows already).
fn tags_inserting(backend: DbBackend, task: &Task) -> sea_orm::Statement {
    static WRITTEN: Written<usize> = Written::new();
    let tags = task.tags().as_slice();
    WRITTEN.statement(
        backend,
        tags.len(),
        || {
            let mut values = Vec::with_capacity(3 * tags.len());
            for tag in tags {
                values.push((*task.id().as_uuid()).into());
                values.push(tag.key().into());
                values.push(task.owner().as_str().into());
            }
            values
        },
        || tags_inserting_built(backend, task),
    )
}

fn tags_inserting_built(backend: DbBackend, task: &Task) -> sea_orm::Statement {
    let rows = task
        .tags()
        .as_slice()
        .iter()
        .map(|tag| task_tag::ActiveModel {
            task_id: Set(*task.id().as_uuid()),
            tag_key: Set(tag.key()),
            owner: Set(task.owner().as_str().to_owned()),
        });
    task_tag::Entity::insert_many(rows).build(backend)
}

fn to_active(task: &Task) -> task::ActiveModel {
    task::ActiveModel {
        id: Set(*task.id().as_uuid()),
        owner: Set(task.owner().as_str().to_owned()),
        title: Set(task.title().as_str().to_owned()),
        description: Set(task.description().map(|d| d.as_str().to_owned())),
        completed: Set(task.completed()),
        completed_at: Set(task.completed_at()),
        priority: Set(priority_code(task.priority())),
        tags: Set(tags_json(task)),
        due_date: Set(task.due_date().map(DueDate::at)),
        list_id: Set(task.list().map(|l| *l.as_uuid())),
        parent_id: Set(task.parent().map(|p| *p.as_uuid())),
        position: Set(task.position().as_str().to_owned()),
        subtask_count: Set(count_column(task.subtasks().total)),
        completed_subtask_count: Set(count_column(task.subtasks().completed)),
        version: Set(task.version().get()),
        created_at: Set(task.created_at()),
        updated_at: Set(task.updated_at()),
        recurrence: Set(task.recurrence().map(|r| r.as_str().to_owned())),
        timezone: Set(task.timezone().name().to_owned()),
        remind_at: Set(task.remind_at().map(RemindAt::at)),
    }
}

/// The insert of a new task, as `Entity::insert(..)` builds it ([`inserting_built`]): every
/// column is set, so its SQL depends on the backend alone and is written once per backend.
fn inserting(backend: DbBackend, task: &Task) -> sea_orm::Statement {
    use sea_orm::{ActiveModelTrait, Iterable};
    static WRITTEN: Written<()> = Written::new();
    let mut row = to_active(task);
    WRITTEN.statement(
        backend,
        (),
        // Taken out of the row, not copied as `get` would.
        || {
            task::Column::iter()
                .filter_map(|column| row.take(column).into_value())
                .collect()
        },
        || inserting_built(backend, task),
    )
}

fn inserting_built(backend: DbBackend, task: &Task) -> sea_orm::Statement {
    task::Entity::insert(to_active(task)).build(backend)
}

/// What [`Position::appended`] makes of the owner's append number, written by PostgreSQL from
/// the `append_seq` a statement took: `f0`, the number in sixteen hex digits, `80`. A test holds
/// the two to each other.
const APPENDED_POSITION: &str = r#"'f0' || lpad(to_hex("append_seq"), 16, '0') || '80'"#;

/// What [`Position::prepended`] makes of the owner's append number, as [`APPENDED_POSITION`]:
/// `01`, the number's distance to the largest bigint in sixteen hex digits, `80`.
const PREPENDED_POSITION: &str =
    r#"'01' || lpad(to_hex(9223372036854775807 - "append_seq"), 16, '0') || '80'"#;

/// A task with no list or parent, placed last and inserted with its tag rows by one statement
/// on PostgreSQL ([`appending_insert_built`]), written once per number of tags: the owner's
/// locks and next append number (as [`OwnerWrite::begin`] takes them), the task placed by that
/// number, its tags, each part reading the one before, in the statement's own transaction. A
/// create is one round trip instead of five (begin, number, task, tags, commit): half the work
/// for PostgreSQL, and a fifth of the waiting on a database across a network. Without the
/// owner's row nothing is written and no row comes back. A task in a list or under a parent
/// keeps the transaction: what it reads of them must be read under the owner's lock, which a
/// statement's snapshot, taken before the lock, would not see.
fn appending_insert(task: &Task) -> sea_orm::Statement {
    use sea_orm::{ActiveModelTrait, Iterable};
    static WRITTEN: Written<usize> = Written::new();
    let owner = task.owner().as_str();
    let tags = task.tags().as_slice();
    let mut row = to_active(task);
    WRITTEN.statement(
        DbBackend::Postgres,
        tags.len(),
        || {
            // The owner's number's, the task's but its position, then each tag's key and owner.
            let mut values = appending_values(task.owner(), true);
            values.extend(
                task::Column::iter()
                    .filter(|column| !matches!(column, task::Column::Position))
                    .filter_map(|column| row.take(column).into_value()),
            );
            for tag in tags {
                values.extend([tag.key().into(), owner.into()]);
            }
            values
        },
        || appending_insert_built(task),
    )
}

fn appending_insert_built(task: &Task) -> sea_orm::Statement {
    use sea_orm::sea_query::{Alias, CommonTableExpression};
    use sea_orm::{ActiveModelTrait, Iterable};
    let inserted = Alias::new("inserted");
    let mut row = to_active(task);
    let mut placed = Query::select();
    for column in task::Column::iter() {
        if matches!(column, task::Column::Position) {
            placed.expr(Expr::cust(APPENDED_POSITION));
        } else if let Some(value) = row.take(column).into_value() {
            placed.expr(Expr::val(value));
        }
    }
    placed.from(Alias::new(APPENDED));
    let mut insert = Query::insert();
    insert
        .into_table(task::Entity)
        .columns(task::Column::iter())
        .select_from(placed)
        .expect("`to_active` sets every column");
    insert.returning(Query::returning().columns([task::Column::Id, task::Column::Position]));
    let mut with = appended(task.owner());
    with.cte(
        CommonTableExpression::new()
            .query(insert)
            .table_name(inserted.clone())
            .to_owned(),
    );
    if let Some(tags) = tags_of_inserted(task, &inserted) {
        with.cte(
            CommonTableExpression::new()
                .query(tags)
                .table_name(Alias::new("tagged"))
                .to_owned(),
        );
    }
    let position = Query::select()
        .column(task::Column::Position)
        .from(inserted)
        .to_owned();
    DbBackend::Postgres.build(&position.with(with))
}

/// The insert of the tag rows of the task `inserted` returns, when it has tags.
fn tags_of_inserted(
    task: &Task,
    inserted: &sea_orm::sea_query::Alias,
) -> Option<sea_orm::sea_query::InsertStatement> {
    let owner = task.owner().as_str();
    let mut rows = task.tags().as_slice().iter().map(|tag| {
        Query::select()
            .column(task::Column::Id)
            .expr(Expr::val(tag.key()))
            .expr(Expr::val(owner))
            .from(inserted.clone())
            .to_owned()
    });
    let mut select = rows.next()?;
    for row in rows {
        select.union(sea_orm::sea_query::UnionType::All, row);
    }
    let mut insert = Query::insert();
    insert
        .into_table(task_tag::Entity)
        .columns([
            task_tag::Column::TaskId,
            task_tag::Column::TagKey,
            task_tag::Column::Owner,
        ])
        .select_from(select)
        .expect("three columns, three values");
    Some(insert)
}

fn count_column(count: u32) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// Writes the tag rows of a task, replacing any it had.
async fn write_tags(db: &impl ConnectionTrait, task: &Task) -> Result<(), sea_orm::DbErr> {
    task_tag::Entity::delete_many()
        .filter(task_tag::Column::TaskId.eq(*task.id().as_uuid()))
        .exec(db)
        .await?;
    insert_tags(db, task).await
}

/// Writes the tag rows of a task that has none yet.
async fn insert_tags(db: &impl ConnectionTrait, task: &Task) -> Result<(), sea_orm::DbErr> {
    if !task.tags().as_slice().is_empty() {
        db.execute_raw(tags_inserting(db.get_database_backend(), task))
            .await?;
    }
    Ok(())
}

/// The `WHERE` of a listing: the owner's tasks matching every filter.
fn listing_filter(backend: DbBackend, owner: &UserId, query: &TaskQuery) -> sea_orm::Condition {
    let mut filter = sea_orm::Condition::all().add(task::Column::Owner.eq(owner.as_str()));
    match query.status {
        StatusFilter::All => {}
        StatusFilter::Pending => filter = filter.add(task::Column::Completed.eq(false)),
        StatusFilter::Completed => filter = filter.add(task::Column::Completed.eq(true)),
    }
    if let Some(search) = &query.search {
        let pattern = contains_pattern(search.as_str());
        let like = |column: task::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        filter = filter.add(
            sea_orm::Condition::any()
                .add(like(task::Column::Title))
                .add(like(task::Column::Description)),
        );
    }
    if let Some(priority) = query.priority {
        filter = filter.add(task::Column::Priority.eq(priority_code(priority)));
    }
    if let Some(list) = query.list {
        filter = filter.add(in_list(list.list()));
    }
    match query.parent {
        None => {}
        Some(ParentFilter::TopLevel) => filter = filter.add(task::Column::ParentId.is_null()),
        Some(ParentFilter::Of(parent)) => {
            filter = filter.add(task::Column::ParentId.eq(*parent.as_uuid()));
        }
    }
    let due = || timestamp(backend, Expr::col(task::Column::DueDate));
    if let Some(before) = query.due_before {
        filter = filter.add(due().lt(timestamp(backend, Expr::value(before.at()))));
    }
    if let Some(after) = query.due_after {
        filter = filter.add(due().gt(timestamp(backend, Expr::value(after.at()))));
    }
    let keys = tag_keys(query);
    if !keys.is_empty() {
        let wanted = i64::try_from(keys.len()).unwrap_or(i64::MAX);
        let carrying_all = Query::select()
            .column(task_tag::Column::TaskId)
            .from(task_tag::Entity)
            .and_where(task_tag::Column::Owner.eq(owner.as_str()))
            .and_where(task_tag::Column::TagKey.is_in(keys))
            .group_by_col(task_tag::Column::TaskId)
            .and_having(Expr::cust("COUNT(*)").eq(wanted))
            .to_owned();
        filter = filter.add(task::Column::Id.in_subquery(carrying_all));
    }
    filter
}

/// The distinct keys of the tags a listing requires, in order.
fn tag_keys(query: &TaskQuery) -> Vec<String> {
    let mut keys: Vec<String> = query.tags.iter().map(domain::task::Tag::key).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// What the SQL of a listing depends on besides the backend: which filters it has (not their
/// values), its sort and order.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a shape is which clauses the statement has: a yes or no each"
)]
struct ListingShape {
    status: StatusFilter,
    search: bool,
    priority: bool,
    /// `Some(true)` for one list, `Some(false)` for the inbox.
    list: Option<bool>,
    /// `Some(true)` for one parent's subtasks, `Some(false)` for top-level tasks.
    parent: Option<bool>,
    due_before: bool,
    due_after: bool,
    tags: usize,
    sort: SortKey,
    order: SortOrder,
}

impl ListingShape {
    fn of(query: &TaskQuery, tags: usize) -> Self {
        Self {
            status: query.status,
            search: query.search.is_some(),
            priority: query.priority.is_some(),
            list: query.list.map(|list| list.list().is_some()),
            parent: query
                .parent
                .map(|parent| matches!(parent, ParentFilter::Of(_))),
            due_before: query.due_before.is_some(),
            due_after: query.due_after.is_some(),
            tags,
            sort: query.sort,
            order: query.order,
        }
    }
}

/// The statement of a listing page ([`listing_built`]), written once per [`ListingShape`].
fn listing(backend: DbBackend, owner: &UserId, query: &TaskQuery) -> sea_orm::Statement {
    static WRITTEN: Written<ListingShape> = Written::new();
    let keys = tag_keys(query);
    WRITTEN.statement(
        backend,
        ListingShape::of(query, keys.len()),
        || listing_values(owner, query, keys),
        || listing_built(backend, owner, query),
    )
}

/// The values of a listing's statement, in the order [`listing_filter`] and [`listing_built`]
/// bind them.
fn listing_values(owner: &UserId, query: &TaskQuery, keys: Vec<String>) -> Vec<sea_orm::Value> {
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(8 + keys.len());
    values.push(owner.as_str().into());
    match query.status {
        StatusFilter::All => {}
        StatusFilter::Pending => values.push(false.into()),
        StatusFilter::Completed => values.push(true.into()),
    }
    if let Some(search) = &query.search {
        let pattern = contains_pattern(search.as_str());
        values.push(pattern.clone().into());
        values.push(pattern.into());
    }
    if let Some(priority) = query.priority {
        values.push(priority_code(priority).into());
    }
    if let Some(list) = query.list.and_then(ListFilter::list) {
        values.push((*list.as_uuid()).into());
    }
    if let Some(ParentFilter::Of(parent)) = query.parent {
        values.push((*parent.as_uuid()).into());
    }
    for due in [query.due_before, query.due_after].into_iter().flatten() {
        values.push(due.at().into());
    }
    if !keys.is_empty() {
        let wanted = i64::try_from(keys.len()).unwrap_or(i64::MAX);
        values.push(owner.as_str().into());
        values.extend(keys.into_iter().map(sea_orm::Value::from));
        values.push(wanted.into());
    }
    values.push(u64::from(query.limit).into());
    values.push(query.offset.into());
    values
}

/// A listing page's statement as SeaORM builds it: the owner's tasks matching the query, in
/// its order, each row with the count of all matches.
fn listing_built(backend: DbBackend, owner: &UserId, query: &TaskQuery) -> sea_orm::Statement {
    let order = match query.order {
        SortOrder::Asc => Order::Asc,
        SortOrder::Desc => Order::Desc,
    };
    let mut select = task::Entity::find().filter(listing_filter(backend, owner, query));
    if query.sort == SortKey::Position {
        select = position_order(select, query);
    } else {
        if query.sort == SortKey::DueDate {
            // Undated tasks last, whatever the direction.
            select = select.order_by(Expr::col(task::Column::DueDate).is_null(), Order::Asc);
        }
        select = select
            .order_by(sort_expr(backend, query.sort), order.clone())
            .order_by(task::Column::Id, order);
    }
    select
        .expr_as(Expr::cust("COUNT(*) OVER ()"), "total")
        .limit(u64::from(query.limit))
        .offset(query.offset)
        .build(backend)
}

/// The sort expression of a listing key.
fn sort_expr(backend: DbBackend, key: SortKey) -> SimpleExpr {
    match key {
        SortKey::Created => timestamp(backend, Expr::col(task::Column::CreatedAt)),
        SortKey::Updated => timestamp(backend, Expr::col(task::Column::UpdatedAt)),
        SortKey::Title => Func::lower(Expr::col(task::Column::Title)).into(),
        SortKey::DueDate => timestamp(backend, Expr::col(task::Column::DueDate)),
        SortKey::Priority => Expr::col(task::Column::Priority),
        // Ordered by `position_order` instead.
        SortKey::Position => Expr::col(task::Column::Position),
    }
}

#[derive(FromQueryResult)]
struct StatsRow {
    total: i64,
    completed: Option<i64>,
    overdue: Option<i64>,
    low: Option<i64>,
    medium: Option<i64>,
    high: Option<i64>,
}

fn count(value: Option<i64>) -> u64 {
    value.and_then(|v| u64::try_from(v).ok()).unwrap_or(0)
}

fn rule(field: &str, message: &str) -> RepoError {
    RepoError::Rule(FieldError::new(field, message))
}

/// The tasks of one list (or the inbox).
fn in_list(list: Option<ListId>) -> SimpleExpr {
    match list {
        Some(list) => task::Column::ListId.eq(*list.as_uuid()),
        None => task::Column::ListId.is_null(),
    }
}

/// A position among the siblings a task is placed among: the owner's tasks of one list (or the
/// inbox) under one parent (or top-level), the task itself left out.
struct SiblingPosition<'a> {
    owner: &'a UserId,
    list: Option<ListId>,
    parent: Option<TaskId>,
    placed: TaskId,
    which: Which<'a>,
}

/// Which sibling's position [`SiblingPosition`] reads.
#[derive(Clone, Copy)]
enum Which<'a> {
    /// The first sibling's.
    First,
    /// This sibling's.
    Of(TaskId),
    /// The first sibling's after this position.
    After(&'a Position),
}

impl SiblingPosition<'_> {
    /// The position, if there is such a sibling.
    async fn read(&self, db: &impl ConnectionTrait) -> Result<Option<Position>, RepoError> {
        let row = db
            .query_one_raw(self.statement(db.get_database_backend()))
            .await
            .map_err(translate)?;
        let Some(row) = row else { return Ok(None) };
        let raw = text(&row, 0)?.ok_or_else(|| corrupt("position"))?;
        Position::parse(&*raw)
            .map(Some)
            .map_err(|_| corrupt("position"))
    }

    /// [`Self::statement_built`], written once per backend and shape: a move to the front
    /// reads one, and sea-query wrote it anew each time (with SeaORM's read by column name,
    /// ~40,000 instructions of such a move).
    fn statement(&self, backend: DbBackend) -> sea_orm::Statement {
        static WRITTEN: Written<(bool, bool, u8)> = Written::new();
        let which = match self.which {
            Which::First => 0,
            Which::Of(_) => 1,
            Which::After(_) => 2,
        };
        let shape = (self.list.is_some(), self.parent.is_some(), which);
        WRITTEN.statement(
            backend,
            shape,
            || {
                let mut values: Vec<sea_orm::Value> = Vec::with_capacity(6);
                values.push(self.owner.as_str().into());
                values.extend(self.list.map(|list| (*list.as_uuid()).into()));
                values.extend(self.parent.map(|parent| (*parent.as_uuid()).into()));
                values.push((*self.placed.as_uuid()).into());
                values.extend(match self.which {
                    Which::First => None,
                    Which::Of(sibling) => Some((*sibling.as_uuid()).into()),
                    Which::After(position) => Some(position.as_str().into()),
                });
                values.push(1_u64.into());
                values
            },
            || self.statement_built(backend),
        )
    }

    /// Read as the first row in the order of the siblings' index, not as `MAX(position)`:
    /// PostgreSQL's planner does not take `list_id IS NULL` as fixing that column, so it would
    /// aggregate every sibling instead of reading one entry of `(owner, parent_id, list_id,
    /// position)`.
    fn statement_built(&self, backend: DbBackend) -> sea_orm::Statement {
        let siblings = sea_orm::Condition::all()
            .add(task::Column::Owner.eq(self.owner.as_str()))
            .add(in_list(self.list))
            .add(match self.parent {
                Some(parent) => task::Column::ParentId.eq(*parent.as_uuid()),
                None => task::Column::ParentId.is_null(),
            })
            .add(task::Column::Id.ne(*self.placed.as_uuid()));
        let filter = match self.which {
            Which::First => siblings,
            Which::Of(sibling) => siblings.add(task::Column::Id.eq(*sibling.as_uuid())),
            Which::After(position) => siblings.add(task::Column::Position.gt(position.as_str())),
        };
        task::Entity::find()
            .select_only()
            .column(task::Column::Position)
            .filter(filter)
            .order_by_asc(task::Column::Owner)
            .order_by_asc(task::Column::ParentId)
            .order_by_asc(task::Column::ListId)
            .order_by_asc(task::Column::Position)
            .limit(1)
            .build(backend)
    }
}

/// What the placement rules need to know of the owner's task `id`, if it exists.
async fn parent_facts(
    db: &impl ConnectionTrait,
    owner: &UserId,
    id: TaskId,
) -> Result<Option<ParentFacts>, RepoError> {
    let row = task::Entity::find()
        .select_only()
        .columns([task::Column::ParentId, task::Column::ListId])
        .column(task::Column::SubtaskCount)
        .filter(owned(owner, id))
        .into_tuple::<(Option<uuid::Uuid>, Option<uuid::Uuid>, i32)>()
        .one(db)
        .await
        .map_err(translate)?;
    row.map(|(parent, list, subtasks)| {
        Ok(ParentFacts {
            parent: parent.map(TaskId::from),
            list: list.map(ListId::from),
            subtasks: u32::try_from(subtasks).map_err(|_| corrupt("subtask count"))?,
        })
    })
    .transpose()
}

/// Refuses a list that is not the owner's.
async fn check_list(
    db: &impl ConnectionTrait,
    owner: &UserId,
    list: Option<ListId>,
) -> Result<(), RepoError> {
    let Some(list) = list else { return Ok(()) };
    let found = list::Entity::find()
        .select_only()
        .column(list::Column::Id)
        .filter(list::Column::Owner.eq(owner.as_str()))
        .filter(list::Column::Id.eq(*list.as_uuid()))
        .into_tuple::<uuid::Uuid>()
        .one(db)
        .await
        .map_err(translate)?;
    match found {
        Some(_) => Ok(()),
        None => Err(rule("list_id", "no such list")),
    }
}

/// Sets the subtask counts of these parents from their subtasks as they are now. Exact
/// because it runs in an [`OwnerWrite`]: no other write of the owner's changes a family
/// between this statement and the commit.
async fn recount(
    db: &impl ConnectionTrait,
    owner: &UserId,
    parents: impl IntoIterator<Item = uuid::Uuid>,
) -> Result<(), RepoError> {
    let parents: Vec<uuid::Uuid> = parents.into_iter().collect();
    if parents.is_empty() {
        return Ok(());
    }
    let subtasks = |only_completed: &str| {
        Expr::cust(format!(
            "(SELECT COUNT(*) FROM tasks s \
             WHERE s.owner = tasks.owner AND s.parent_id = tasks.id{only_completed})"
        ))
    };
    changing::<task::Entity>(db.get_database_backend())
        .col_expr(task::Column::SubtaskCount, subtasks(""))
        .col_expr(
            task::Column::CompletedSubtaskCount,
            subtasks(" AND s.completed"),
        )
        .filter(task::Column::Owner.eq(owner.as_str()))
        .filter(task::Column::Id.is_in(parents))
        .exec(db)
        .await
        .map_err(translate)?;
    Ok(())
}

/// The contract's family rules after a task's completion may have changed: a subtask's
/// parent is recounted; a completed top-level task completes its pending subtasks, with its
/// own `completed_at`. Returns whether the task's own counts changed.
async fn settle_family(
    db: &impl ConnectionTrait,
    owner: &UserId,
    task: &Task,
    now: OffsetDateTime,
) -> Result<bool, RepoError> {
    if let Some(parent) = task.parent() {
        recount(db, owner, [*parent.as_uuid()]).await?;
        return Ok(false);
    }
    let subtasks = task.subtasks();
    if !task.completed() || subtasks.completed >= subtasks.total {
        return Ok(false);
    }
    let id = *task.id().as_uuid();
    set_subtasks_completion(db, owner, id, true, task.completed_at(), now).await?;
    recount(db, owner, [id]).await?;
    Ok(true)
}

/// Completes (with `completed_at`) or reopens the subtasks of `parent` that are not in that
/// state yet, each with a new version; the parent's counts are the caller's to recount.
/// Returns how many changed.
async fn set_subtasks_completion(
    db: &impl ConnectionTrait,
    owner: &UserId,
    parent: uuid::Uuid,
    completed: bool,
    completed_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<u64, RepoError> {
    let changed = changing::<task::Entity>(db.get_database_backend())
        .col_expr(task::Column::Completed, Expr::value(completed))
        .col_expr(task::Column::CompletedAt, Expr::value(completed_at))
        .col_expr(
            task::Column::Version,
            Expr::col(task::Column::Version).add(1),
        )
        .col_expr(task::Column::UpdatedAt, Expr::value(now))
        .filter(task::Column::Owner.eq(owner.as_str()))
        .filter(task::Column::ParentId.eq(parent))
        .filter(task::Column::Completed.eq(!completed))
        .exec(db)
        .await
        .map_err(translate)?;
    Ok(changed.rows_affected)
}

/// The update of a task's own row from `previous` to `task`, guarded by the version read.
fn guarded_update(
    backend: DbBackend,
    previous: &Task,
    task: &Task,
) -> sea_orm::UpdateMany<task::Entity> {
    changing::<task::Entity>(backend)
        .set(own_changes(task))
        .filter(owned(task.owner(), task.id()))
        .filter(task::Column::Version.eq(previous.version().get()))
}

/// The columns an update writes: the task's own fields. Placement changes only by a move,
/// counts only with the subtasks: neither is the update's to write (a count read with
/// `previous` may be stale already).
fn own_changes(task: &Task) -> task::ActiveModel {
    task::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        owner: sea_orm::ActiveValue::NotSet,
        created_at: sea_orm::ActiveValue::NotSet,
        list_id: sea_orm::ActiveValue::NotSet,
        parent_id: sea_orm::ActiveValue::NotSet,
        position: sea_orm::ActiveValue::NotSet,
        subtask_count: sea_orm::ActiveValue::NotSet,
        completed_subtask_count: sea_orm::ActiveValue::NotSet,
        ..to_active(task)
    }
}

/// The one-statement update of a task that touches no other row: [`guarded_update`], alone
/// in its family when its completion changes, taking the owner's lock first
/// ([`updating_built`]), written once per shape.
fn updating(backend: DbBackend, previous: &Task, task: &Task, family: bool) -> sea_orm::Statement {
    use sea_orm::{ActiveModelTrait, Iterable};
    static WRITTEN: Written<bool> = Written::new();
    WRITTEN.statement(
        backend,
        family,
        || {
            let mut changes = own_changes(task);
            let mut values: Vec<sea_orm::Value> = task::Column::iter()
                .filter_map(|column| changes.take(column).into_value())
                .collect();
            values.extend([
                (*task.id().as_uuid()).into(),
                task.owner().as_str().into(),
                previous.version().get().into(),
            ]);
            if backend == DbBackend::Postgres {
                values.push(task.owner().as_str().into());
            }
            values
        },
        || updating_built(backend, previous, task, family),
    )
}

fn updating_built(
    backend: DbBackend,
    previous: &Task,
    task: &Task,
    family: bool,
) -> sea_orm::Statement {
    let update = guarded_update(backend, previous, task);
    let update = if family {
        update.filter(alone())
    } else {
        update
    };
    owner_first(update, backend, task.owner()).build(backend)
}

/// A top-level task whose subtasks are all completed (or that has none): changing its state
/// touches no other row, so it needs no owner lock.
fn alone() -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(task::Column::ParentId.is_null())
        .add(
            Expr::col(task::Column::SubtaskCount)
                .eq(Expr::col(task::Column::CompletedSubtaskCount)),
        )
}

/// A completion change of the owner's task `id`.
struct Completing<'a> {
    owner: &'a UserId,
    id: TaskId,
    change: Completion,
    expected: Option<Version>,
    now: OffsetDateTime,
}

impl Completing<'_> {
    /// The change as one update of the task (a recurring task is the domain's to complete: no
    /// statement here matches it).
    fn update(&self, backend: DbBackend) -> sea_orm::UpdateMany<task::Entity> {
        completion_update(backend, self.change, self.now)
            .filter(owned(self.owner, self.id))
            .filter(task::Column::Recurrence.is_null())
            .apply_if(self.expected, |q, v| {
                q.filter(task::Column::Version.eq(v.get()))
            })
    }

    /// The statement of a task [`alone`], which takes the owner's lock itself and returns the
    /// task: [`Self::statement_built`], written once per backend, kind of change and
    /// `If-Match` (sea-query wrote it anew for each toggle, ~30,000 instructions).
    fn statement(&self, backend: DbBackend) -> sea_orm::Statement {
        static WRITTEN: Written<(bool, bool)> = Written::new();
        let shape = (self.change == Completion::Toggle, self.expected.is_some());
        WRITTEN.statement(
            backend,
            shape,
            || self.values(backend),
            || self.statement_built(backend),
        )
    }

    fn statement_built(&self, backend: DbBackend) -> sea_orm::Statement {
        let update = owner_first(self.update(backend).filter(alone()), backend, self.owner);
        returning_task(backend, update)
    }

    /// What [`Self::statement_built`] binds, in its order.
    fn values(&self, backend: DbBackend) -> Vec<sea_orm::Value> {
        // `unchanged` and `target` of `completion_update`: a toggle binds only `false`.
        let (unchanged, target) = match self.change {
            Completion::Toggle => (false, None),
            Completion::Set(value) => (value, Some(value)),
        };
        let now = sea_orm::Value::from(self.now);
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(16);
        values.extend(target.map(Into::into));
        values.push(unchanged.into());
        values.extend(target.map(Into::into));
        values.extend([now.clone(), None::<OffsetDateTime>.into()]);
        values.extend([unchanged.into(), 1_i32.into()]);
        values.extend([unchanged.into(), now]);
        values.extend([(*self.id.as_uuid()).into(), self.owner.as_str().into()]);
        values.extend(self.expected.map(|v| v.get().into()));
        if backend == DbBackend::Postgres {
            values.push(self.owner.as_str().into());
        }
        values
    }
}

/// A task's new place: its list, parent and position.
struct Moving<'a> {
    owner: &'a UserId,
    id: TaskId,
    list: Option<uuid::Uuid>,
    parent: Option<uuid::Uuid>,
    position: &'a Position,
    now: OffsetDateTime,
}

impl Moving<'_> {
    /// The update of the task's row, returning it ([`Self::statement_built`]), written once
    /// per backend.
    fn statement(&self, backend: DbBackend) -> sea_orm::Statement {
        static WRITTEN: Written<()> = Written::new();
        WRITTEN.statement(
            backend,
            (),
            || {
                vec![
                    self.list.into(),
                    self.parent.into(),
                    self.position.as_str().into(),
                    1_i32.into(),
                    self.now.into(),
                    (*self.id.as_uuid()).into(),
                    self.owner.as_str().into(),
                ]
            },
            || self.statement_built(backend),
        )
    }

    fn statement_built(&self, backend: DbBackend) -> sea_orm::Statement {
        let update = changing::<task::Entity>(backend)
            .col_expr(task::Column::ListId, Expr::value(self.list))
            .col_expr(task::Column::ParentId, Expr::value(self.parent))
            .col_expr(task::Column::Position, Expr::value(self.position.as_str()))
            .col_expr(
                task::Column::Version,
                Expr::col(task::Column::Version).add(1),
            )
            .col_expr(task::Column::UpdatedAt, Expr::value(self.now))
            .filter(owned(self.owner, self.id));
        returning_task(backend, update)
    }
}

/// A top-level task put first or last among the siblings it has (its list's or the inbox's),
/// moved by one statement on PostgreSQL ([`Self::statement_built`]) that reads nothing before:
/// the owner's locks and next append number (as [`OwnerWrite::begin`] takes them), then the
/// task's row, if it is top-level and, when the caller expects one, still at that version,
/// placed by that number ([`Position::appended`], [`Position::prepended`]) and numbered as the
/// owner's latest change. Such a move changes nothing else (no family, no list) and its rules
/// read nothing: one round trip for the read and the transaction's six. To the front, the
/// number's key must be below every sibling's; it is unless one is older and lower, which the
/// statement checks, race-free although its snapshot precedes the lock: a key below the
/// counter's keys is only made where a sibling is already below them, which the snapshot
/// sees. No row: the task is gone, changed, a subtask, or such a sibling is there, and the
/// service's read and `place` sort out which.
struct MovingToEnd<'a> {
    owner: &'a UserId,
    id: TaskId,
    end: End,
    expected: Option<Version>,
    now: OffsetDateTime,
}

impl MovingToEnd<'_> {
    /// The statement, written once per shape (to which end, with a version or not).
    fn statement(&self) -> sea_orm::Statement {
        static WRITTEN: Written<(End, bool)> = Written::new();
        let owner = self.owner.as_str();
        let id = *self.id.as_uuid();
        WRITTEN.statement(
            DbBackend::Postgres,
            (self.end, self.expected.is_some()),
            || {
                // The owner's number's, the task's, then the lower siblings'.
                let mut values = appending_values(self.owner, true);
                values.extend([1_i32.into(), self.now.into(), id.into(), owner.into()]);
                values.extend(self.expected.map(|version| version.get().into()));
                if self.end == End::First {
                    // Twice: for a list, and for the inbox.
                    values.extend([owner.into(), id.into(), owner.into(), id.into()]);
                }
                values
            },
            || self.statement_built(),
        )
    }

    fn statement_built(&self) -> sea_orm::Statement {
        use sea_orm::Iterable;
        use sea_orm::sea_query::Alias;
        let backend = DbBackend::Postgres;
        let position = match self.end {
            End::First => PREPENDED_POSITION,
            End::Last => APPENDED_POSITION,
        };
        let mut update = changing::<task::Entity>(backend)
            .col_expr(task::Column::Position, Expr::cust(position))
            .col_expr(
                task::Column::Version,
                Expr::col(task::Column::Version).add(1),
            )
            .col_expr(task::Column::UpdatedAt, Expr::value(self.now))
            .filter(owned(self.owner, self.id))
            .filter(task::Column::ParentId.is_null())
            .apply_if(self.expected, |update, version| {
                update.filter(task::Column::Version.eq(version.get()))
            });
        if self.end == End::First {
            // The moved task's siblings: its list's (or the inbox's) top-level tasks; one test
            // for either kind of list, so that each is a range of `(owner, parent_id,
            // list_id, position)`.
            let sibling = Alias::new("sibling");
            let of_sibling = |column| Expr::col((sibling.clone(), column));
            let list = || Expr::col((task::Entity, task::Column::ListId));
            let lower = |same_list: SimpleExpr| {
                let select = Query::select()
                    .expr(Expr::cust("1"))
                    .from_as(task::Entity, sibling.clone())
                    .and_where(of_sibling(task::Column::Owner).eq(self.owner.as_str()))
                    .and_where(of_sibling(task::Column::ParentId).is_null())
                    .and_where(same_list)
                    .and_where(of_sibling(task::Column::Id).ne(*self.id.as_uuid()))
                    .and_where(
                        of_sibling(task::Column::Position).lte(Expr::cust(PREPENDED_POSITION)),
                    )
                    .to_owned();
                Expr::exists(select).not()
            };
            let in_a_list = of_sibling(task::Column::ListId).eq(list());
            let in_the_inbox = of_sibling(task::Column::ListId)
                .is_null()
                .and(list().is_null());
            update = update.filter(lower(in_a_list)).filter(lower(in_the_inbox));
        }
        let mut update = update.into_query();
        update
            .from(Alias::new(APPENDED))
            .returning(Query::returning().columns(task::Column::iter()));
        backend.build(&update.with(appended(self.owner)))
    }
}

/// The new state of a completion change, computed in the statement from the stored one, so
/// that concurrent toggles serialise in the database and none is lost.
fn completion_update(
    backend: DbBackend,
    change: Completion,
    now: OffsetDateTime,
) -> sea_orm::UpdateMany<task::Entity> {
    use task::Column::{Completed, CompletedAt, UpdatedAt, Version as Ver};
    let (target, unchanged): (SimpleExpr, SimpleExpr) = match change {
        Completion::Toggle => (Expr::col(Completed).not(), Expr::value(false)),
        Completion::Set(value) => (Expr::value(value), Expr::col(Completed).eq(value)),
    };
    let if_changed = |then: SimpleExpr, column: task::Column| -> SimpleExpr {
        CaseStatement::new()
            .case(unchanged.clone(), Expr::col(column))
            .finally(then)
            .into()
    };
    let completed_at: SimpleExpr = CaseStatement::new()
        .case(unchanged.clone(), Expr::col(CompletedAt))
        .case(target.clone(), Expr::value(now))
        .finally(Expr::value(None::<OffsetDateTime>))
        .into();
    changing::<task::Entity>(backend)
        .col_expr(Completed, target)
        .col_expr(CompletedAt, completed_at)
        .col_expr(Ver, if_changed(Expr::col(Ver).add(1), Ver))
        .col_expr(UpdatedAt, if_changed(Expr::value(now), UpdatedAt))
}

/// The order `sort=position` draws: the inbox, then the lists in their order; in each, the
/// top-level tasks in their order, each followed by its subtasks in theirs. Every key is a
/// column or a lookup by primary key, so a page is one statement. The keys a filter makes the
/// same for every row are left out (the lists' with a list filter, the families' with a
/// parent filter): PostgreSQL would still look them up row by row, which made a page of the
/// inbox cost it a fifth more.
fn position_order(
    select: sea_orm::Select<task::Entity>,
    query: &TaskQuery,
) -> sea_orm::Select<task::Entity> {
    let lists = [
        "tasks.list_id IS NOT NULL",
        "(SELECT l.position FROM lists l WHERE l.id = tasks.list_id)",
        "tasks.list_id",
    ];
    let families = [
        "COALESCE((SELECT p.position FROM tasks p WHERE p.id = tasks.parent_id), tasks.position)",
        "COALESCE(tasks.parent_id, tasks.id)",
        "tasks.parent_id IS NOT NULL",
    ];
    let lists = if query.list.is_none() {
        &lists[..]
    } else {
        &[]
    };
    let families = if query.parent.is_none() {
        &families[..]
    } else {
        &[]
    };
    lists
        .iter()
        .chain(families)
        .chain(&["tasks.position", "tasks.id"])
        .fold(select, |select, key| {
            select.order_by(Expr::cust(*key), Order::Asc)
        })
}

/// The columns of a task row as [`task_in`] reads them, from the table aliased `alias`, for
/// statements written by hand that read a task first and more after [`TASK_COLUMNS`].
pub(crate) fn task_columns(alias: &str) -> String {
    use sea_orm::{IdenStatic, Iterable};
    task::Column::iter()
        .map(|column| format!("{alias}.{}", column.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The task at the start of a row read with [`task_columns`], if the row has one (an outer
/// join may have found none).
pub(crate) fn task_in_row(
    row: &sea_orm::QueryResult,
    owner: &UserId,
) -> Result<Option<Task>, RepoError> {
    if column::<Option<uuid::Uuid>>(row, 0)
        .map_err(translate)?
        .is_none()
    {
        return Ok(None);
    }
    task_in(row, owner).map(Some)
}

/// The owner's tasks matching `filter` in id order (a snapshot's), at most `limit`.
pub(crate) async fn tasks_by_id(
    db: &impl ConnectionTrait,
    owner: &UserId,
    filter: sea_orm::Condition,
    limit: Option<u64>,
) -> Result<Vec<Task>, RepoError> {
    let statement = task::Entity::find()
        .filter(task::Column::Owner.eq(owner.as_str()))
        .filter(filter)
        .order_by_asc(task::Column::Id)
        .apply_if(limit, QuerySelect::limit)
        .build(db.get_database_backend());
    db.query_all_raw(statement)
        .await
        .map_err(translate)?
        .iter()
        .map(|row| task_in(row, owner))
        .collect()
}

#[async_trait]
impl TaskRepository for SeaTaskRepository {
    #[tracing::instrument(skip_all, fields(user_id = %task.owner()), err(level = "debug"))]
    async fn insert(&self, task: &Task) -> Result<Task, RepoError> {
        if self.backend() == DbBackend::Postgres && task.list().is_none() && task.parent().is_none()
        {
            return self.insert_last(task).await;
        }
        let owner = task.owner();
        let write = OwnerWrite::begin(&self.db, &self.feed, owner)
            .await
            .map_err(translate)?;
        let db = write.txn();
        if let Some(parent) = task.parent() {
            parent_facts(db, owner, parent)
                .await?
                .ok_or_else(|| rule("parent_id", "no such task"))?
                .accepts(task.list(), true)
                .map_err(RepoError::Rule)?;
        } else {
            check_list(db, owner, task.list()).await?;
        }
        let task = task.clone().placed(write.last_position()?);
        db.execute_raw(inserting(db.get_database_backend(), &task))
            .await
            .map_err(translate)?;
        insert_tags(db, &task).await.map_err(translate)?;
        if let Some(parent) = task.parent() {
            recount(db, owner, [*parent.as_uuid()]).await?;
        }
        write.commit().await.map_err(translate)?;
        Ok(task)
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Task, RepoError> {
        read_task(&self.db, owner, id).await
    }

    #[tracing::instrument(skip_all, fields(user_id = %task.owner()), err(level = "debug"))]
    async fn update(&self, previous: &Task, task: &Task) -> Result<Task, RepoError> {
        let family = previous.completed() != task.completed();
        let tags_change = previous.tags() != task.tags();
        // Most updates touch one row: then the row (and its tags) are the whole write.
        let alone_update = updating(self.backend(), previous, task, family);
        let txn = if tags_change {
            Some(self.db.begin().await.map_err(translate)?)
        } else {
            None
        };
        let updated = match &txn {
            Some(txn) => txn.execute_raw(alone_update).await,
            None => self.db.execute_raw(alone_update).await,
        }
        .map_err(translate)?;
        if updated.rows_affected() == 1 {
            if let Some(txn) = txn {
                write_tags(&txn, task).await.map_err(translate)?;
                txn.commit().await.map_err(translate)?;
            }
            self.feed.changed(task.owner().as_str());
            return Ok(task.clone());
        }
        drop(txn);
        if !family {
            return Err(self.missing_or_stale(task.owner(), task.id()).await);
        }
        self.write_family(
            task.owner(),
            task.id(),
            guarded_update(self.backend(), previous, task),
            tags_change.then_some(task),
            task.updated_at(),
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Option<Version>,
    ) -> Result<(), RepoError> {
        let write = OwnerWrite::begin(&self.db, &self.feed, owner)
            .await
            .map_err(translate)?;
        // Its subtasks go with it, by the foreign key's cascade.
        let deleted = task::Entity::delete_many()
            .filter(owned(owner, id))
            .apply_if(expected, |q, v| q.filter(task::Column::Version.eq(v.get())))
            .exec_with_returning(write.txn())
            .await
            .map_err(translate)?;
        let Some(row) = deleted.into_iter().next() else {
            drop(write);
            return Err(self.missing_or_stale(owner, id).await);
        };
        recount(write.txn(), owner, row.parent_id).await?;
        write.commit().await.map_err(translate)
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        change: Completion,
        expected: Option<Version>,
        now: OffsetDateTime,
    ) -> Result<CompletionWrite, RepoError> {
        // A task alone is one statement; a subtask, or a parent with pending subtasks, is a
        // family's write.
        let alone = Completing {
            owner,
            id,
            change,
            expected,
            now,
        };
        if let Some(task) = written_task(&self.db, owner, alone.statement(self.backend())).await? {
            self.feed.changed(owner.as_str());
            return Ok(CompletionWrite::Done(task));
        }
        match self
            .write_family(owner, id, alone.update(self.backend()), None, now)
            .await
        {
            Err(RepoError::VersionMismatch) if self.repeats(owner, id).await? => {
                Ok(CompletionWrite::Recurring)
            }
            written => written.map(CompletionWrite::Done),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %task.owner()), err(level = "debug"))]
    async fn advance(&self, previous: &Task, task: &Task) -> Result<Task, RepoError> {
        let owner = task.owner();
        let write = OwnerWrite::begin(&self.db, &self.feed, owner)
            .await
            .map_err(translate)?;
        let db = write.txn();
        let updated = guarded_update(self.backend(), previous, task)
            .exec(db)
            .await
            .map_err(translate)?;
        if updated.rows_affected != 1 {
            drop(write);
            return Err(self.missing_or_stale(owner, task.id()).await);
        }
        if previous.tags() != task.tags() {
            write_tags(db, task).await.map_err(translate)?;
        }
        // A checklist starts afresh with each occurrence.
        let parent = *task.id().as_uuid();
        let reopened =
            set_subtasks_completion(db, owner, parent, false, None, task.updated_at()).await?;
        let task = if reopened > 0 {
            recount(db, owner, [parent]).await?;
            read_task(db, owner, task.id()).await?
        } else {
            task.clone()
        };
        write.commit().await.map_err(translate)?;
        Ok(task)
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn list(&self, owner: &UserId, query: &TaskQuery) -> Result<TaskPage, RepoError> {
        let backend = self.backend();
        let rows = self
            .db
            .query_all_raw(listing(backend, owner, query))
            .await
            .map_err(translate)?;
        let mut total = None;
        let mut tasks = Vec::with_capacity(rows.len());
        for row in rows {
            // Every row carries the count: read it from the first.
            if total.is_none() {
                total = Some(column::<i64>(&row, TASK_COLUMNS).map_err(translate)?);
            }
            tasks.push(task_in(&row, owner)?);
        }
        let total = match total {
            Some(total) => count(Some(total)),
            // A page past the end has no row to carry the count: ask for it.
            None if query.offset > 0 => {
                let counted = task::Entity::find()
                    .select_only()
                    .expr_as(Expr::cust("COUNT(*)"), "n")
                    .filter(listing_filter(backend, owner, query))
                    .into_tuple::<i64>()
                    .one(&self.db)
                    .await
                    .map_err(translate)?;
                count(counted)
            }
            None => 0,
        };
        Ok(TaskPage { tasks, total })
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn place(
        &self,
        owner: &UserId,
        id: TaskId,
        destination: &Destination,
        version: Version,
        now: OffsetDateTime,
    ) -> Result<Task, RepoError> {
        let write = OwnerWrite::begin(&self.db, &self.feed, owner)
            .await
            .map_err(translate)?;
        let db = write.txn();
        let current = read_task(db, owner, id).await?;
        if current.version() != version {
            return Err(RepoError::VersionMismatch);
        }
        // The rules again, now that no other write of the owner's can run.
        if let Some(parent) = destination.parent {
            let joining = current.parent() != Some(parent);
            parent_facts(db, owner, parent)
                .await?
                .ok_or_else(|| rule("parent_id", "no such task"))?
                .accepts(destination.list, joining)
                .map_err(RepoError::Rule)?;
            check_can_become_subtask(current.subtasks().total).map_err(RepoError::Rule)?;
        } else {
            check_list(db, owner, destination.list).await?;
        }
        let sibling = |which| SiblingPosition {
            owner,
            list: destination.list,
            parent: destination.parent,
            placed: id,
            which,
        };
        let (before, after) = match destination.slot {
            Slot::First => (None, sibling(Which::First).read(db).await?),
            Slot::Last => (None, None),
            Slot::After(after) => {
                let before = sibling(Which::Of(after)).read(db).await?.ok_or_else(|| {
                    rule("after", "must be a task among the destination's siblings")
                })?;
                let after = sibling(Which::After(&before)).read(db).await?;
                (Some(before), after)
            }
        };
        let position = write.position_between(before.as_ref(), after.as_ref())?;
        let list = destination.list.map(|l| *l.as_uuid());
        // What follows touches its subtasks and parents, never this row: it is final here.
        let moving = Moving {
            owner,
            id,
            list,
            parent: destination.parent.map(|p| *p.as_uuid()),
            position: &position,
            now,
        };
        let moved = written_task(db, owner, moving.statement(db.get_database_backend()))
            .await?
            .ok_or(RepoError::NotFound)?;
        if current.list() != destination.list && current.subtasks().total > 0 {
            // Its subtasks follow it: their list is part of what they are.
            changing::<task::Entity>(db.get_database_backend())
                .col_expr(task::Column::ListId, Expr::value(list))
                .col_expr(
                    task::Column::Version,
                    Expr::col(task::Column::Version).add(1),
                )
                .col_expr(task::Column::UpdatedAt, Expr::value(now))
                .filter(task::Column::Owner.eq(owner.as_str()))
                .filter(task::Column::ParentId.eq(*id.as_uuid()))
                .exec(db)
                .await
                .map_err(translate)?;
        }
        let parents = current
            .parent()
            .into_iter()
            .chain(destination.parent)
            .map(|p| *p.as_uuid());
        recount(db, owner, parents).await?;
        write.commit().await.map_err(translate)?;
        Ok(moved)
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn place_at_end(
        &self,
        owner: &UserId,
        id: TaskId,
        end: End,
        expected: Option<Version>,
        now: OffsetDateTime,
    ) -> Result<Option<Task>, RepoError> {
        // SQLite, on the same machine, moves in the transaction of `place`.
        if self.backend() != DbBackend::Postgres {
            return Ok(None);
        }
        let to_end = MovingToEnd {
            owner,
            id,
            end,
            expected,
            now,
        };
        let moved = written_task(&self.db, owner, to_end.statement()).await?;
        if moved.is_some() {
            self.feed.changed(owner.as_str());
        }
        Ok(moved)
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn stats(
        &self,
        owner: &UserId,
        list: Option<ListFilter>,
        now: OffsetDateTime,
    ) -> Result<TaskStats, RepoError> {
        let backend = self.backend();
        let sum_when = |condition: SimpleExpr| -> SimpleExpr {
            Func::sum(
                CaseStatement::new()
                    .case(condition, Expr::value(1))
                    .finally(Expr::value(0)),
            )
            .into()
        };
        let priority_is = |p| Expr::col(task::Column::Priority).eq(priority_code(p));
        let overdue = Expr::col(task::Column::Completed).eq(false).and(
            timestamp(backend, Expr::col(task::Column::DueDate))
                .lt(timestamp(backend, Expr::value(now))),
        );
        let row = task::Entity::find()
            .select_only()
            .expr_as(Expr::cust("COUNT(*)"), "total")
            .expr_as(
                sum_when(Expr::col(task::Column::Completed).eq(true)),
                "completed",
            )
            .expr_as(sum_when(overdue), "overdue")
            .expr_as(sum_when(priority_is(Priority::Low)), "low")
            .expr_as(sum_when(priority_is(Priority::Medium)), "medium")
            .expr_as(sum_when(priority_is(Priority::High)), "high")
            .filter(task::Column::Owner.eq(owner.as_str()))
            .apply_if(list, |q, list| q.filter(in_list(list.list())))
            .into_model::<StatsRow>()
            .one(&self.db)
            .await
            .map_err(translate)?
            .context("an aggregate returned no row")?;
        let total = count(Some(row.total));
        let completed = count(row.completed);
        Ok(TaskStats {
            total,
            completed,
            pending: total - completed,
            overdue: count(row.overdue),
            by_priority: PriorityCounts {
                low: count(row.low),
                medium: count(row.medium),
                high: count(row.high),
            },
        })
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn delete_completed(
        &self,
        owner: &UserId,
        list: Option<ListFilter>,
    ) -> Result<u64, RepoError> {
        let write = OwnerWrite::begin(&self.db, &self.feed, owner)
            .await
            .map_err(translate)?;
        let db = write.txn();
        let scope = || {
            let scope = sea_orm::Condition::all().add(task::Column::Owner.eq(owner.as_str()));
            match list {
                Some(list) => scope.add(in_list(list.list())),
                None => scope,
            }
        };
        let completed_parents = Query::select()
            .column(task::Column::Id)
            .from(task::Entity)
            .cond_where(
                scope()
                    .add(task::Column::ParentId.is_null())
                    .add(task::Column::Completed.eq(true)),
            )
            .to_owned();
        // Subtasks first, one by one in the statement, so that each is counted; a cascade
        // would delete them unseen.
        let subtasks = task::Entity::delete_many()
            .filter(
                scope().add(task::Column::ParentId.is_not_null()).add(
                    sea_orm::Condition::any()
                        .add(task::Column::Completed.eq(true))
                        .add(task::Column::ParentId.in_subquery(completed_parents)),
                ),
            )
            .exec_with_returning(db)
            .await
            .map_err(translate)?;
        let parents = task::Entity::delete_many()
            .filter(
                scope()
                    .add(task::Column::ParentId.is_null())
                    .add(task::Column::Completed.eq(true)),
            )
            .exec(db)
            .await
            .map_err(translate)?;
        let mut touched: Vec<uuid::Uuid> = subtasks.iter().filter_map(|t| t.parent_id).collect();
        touched.sort_unstable();
        touched.dedup();
        recount(db, owner, touched).await?;
        write.commit().await.map_err(translate)?;
        Ok(subtasks.len() as u64 + parents.rows_affected)
    }
}

impl SeaTaskRepository {
    /// A change of completion that may reach the task's family, as one write under the
    /// owner's lock: the version-guarded `update`, the task's tags when it is given, then
    /// [`settle_family`]. Returns the task as it ends (read again when its counts changed).
    async fn write_family(
        &self,
        owner: &UserId,
        id: TaskId,
        update: sea_orm::UpdateMany<task::Entity>,
        tags_of: Option<&Task>,
        now: OffsetDateTime,
    ) -> Result<Task, RepoError> {
        let write = OwnerWrite::begin(&self.db, &self.feed, owner)
            .await
            .map_err(translate)?;
        let db = write.txn();
        let Some(written) = updated_task(db, owner, update).await? else {
            drop(write);
            return Err(self.missing_or_stale(owner, id).await);
        };
        if let Some(task) = tags_of {
            write_tags(db, task).await.map_err(translate)?;
        }
        let task = if settle_family(db, owner, &written, now).await? {
            read_task(db, owner, id).await?
        } else {
            written
        };
        write.commit().await.map_err(translate)?;
        Ok(task)
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{IdenStatic, Iterable};

    use super::*;

    #[test]
    fn the_statement_of_one_task_is_the_one_seaorm_builds() {
        let owner = UserId::parse("alice").unwrap();
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for id in [TaskId::generate(), TaskId::generate()] {
                assert_eq!(
                    one_task(backend, &owner, id),
                    one_task_built(backend, &owner, id)
                );
            }
        }
    }

    #[test]
    fn a_listing_statement_is_the_one_seaorm_builds_whatever_its_shape() {
        use domain::task::{SearchText, Tag};
        fn due(raw: &str) -> DueDate {
            DueDate::parse(raw).unwrap()
        }
        fn tags(raw: &[&str]) -> Vec<Tag> {
            raw.iter().map(|t| Tag::parse(t).unwrap()).collect()
        }
        fn id(n: u128) -> uuid::Uuid {
            uuid::Uuid::from_u128(n)
        }
        // Each filter alone, then all of them, in each of their shapes (`shape`); each shape
        // twice, with other values (`other`) the second time, bound into the SQL written for
        // the first.
        let filters: [fn(&mut TaskQuery, bool, bool); 8] = [
            |_, _, _| {},
            |q, shape, _| {
                q.status = [StatusFilter::Pending, StatusFilter::Completed][usize::from(shape)];
            },
            |q, _, other| {
                q.search = SearchText::parse(["milk", "50%_off"][usize::from(other)]).unwrap();
            },
            |q, _, other| q.priority = Some([Priority::Low, Priority::High][usize::from(other)]),
            |q, shape, other| {
                q.list = Some(if shape {
                    ListFilter::List(ListId::from(id(u128::from(other))))
                } else {
                    ListFilter::Inbox
                });
            },
            |q, shape, other| {
                q.parent = Some(if shape {
                    ParentFilter::Of(TaskId::from(id(u128::from(other) + 7)))
                } else {
                    ParentFilter::TopLevel
                });
            },
            |q, shape, other| {
                let dates = ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00.5Z"];
                q.due_before = Some(due(dates[usize::from(other)]));
                q.due_after = shape.then(|| due(dates[usize::from(!other)]));
            },
            |q, shape, other| {
                q.tags = match (shape, other) {
                    (false, false) => tags(&["a", "b"]),
                    (false, true) => tags(&["Home", "home", "Work"]),
                    (true, false) => tags(&["a"]),
                    (true, true) => tags(&["ä"]),
                };
            },
        ];
        let sorts = [
            SortKey::Created,
            SortKey::Updated,
            SortKey::Title,
            SortKey::DueDate,
            SortKey::Priority,
            SortKey::Position,
        ];
        let alice = UserId::parse("alice").unwrap();
        let bob = UserId::parse("bob").unwrap();
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for sort in sorts {
                for order in [SortOrder::Asc, SortOrder::Desc] {
                    for n in 0..=filters.len() {
                        for shape in [false, true] {
                            for (owner, other) in [(&alice, false), (&bob, true)] {
                                let mut query = TaskQuery {
                                    sort,
                                    order,
                                    limit: 20 + u32::from(other),
                                    offset: u64::from(other),
                                    ..TaskQuery::default()
                                };
                                let chosen = if n == filters.len() { 1..n } else { n..n + 1 };
                                for set in &filters[chosen] {
                                    set(&mut query, shape, other);
                                }
                                assert_eq!(
                                    listing(backend, owner, &query),
                                    listing_built(backend, owner, &query),
                                    "{backend:?}, {query:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_completion_statement_is_the_one_seaorm_builds_whatever_its_shape() {
        let alice = UserId::parse("alice").unwrap();
        let bob = UserId::parse("bob").unwrap();
        let changes = [
            Completion::Toggle,
            Completion::Set(true),
            Completion::Set(false),
        ];
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for change in changes {
                for expected in [None, Version::new(3), Version::new(8)] {
                    for (days, owner) in [(0, &alice), (1, &bob)] {
                        let completing = Completing {
                            owner,
                            id: TaskId::generate(),
                            change,
                            expected,
                            now: OffsetDateTime::UNIX_EPOCH + time::Duration::days(days),
                        };
                        assert_eq!(
                            completing.statement(backend),
                            completing.statement_built(backend),
                            "{backend:?} {change:?} {expected:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_insert_of_a_task_is_the_one_seaorm_builds() {
        use domain::task::NewTask;
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for (owner, title, due) in [("alice", "Buy milk", None), ("bob", "Call", Some(7))] {
                let new = NewTask {
                    title: TaskTitle::parse(title).unwrap(),
                    description: TaskDescription::parse("two\nlines").unwrap(),
                    completed: due.is_none(),
                    priority: Priority::High,
                    tags: Tags::parse(&["home"]).unwrap(),
                    due_date: due.map(|days| {
                        DueDate::new(OffsetDateTime::UNIX_EPOCH + time::Duration::days(days))
                    }),
                    list: None,
                    parent: None,
                    recurrence: None,
                    timezone: TimeZone::UTC,
                    remind_at: None,
                };
                let owner = UserId::parse(owner).unwrap();
                let task = Task::create(TaskId::generate(), owner, new, OffsetDateTime::UNIX_EPOCH)
                    .unwrap();
                assert_eq!(inserting(backend, &task), inserting_built(backend, &task));
            }
        }
    }

    #[test]
    fn the_update_of_a_task_is_the_one_seaorm_builds_in_either_shape() {
        use domain::task::NewTask;
        let task = |owner: &str, other: bool| {
            let new = NewTask {
                description: TaskDescription::parse(["", "two\nlines"][usize::from(other)])
                    .unwrap(),
                completed: other,
                priority: [Priority::Low, Priority::High][usize::from(other)],
                tags: Tags::parse(&["home", "work"][..=usize::from(other)]).unwrap(),
                due_date: other.then(|| DueDate::new(OffsetDateTime::UNIX_EPOCH)),
                ..domain::testing::new_task(["Buy milk", "Call"][usize::from(other)])
            };
            Task::create(
                TaskId::generate(),
                UserId::parse(owner).unwrap(),
                new,
                OffsetDateTime::UNIX_EPOCH,
            )
            .unwrap()
        };
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for family in [false, true] {
                // Each shape twice, other values bound the second time into the SQL kept.
                for (owner, other) in [("alice", false), ("bob", true)] {
                    let (previous, next) = (task(owner, !other), task(owner, other));
                    assert_eq!(
                        updating(backend, &previous, &next, family),
                        updating_built(backend, &previous, &next, family)
                    );
                }
            }
        }
    }

    #[test]
    fn a_move_statement_is_the_one_seaorm_builds() {
        let alice = UserId::parse("alice").unwrap();
        let bob = UserId::parse("bob").unwrap();
        let (first, second) = (Position::appended(1), Position::appended(2));
        let (list, parent) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            // Twice, other values bound the second time into the SQL kept.
            for (owner, list, parent, position, days) in [
                (&alice, None, None, &first, 1),
                (&bob, Some(list), Some(parent), &second, 2),
            ] {
                let moving = Moving {
                    owner,
                    id: TaskId::generate(),
                    list,
                    parent,
                    position,
                    now: OffsetDateTime::UNIX_EPOCH + time::Duration::days(days),
                };
                assert_eq!(moving.statement(backend), moving.statement_built(backend));
            }
        }
    }

    #[test]
    fn a_sibling_position_statement_is_the_one_seaorm_builds_in_every_shape() {
        let alice = UserId::parse("alice").unwrap();
        let bob = UserId::parse("bob").unwrap();
        let (first, second) = (Position::appended(1), Position::appended(2));
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for (list, parent) in [(false, false), (true, false), (false, true), (true, true)] {
                // Each shape twice, other values bound the second time into the SQL kept.
                for (owner, position) in [(&alice, &first), (&bob, &second)] {
                    for which in [
                        Which::First,
                        Which::Of(TaskId::generate()),
                        Which::After(position),
                    ] {
                        let sibling = SiblingPosition {
                            owner,
                            list: list.then(ListId::generate),
                            parent: parent.then(TaskId::generate),
                            placed: TaskId::generate(),
                            which,
                        };
                        assert_eq!(sibling.statement(backend), sibling.statement_built(backend));
                    }
                }
            }
        }
    }

    #[test]
    fn the_insert_of_a_task_s_tags_is_the_one_seaorm_builds_for_any_number_of_them() {
        use domain::task::NewTask;
        let tags = ["Home", "work", "ä", "x", "y", "z", "a", "b", "c", "d"];
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            for n in 1..=Tags::MAX {
                // Each number twice, the second time other values bound into the SQL kept.
                for (owner, skip) in [("alice", 0), ("bob", Tags::MAX - n)] {
                    let new = NewTask {
                        tags: Tags::parse(&tags[skip..skip + n]).unwrap(),
                        ..domain::testing::new_task("Tagged")
                    };
                    let owner = UserId::parse(owner).unwrap();
                    let task =
                        Task::create(TaskId::generate(), owner, new, OffsetDateTime::UNIX_EPOCH)
                            .unwrap();
                    assert_eq!(
                        tags_inserting(backend, &task),
                        tags_inserting_built(backend, &task)
                    );
                }
            }
        }
    }

    #[test]
    fn the_one_statement_insert_is_the_one_seaorm_builds_for_any_number_of_tags() {
        use domain::task::NewTask;
        let tags = ["Home", "work", "ä", "x", "y", "z", "a", "b", "c", "d"];
        for n in 0..=Tags::MAX {
            // Each number twice, the second time other values bound into the SQL kept.
            for (owner, skip, description) in
                [("alice", 0, None), ("bob", Tags::MAX - n, Some("d"))]
            {
                let new = NewTask {
                    tags: Tags::parse(&tags[skip..skip + n]).unwrap(),
                    description: description.and_then(|d| TaskDescription::parse(d).unwrap()),
                    ..domain::testing::new_task("Tagged")
                };
                let owner = UserId::parse(owner).unwrap();
                let task = Task::create(TaskId::generate(), owner, new, OffsetDateTime::UNIX_EPOCH)
                    .unwrap();
                assert_eq!(appending_insert(&task), appending_insert_built(&task));
            }
        }
    }

    #[test]
    fn the_one_statement_move_to_an_end_is_the_one_seaorm_builds_in_every_shape() {
        let alice = UserId::parse("alice").unwrap();
        let bob = UserId::parse("bob").unwrap();
        for (end, versioned) in [End::First, End::Last]
            .into_iter()
            .flat_map(|end| [(end, false), (end, true)])
        {
            // Each shape twice, other values bound the second time into the SQL kept.
            for (owner, version) in [(&alice, 1), (&bob, 7)] {
                let to_end = MovingToEnd {
                    owner,
                    id: TaskId::generate(),
                    end,
                    expected: versioned.then(|| Version::new(version).unwrap()),
                    now: OffsetDateTime::UNIX_EPOCH,
                };
                assert_eq!(to_end.statement(), to_end.statement_built());
            }
        }
    }

    /// The front statement alone, on PostgreSQL (the repository falls back to the transaction
    /// whenever it writes nothing, with the same outcome): the owner's number's key when every
    /// sibling is above it; no row, and nothing written, while a sibling's older front is below.
    #[tokio::test]
    async fn the_one_statement_front_moves_only_below_every_sibling() {
        use domain::user::UserRepository;
        let Some(db) = crate::testing::TestDatabase::postgres().await else {
            return;
        };
        let tasks = SeaTaskRepository::new(db.store());
        let alice =
            domain::user::AuthenticatedUser::new(UserId::parse("alice").unwrap(), None, None);
        let owner = alice.id();
        crate::SeaUserRepository::new(db.store())
            .ensure(&alice, OffsetDateTime::UNIX_EPOCH)
            .await
            .unwrap();
        let mut added = Vec::new();
        for title in ["a", "b"] {
            let new = domain::testing::new_task(title);
            let task = Task::create(
                TaskId::generate(),
                owner.clone(),
                new,
                OffsetDateTime::UNIX_EPOCH,
            )
            .unwrap();
            added.push(tasks.insert(&task).await.unwrap());
        }
        let front = |task: &Task| MovingToEnd {
            owner,
            id: task.id(),
            end: End::First,
            expected: Some(task.version()),
            now: OffsetDateTime::UNIX_EPOCH,
        };

        let moved = written_task(db.connection(), owner, front(&added[1]).statement())
            .await
            .unwrap()
            .expect("a front below every sibling");
        // The owner's number: one for each task, then this move's.
        assert_eq!(moved.position(), &Position::prepended(3));
        assert_eq!(moved.version().get(), 2);

        db.execute("UPDATE tasks SET position = '0080' WHERE title = 'a'")
            .await;
        let refused = written_task(db.connection(), owner, front(&moved).statement())
            .await
            .unwrap();
        assert_eq!(refused, None);
        assert_eq!(tasks.get(owner, moved.id()).await.unwrap(), moved);
    }

    #[test]
    fn task_rows_are_read_in_the_order_the_entity_selects_its_columns() {
        let columns: Vec<&str> = task::Column::iter().map(|c| c.as_str()).collect();
        assert_eq!(
            columns,
            [
                "id",
                "owner",
                "title",
                "description",
                "completed",
                "completed_at",
                "priority",
                "tags",
                "due_date",
                "list_id",
                "parent_id",
                "position",
                "subtask_count",
                "completed_subtask_count",
                "version",
                "created_at",
                "updated_at",
                "recurrence",
                "timezone",
                "remind_at",
            ]
        );
        assert_eq!(TASK_COLUMNS, columns.len());
    }
}
