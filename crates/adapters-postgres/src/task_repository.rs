//! `TaskRepository` on SeaORM.

use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use domain::list::ListId;
use domain::position::{Position, Slot};
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
use time::OffsetDateTime;

use crate::entity::{list, task, task_tag};
use crate::error::translate;
use crate::live::ChangeFeed;
use crate::sql::{contains_pattern, timestamp};
use crate::store::Store;
use crate::write::{OwnerWrite, changing, owner_first};

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
/// it; its SQL depends on the backend alone, so it is built once per backend and only the
/// values are bound per call (sea-query spent ~14,000 instructions a `get` writing the same
/// text again). A test holds the two forms together.
fn one_task(backend: DbBackend, owner: &UserId, id: TaskId) -> sea_orm::Statement {
    static POSTGRES: OnceLock<String> = OnceLock::new();
    static SQLITE: OnceLock<String> = OnceLock::new();
    let sql = if backend == DbBackend::Postgres {
        &POSTGRES
    } else {
        &SQLITE
    };
    let sql = sql.get_or_init(|| one_task_built(backend, owner, id).sql);
    sea_orm::Statement::from_sql_and_values(
        backend,
        sql.as_str(),
        [(*id.as_uuid()).into(), owner.as_str().into(), 1_u64.into()],
    )
}

/// [`one_task`] built by SeaORM, values and all.
fn one_task_built(backend: DbBackend, owner: &UserId, id: TaskId) -> sea_orm::Statement {
    task::Entity::find()
        .filter(owned(owner, id))
        .limit(1)
        .build(backend)
}

/// The owner's row of task `id` as stored now (in `db`, a transaction's view included).
async fn read_row(
    db: &impl ConnectionTrait,
    owner: &UserId,
    id: TaskId,
) -> Result<task::Model, RepoError> {
    let row = TaskRow::find_by_statement(one_task(db.get_database_backend(), owner, id))
        .one(db)
        .await
        .map_err(translate)?
        .ok_or(RepoError::NotFound)?;
    Ok(row.0)
}

/// The owner's task `id` as stored now (in `db`, a transaction's view included).
async fn read_task(
    db: &impl ConnectionTrait,
    owner: &UserId,
    id: TaskId,
) -> Result<Task, RepoError> {
    to_domain(read_row(db, owner, id).await?)
}

/// Runs `update`, a write of one task (its `WHERE` names the id), and returns the row it
/// wrote, if any, read by column position (as [`TaskRow`]) rather than by name as
/// `exec_with_returning` reads it: on a toggle the lookups by name were ~25,000 instructions.
async fn updated_row(
    db: &impl ConnectionTrait,
    update: sea_orm::UpdateMany<task::Entity>,
) -> Result<Option<task::Model>, sea_orm::DbErr> {
    use sea_orm::Iterable;
    let mut statement = update.into_query();
    statement.returning(Query::returning().columns(task::Column::iter()));
    let row = TaskRow::find_by_statement(db.get_database_backend().build(&statement))
        .one(db)
        .await?;
    Ok(row.map(|row| row.0))
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

/// A task row read by the position of each column rather than its name: a listing decodes
/// fifty rows, and looking each column up by name was a tenth of the listing's instructions.
/// Positions are the order of `task::Column`, which `Entity::find()` selects; a test holds
/// the two together.
struct TaskRow(task::Model);

/// How many columns a task row has: what a statement reads after them (a listing's
/// `COUNT(*) OVER ()`, the change log's own columns) starts here.
pub(crate) const TASK_COLUMNS: usize = 20;

/// A column of a task row. On PostgreSQL it is decoded from the driver's row directly and
/// without sqlx's check of the column's type against `T`: through SeaORM every NULL was first
/// an error whose message was formatted, then discarded, and the type check compared type
/// descriptions for every value of a listing. The types are the schema's own (the repository
/// tests read back every column of stored tasks on both backends); a NULL where `T` is not
/// an `Option` is still an error.
fn column<T>(row: &sea_orm::QueryResult, index: usize) -> Result<T, sea_orm::DbErr>
where
    T: sea_orm::TryGetable + for<'r> sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Postgres>,
{
    match row.try_as_pg_row() {
        Some(pg) => sea_orm::sqlx::Row::try_get_unchecked(pg, index)
            .map_err(|e| sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(e.into()))),
        None => row.try_get_by_index(index),
    }
}

