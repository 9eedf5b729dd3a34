//! `TaskRepository` on SeaORM.

use anyhow::{Context, anyhow};
use async_trait::async_trait;
use domain::repo::RepoError;
use domain::task::{
    Completion, DueDate, Priority, PriorityCounts, SortKey, SortOrder, StatusFilter, Tags, Task,
    TaskDescription, TaskId, TaskPage, TaskQuery, TaskRecord, TaskRepository, TaskStats, TaskTitle,
    Version,
};
use domain::user::UserId;
use sea_orm::sea_query::{
    CaseStatement, Expr, ExprTrait, Func, LikeExpr, Order, Query, SimpleExpr,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};
use time::OffsetDateTime;

use crate::entity::{task, task_tag};
use crate::error::translate;
use crate::sql::{contains_pattern, timestamp};
use crate::store::Store;

/// Tasks in the `tasks` and `task_tags` tables.
#[derive(Debug, Clone)]
pub struct SeaTaskRepository {
    db: DatabaseConnection,
}

impl SeaTaskRepository {
    /// A repository on the store's pool.
    pub fn new(store: &Store) -> Self {
        Self {
            db: store.connection().clone(),
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

/// A row back into a task; stored values were validated on the way in, so a failure here
/// means the row was edited by hand.
fn to_domain(row: task::Model) -> Result<Task, RepoError> {
    let tags: Vec<String> = serde_json::from_str(&row.tags).map_err(|_| corrupt("tags"))?;
    Ok(Task::restore(TaskRecord {
        id: TaskId::from(row.id),
        owner: UserId::parse(row.owner).map_err(|_| corrupt("owner"))?,
        title: TaskTitle::parse(&row.title).map_err(|_| corrupt("title"))?,
        description: match row.description {
            Some(text) => TaskDescription::parse(&text).map_err(|_| corrupt("description"))?,
            None => None,
        },
        completed: row.completed,
        completed_at: row.completed_at,
        priority: *Priority::ALL
            .get(usize::try_from(row.priority).map_err(|_| corrupt("priority"))?)
            .ok_or_else(|| corrupt("priority"))?,
        tags: Tags::parse(&tags).map_err(|_| corrupt("tags"))?,
        due_date: row.due_date.map(DueDate::new),
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
        version: Set(task.version().get()),
        created_at: Set(task.created_at()),
        updated_at: Set(task.updated_at()),
    }
}

/// Writes the tag rows of a task, replacing any it had.
async fn write_tags(db: &impl ConnectionTrait, task: &Task) -> Result<(), sea_orm::DbErr> {
    task_tag::Entity::delete_many()
        .filter(task_tag::Column::TaskId.eq(*task.id().as_uuid()))
        .exec(db)
        .await?;
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

#[async_trait]
impl TaskRepository for SeaTaskRepository {
    #[tracing::instrument(skip_all, fields(user_id = %task.owner()), err(level = "debug"))]
    async fn insert(&self, task: &Task) -> Result<(), RepoError> {
        let txn = self.db.begin().await.map_err(translate)?;
        task::Entity::insert(to_active(task))
            .exec_without_returning(&txn)
            .await
            .map_err(translate)?;
        write_tags(&txn, task).await.map_err(translate)?;
        txn.commit().await.map_err(translate)
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn get(&self, owner: &UserId, id: TaskId) -> Result<Task, RepoError> {
        let row = task::Entity::find()
            .filter(owned(owner, id))
            .one(&self.db)
            .await
            .map_err(translate)?
            .ok_or(RepoError::NotFound)?;
        to_domain(row)
    }

    #[tracing::instrument(skip_all, fields(user_id = %task.owner()), err(level = "debug"))]
    async fn update(&self, previous: &Task, task: &Task) -> Result<(), RepoError> {
        let mut changes = to_active(task);
        changes.id = sea_orm::ActiveValue::NotSet;
        changes.owner = sea_orm::ActiveValue::NotSet;
        changes.created_at = sea_orm::ActiveValue::NotSet;
        let update = task::Entity::update_many()
            .set(changes)
            .filter(owned(task.owner(), task.id()))
            .filter(task::Column::Version.eq(previous.version().get()));
        // Most updates keep the tags: then the row is the whole write, one statement.
        let tags_change = previous.tags() != task.tags();
        let txn = if tags_change {
            Some(self.db.begin().await.map_err(translate)?)
        } else {
            None
        };
        let updated = match &txn {
            Some(txn) => update.exec(txn).await,
            None => update.exec(&self.db).await,
        }
        .map_err(translate)?;
        if updated.rows_affected == 0 {
            drop(txn);
            return Err(self.missing_or_stale(task.owner(), task.id()).await);
        }
        match txn {
            Some(txn) => {
                write_tags(&txn, task).await.map_err(translate)?;
                txn.commit().await.map_err(translate)
            }
            None => Ok(()),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn delete(
        &self,
        owner: &UserId,
        id: TaskId,
        expected: Option<Version>,
    ) -> Result<(), RepoError> {
        let deleted = task::Entity::delete_many()
            .filter(owned(owner, id))
            .apply_if(expected, |q, v| q.filter(task::Column::Version.eq(v.get())))
            .exec(&self.db)
            .await
            .map_err(translate)?;
        if deleted.rows_affected == 0 {
            return Err(self.missing_or_stale(owner, id).await);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn set_completion(
        &self,
        owner: &UserId,
        id: TaskId,
        change: Completion,
        expected: Option<Version>,
        now: OffsetDateTime,
    ) -> Result<Task, RepoError> {
        use task::Column::{Completed, CompletedAt, UpdatedAt, Version as Ver};
        // One statement: the new state is computed from the stored one, so concurrent toggles
        // serialise in the database and none is lost.
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
        let rows = task::Entity::update_many()
            .col_expr(Completed, target.clone())
            .col_expr(CompletedAt, completed_at)
            .col_expr(Ver, if_changed(Expr::col(Ver).add(1), Ver))
            .col_expr(UpdatedAt, if_changed(Expr::value(now), UpdatedAt))
            .filter(owned(owner, id))
            .apply_if(expected, |q, v| q.filter(Ver.eq(v.get())))
            .exec_with_returning(&self.db)
            .await
            .map_err(translate)?;
        match rows.into_iter().next() {
            Some(row) => to_domain(row),
            None => Err(self.missing_or_stale(owner, id).await),
        }
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn list(&self, owner: &UserId, query: &TaskQuery) -> Result<TaskPage, RepoError> {
        let backend = self.backend();
        let order = match query.order {
            SortOrder::Asc => Order::Asc,
            SortOrder::Desc => Order::Desc,
        };
        let mut select = task::Entity::find().filter(listing_filter(backend, owner, query));
        if query.sort == SortKey::DueDate {
            // Undated tasks last, whatever the direction.
            select = select.order_by(Expr::col(task::Column::DueDate).is_null(), Order::Asc);
        }
        let statement = select
            .order_by(sort_expr(backend, query.sort), order.clone())
            .order_by(task::Column::Id, order)
            .expr_as(Expr::cust("COUNT(*) OVER ()"), "total")
            .limit(u64::from(query.limit))
            .offset(query.offset)
            .build(backend);
        let rows = self.db.query_all_raw(statement).await.map_err(translate)?;
        let mut total = None;
        let mut tasks = Vec::with_capacity(rows.len());
        for row in rows {
            total.get_or_insert(row.try_get::<i64>("", "total").map_err(translate)?);
            tasks.push(to_domain(
                task::Model::from_query_result(&row, "").map_err(translate)?,
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
    async fn stats(&self, owner: &UserId, now: OffsetDateTime) -> Result<TaskStats, RepoError> {
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
    async fn delete_completed(&self, owner: &UserId) -> Result<u64, RepoError> {
        let deleted = task::Entity::delete_many()
            .filter(task::Column::Owner.eq(owner.as_str()))
            .filter(task::Column::Completed.eq(true))
            .exec(&self.db)
            .await
            .map_err(translate)?;
        Ok(deleted.rows_affected)
    }
}