impl FromQueryResult for TaskRow {
    fn from_query_result(row: &sea_orm::QueryResult, _: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self(task::Model {
            id: column(row, 0)?,
            owner: column(row, 1)?,
            title: column(row, 2)?,
            description: column(row, 3)?,
            completed: column(row, 4)?,
            completed_at: column(row, 5)?,
            priority: column(row, 6)?,
            tags: column(row, 7)?,
            due_date: column(row, 8)?,
            list_id: column(row, 9)?,
            parent_id: column(row, 10)?,
            position: column(row, 11)?,
            subtask_count: column(row, 12)?,
            completed_subtask_count: column(row, 13)?,
            version: column(row, 14)?,
            created_at: column(row, 15)?,
            updated_at: column(row, 16)?,
            recurrence: column(row, 17)?,
            timezone: column(row, 18)?,
            remind_at: column(row, 19)?,
        }))
    }
}

/// A row back into a task; stored values were validated on the way in, so a failure here
/// means the row was edited by hand.
fn to_domain(row: task::Model) -> Result<Task, RepoError> {
    let tags: Vec<String> = serde_json::from_str(&row.tags).map_err(|_| corrupt("tags"))?;
    Ok(Task::restore(TaskRecord {
        id: TaskId::from(row.id),
        owner: UserId::parse(row.owner).map_err(|_| corrupt("owner"))?,
        title: TaskTitle::parse(row.title).map_err(|_| corrupt("title"))?,
        description: match row.description {
            Some(text) => TaskDescription::parse(text).map_err(|_| corrupt("description"))?,
            None => None,
        },
        completed: row.completed,
        completed_at: row.completed_at,
        priority: *Priority::ALL
            .get(usize::try_from(row.priority).map_err(|_| corrupt("priority"))?)
            .ok_or_else(|| corrupt("priority"))?,
        tags: Tags::parse(&tags).map_err(|_| corrupt("tags"))?,
        due_date: row.due_date.map(DueDate::new),
        list: row.list_id.map(ListId::from),
        parent: row.parent_id.map(TaskId::from),
        position: Position::parse(row.position).map_err(|_| corrupt("position"))?,
        subtasks: SubtaskCounts {
            total: u32::try_from(row.subtask_count).map_err(|_| corrupt("subtask count"))?,
            completed: u32::try_from(row.completed_subtask_count)
                .map_err(|_| corrupt("subtask count"))?,
        },
        recurrence: row
            .recurrence
            .map(|rule| Recurrence::parse(&rule).map_err(|_| corrupt("recurrence")))
            .transpose()?,
        timezone: TimeZone::parse(&row.timezone).map_err(|_| corrupt("timezone"))?,
        remind_at: row.remind_at.map(RemindAt::new),
        version: Version::new(row.version).ok_or_else(|| corrupt("version"))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
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

fn tag_rows(task: &Task) -> Vec<task_tag::ActiveModel> {
    task.tags()
        .as_slice()
        .iter()
        .map(|tag| task_tag::ActiveModel {
            task_id: Set(*task.id().as_uuid()),
            tag_key: Set(tag.key()),
            owner: Set(task.owner().as_str().to_owned()),
        })
        .collect()
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
    let rows = tag_rows(task);
    if !rows.is_empty() {
        task_tag::Entity::insert_many(rows).exec(db).await?;
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
    if !query.tags.is_empty() {
        let mut keys: Vec<String> = query.tags.iter().map(domain::task::Tag::key).collect();
        keys.sort_unstable();
        keys.dedup();
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

/// One owner's siblings: the tasks of one list (or the inbox) under one parent (or top-level).
fn siblings(owner: &UserId, list: Option<ListId>, parent: Option<TaskId>) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(task::Column::Owner.eq(owner.as_str()))
        .add(in_list(list))
        .add(match parent {
            Some(parent) => task::Column::ParentId.eq(*parent.as_uuid()),
            None => task::Column::ParentId.is_null(),
        })
}

/// The greatest or least position among the tasks matching `filter`, if any.
///
/// Read as the first row in the order of the siblings' index, not as `MAX(position)`:
/// PostgreSQL's planner does not take `list_id IS NULL` as fixing that column, so it would
/// aggregate every sibling instead of reading one entry of `(owner, parent_id, list_id,
/// position)`.
async fn extreme_position(
    db: &impl ConnectionTrait,
    greatest: bool,
    filter: sea_orm::Condition,
) -> Result<Option<Position>, RepoError> {
    let order = if greatest { Order::Desc } else { Order::Asc };
    let found = task::Entity::find()
        .select_only()
        .column(task::Column::Position)
        .filter(filter)
        .order_by(task::Column::Owner, order.clone())
        .order_by(task::Column::ParentId, order.clone())
        .order_by(task::Column::ListId, order.clone())
        .order_by(task::Column::Position, order)
        .into_tuple::<String>()
        .one(db)
        .await
        .map_err(translate)?;
    found
        .map(|raw| Position::parse(raw).map_err(|_| corrupt("position")))
        .transpose()
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
    row: &task::Model,
    now: OffsetDateTime,
) -> Result<bool, RepoError> {
    if let Some(parent) = row.parent_id {
        recount(db, owner, [parent]).await?;
        return Ok(false);
    }
    if !row.completed || row.completed_subtask_count >= row.subtask_count {
        return Ok(false);
    }
    set_subtasks_completion(db, owner, row.id, true, row.completed_at, now).await?;
    recount(db, owner, [row.id]).await?;
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
    let mut changes = to_active(task);
    // Placement changes only by a move, counts only with the subtasks: neither is the
    // update's to write (a count read with `previous` may be stale already).
    changes.id = sea_orm::ActiveValue::NotSet;
    changes.owner = sea_orm::ActiveValue::NotSet;
    changes.created_at = sea_orm::ActiveValue::NotSet;
    changes.list_id = sea_orm::ActiveValue::NotSet;
    changes.parent_id = sea_orm::ActiveValue::NotSet;
    changes.position = sea_orm::ActiveValue::NotSet;
    changes.subtask_count = sea_orm::ActiveValue::NotSet;
    changes.completed_subtask_count = sea_orm::ActiveValue::NotSet;
    changing::<task::Entity>(backend)
        .set(changes)
        .filter(owned(task.owner(), task.id()))
        .filter(task::Column::Version.eq(previous.version().get()))
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
/// column or a lookup by primary key, so a page is one statement.
fn position_order(select: sea_orm::Select<task::Entity>) -> sea_orm::Select<task::Entity> {
    [
        "tasks.list_id IS NOT NULL",
        "(SELECT l.position FROM lists l WHERE l.id = tasks.list_id)",
        "tasks.list_id",
        "COALESCE((SELECT p.position FROM tasks p WHERE p.id = tasks.parent_id), tasks.position)",
        "COALESCE(tasks.parent_id, tasks.id)",
        "tasks.parent_id IS NOT NULL",
        "tasks.position",
        "tasks.id",
    ]
    .into_iter()
    .fold(select, |select, key| {
        select.order_by(Expr::cust(key), Order::Asc)
    })
}

/// The columns of a task row as `TaskRow` reads them, from the table aliased `alias`, for
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
pub(crate) fn task_in_row(row: &sea_orm::QueryResult) -> Result<Option<Task>, RepoError> {
    if column::<Option<uuid::Uuid>>(row, 0)
        .map_err(translate)?
        .is_none()
    {
        return Ok(None);
    }
    let row = TaskRow::from_query_result(row, "").map_err(translate)?;
    to_domain(row.0).map(Some)
}

/// The owner's tasks matching `filter` in id order (a snapshot's), at most `limit`.
pub(crate) async fn tasks_by_id(
    db: &impl ConnectionTrait,
    owner: &UserId,
    filter: sea_orm::Condition,
    limit: Option<u64>,
) -> Result<Vec<Task>, RepoError> {
    task::Entity::find()
        .filter(task::Column::Owner.eq(owner.as_str()))
        .filter(filter)
        .order_by_asc(task::Column::Id)
        .apply_if(limit, QuerySelect::limit)
        .into_model::<TaskRow>()
        .all(db)
        .await
        .map_err(translate)?
        .into_iter()
        .map(|row| to_domain(row.0))
        .collect()
}

#[async_trait]
impl TaskRepository for SeaTaskRepository {
    #[tracing::instrument(skip_all, fields(user_id = %task.owner()), err(level = "debug"))]
    async fn insert(&self, task: &Task) -> Result<Task, RepoError> {
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
        task::Entity::insert(to_active(&task))
            .exec_without_returning(db)
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
        let update = guarded_update(self.backend(), previous, task);
        let family = previous.completed() != task.completed();
        let tags_change = previous.tags() != task.tags();
        // Most updates touch one row: then the row (and its tags) are the whole write.
        let alone_update = if family {
            update.clone().filter(alone())
        } else {
            update.clone()
        };
        let alone_update = owner_first(alone_update, self.backend(), task.owner());
        let txn = if tags_change {
            Some(self.db.begin().await.map_err(translate)?)
        } else {
            None
        };
        let updated = match &txn {
            Some(txn) => alone_update.exec(txn).await,
            None => alone_update.exec(&self.db).await,
        }
        .map_err(translate)?;
        if updated.rows_affected == 1 {
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
            update,
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
        // A recurring task is the domain's to complete: no statement here matches it.
        let update = || {
            completion_update(self.backend(), change, now)
                .filter(owned(owner, id))
                .filter(task::Column::Recurrence.is_null())
                .apply_if(expected, |q, v| q.filter(task::Column::Version.eq(v.get())))
        };
        // A task alone is one statement; a subtask, or a parent with pending subtasks, is a
        // family's write.
        let written = updated_row(
            &self.db,
            owner_first(update().filter(alone()), self.backend(), owner),
        )
        .await
        .map_err(translate)?;
        if let Some(row) = written {
            self.feed.changed(owner.as_str());
            return to_domain(row).map(CompletionWrite::Done);
        }
        match self.write_family(owner, id, update(), None, now).await {
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
        let order = match query.order {
            SortOrder::Asc => Order::Asc,
            SortOrder::Desc => Order::Desc,
        };
        let mut select = task::Entity::find().filter(listing_filter(backend, owner, query));
        if query.sort == SortKey::Position {
            select = position_order(select);
        } else {
            if query.sort == SortKey::DueDate {
                // Undated tasks last, whatever the direction.
                select = select.order_by(Expr::col(task::Column::DueDate).is_null(), Order::Asc);
            }
            select = select
                .order_by(sort_expr(backend, query.sort), order.clone())
                .order_by(task::Column::Id, order);
        }
        let statement = select
            .expr_as(Expr::cust("COUNT(*) OVER ()"), "total")
            .limit(u64::from(query.limit))
            .offset(query.offset)
            .build(backend);
        let rows = self.db.query_all_raw(statement).await.map_err(translate)?;
        let mut total = None;
        let mut tasks = Vec::with_capacity(rows.len());
        for row in rows {
            // Every row carries the count: read it from the first.
            if total.is_none() {
                total = Some(column::<i64>(&row, TASK_COLUMNS).map_err(translate)?);
            }
            tasks.push(to_domain(
                TaskRow::from_query_result(&row, "").map_err(translate)?.0,
            )?);
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
        let current = read_row(db, owner, id).await?;
        if current.version != version.get() {
            return Err(RepoError::VersionMismatch);
        }
        // The rules again, now that no other write of the owner's can run.
        if let Some(parent) = destination.parent {
            let joining = current.parent_id != Some(*parent.as_uuid());
            parent_facts(db, owner, parent)
                .await?
                .ok_or_else(|| rule("parent_id", "no such task"))?
                .accepts(destination.list, joining)
                .map_err(RepoError::Rule)?;
            check_can_become_subtask(u32::try_from(current.subtask_count).unwrap_or(u32::MAX))
                .map_err(RepoError::Rule)?;
        } else {
            check_list(db, owner, destination.list).await?;
        }
        let others = siblings(owner, destination.list, destination.parent)
            .add(task::Column::Id.ne(*id.as_uuid()));
        let (before, after) = match destination.slot {
            Slot::First => (None, extreme_position(db, false, others).await?),
            Slot::Last => (None, None),
            Slot::After(sibling) => {
                let before = extreme_position(
                    db,
                    true,
                    others.clone().add(task::Column::Id.eq(*sibling.as_uuid())),
                )
                .await?
                .ok_or_else(|| rule("after", "must be a task among the destination's siblings"))?;
                let after = extreme_position(
                    db,
                    false,
                    others.add(task::Column::Position.gt(before.as_str())),
                )
                .await?;
                (Some(before), after)
            }
        };
        let position = write.position_between(before.as_ref(), after.as_ref())?;
        let list = destination.list.map(|l| *l.as_uuid());
        // What follows touches its subtasks and parents, never this row: it is final here.
        let move_it = changing::<task::Entity>(db.get_database_backend())
            .col_expr(task::Column::ListId, Expr::value(list))
            .col_expr(
                task::Column::ParentId,
                Expr::value(destination.parent.map(|p| *p.as_uuid())),
            )
            .col_expr(task::Column::Position, Expr::value(position.as_str()))
            .col_expr(
                task::Column::Version,
                Expr::col(task::Column::Version).add(1),
            )
            .col_expr(task::Column::UpdatedAt, Expr::value(now))
            .filter(owned(owner, id));
        let moved = updated_row(db, move_it)
            .await
            .map_err(translate)?
            .ok_or(RepoError::NotFound)?;
        if current.list_id != list && current.subtask_count > 0 {
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
            .parent_id
            .into_iter()
            .chain(destination.parent.map(|p| *p.as_uuid()));
        recount(db, owner, parents).await?;
        write.commit().await.map_err(translate)?;
        to_domain(moved)
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
        let Some(row) = updated_row(db, update).await.map_err(translate)? else {
            drop(write);
            return Err(self.missing_or_stale(owner, id).await);
        };
        if let Some(task) = tags_of {
            write_tags(db, task).await.map_err(translate)?;
        }
        let task = if settle_family(db, owner, &row, now).await? {
            read_task(db, owner, id).await?
        } else {
            to_domain(row)?
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
