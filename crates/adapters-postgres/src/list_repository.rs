//! `ListRepository` on SeaORM.

use anyhow::anyhow;
use async_trait::async_trait;
use domain::list::{Color, List, ListCounts, ListId, ListName, ListRecord, ListRepository};
use domain::position::{Position, Slot};
use domain::repo::RepoError;
use domain::task::Version;
use domain::user::UserId;
use domain::validation::FieldError;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use time::OffsetDateTime;

use crate::entity::list;
use crate::error::translate;
use crate::live::ChangeFeed;
use crate::store::Store;
use crate::write::{OwnerWrite, changing, owner_first};

/// Lists in the `lists` table.
#[derive(Debug, Clone)]
pub struct SeaListRepository {
    db: DatabaseConnection,
    feed: ChangeFeed,
}

impl SeaListRepository {
    /// A repository on the store's pool.
    pub fn new(store: &Store) -> Self {
        Self {
            db: store.connection().clone(),
            feed: store.feed().clone(),
        }
    }

    /// After a guarded write touched no row: was the list missing, or at another version?
    async fn missing_or_stale(&self, owner: &UserId, id: ListId) -> RepoError {
        match self.get(owner, id).await {
            Ok(_) => RepoError::VersionMismatch,
            Err(error) => error,
        }
    }
}

/// The order of lists read with their counts.
pub(crate) enum ListOrder {
    /// The owner's manual order.
    Manual,
    /// By id (a snapshot's order), at most this many when given.
    ById(Option<u64>),
}

/// The owner's lists with their counts, filtered further by `filter`.
pub(crate) async fn counted(
    db: &impl sea_orm::ConnectionTrait,
    owner: &UserId,
    filter: sea_orm::Condition,
    order: ListOrder,
) -> Result<Vec<List>, RepoError> {
    let count = |pending: &str| {
        Expr::cust(format!(
            "(SELECT COUNT(*) FROM tasks t \
             WHERE t.owner = lists.owner AND t.list_id = lists.id{pending})"
        ))
    };
    let select = list::Entity::find()
        .filter(list::Column::Owner.eq(owner.as_str()))
        .filter(filter)
        .expr_as(count(""), "task_count")
        .expr_as(count(" AND NOT t.completed"), "pending_count");
    let select = match order {
        ListOrder::Manual => select
            .order_by_asc(list::Column::Position)
            .order_by_asc(list::Column::Id),
        ListOrder::ById(limit) => select
            .order_by_asc(list::Column::Id)
            .apply_if(limit, QuerySelect::limit),
    };
    let rows = select
        .into_model::<CountedRow>()
        .all(db)
        .await
        .map_err(translate)?;
    rows.into_iter().map(to_domain).collect()
}

/// A list row with its counts.
#[derive(FromQueryResult)]
struct CountedRow {
    #[sea_orm(nested)]
    list: list::Model,
    task_count: i64,
    pending_count: i64,
}

fn corrupt(what: &str) -> RepoError {
    RepoError::Unexpected(anyhow!("stored list has an invalid {what}"))
}

/// A row back into a list; stored values were validated on the way in.
fn to_domain(row: CountedRow) -> Result<List, RepoError> {
    let CountedRow {
        list: row,
        task_count,
        pending_count,
    } = row;
    Ok(List::restore(ListRecord {
        id: ListId::from(row.id),
        owner: UserId::parse(row.owner).map_err(|_| corrupt("owner"))?,
        name: ListName::parse(&row.name).map_err(|_| corrupt("name"))?,
        color: row
            .color
            .map(|c| Color::parse(&c).map_err(|_| corrupt("color")))
            .transpose()?,
        position: Position::parse(row.position).map_err(|_| corrupt("position"))?,
        version: Version::new(row.version).ok_or_else(|| corrupt("version"))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        counts: ListCounts {
            tasks: u64::try_from(task_count).unwrap_or(0),
            pending: u64::try_from(pending_count).unwrap_or(0),
        },
    }))
}

fn to_active(list: &List) -> list::ActiveModel {
    list::ActiveModel {
        id: Set(*list.id().as_uuid()),
        owner: Set(list.owner().as_str().to_owned()),
        name: Set(list.name().as_str().to_owned()),
        name_key: Set(list.name().key()),
        color: Set(list.color().map(|c| c.as_str().to_owned())),
        position: Set(list.position().as_str().to_owned()),
        version: Set(list.version().get()),
        created_at: Set(list.created_at()),
        updated_at: Set(list.updated_at()),
    }
}

fn owned(owner: &UserId, id: ListId) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(list::Column::Owner.eq(owner.as_str()))
        .add(list::Column::Id.eq(*id.as_uuid()))
}

/// The greatest or least position among the owner's lists matching `filter`.
async fn extreme_position(
    db: &impl sea_orm::ConnectionTrait,
    owner: &UserId,
    greatest: bool,
    filter: sea_orm::Condition,
) -> Result<Option<Position>, RepoError> {
    let column = Expr::col(list::Column::Position);
    let aggregate = if greatest {
        Func::max(column)
    } else {
        Func::min(column)
    };
    list::Entity::find()
        .select_only()
        .expr_as(aggregate, "position")
        .filter(list::Column::Owner.eq(owner.as_str()))
        .filter(filter)
        .into_tuple::<Option<String>>()
        .one(db)
        .await
        .map_err(translate)?
        .flatten()
        .map(|raw| Position::parse(raw).map_err(|_| corrupt("position")))
        .transpose()
}

#[async_trait]
impl ListRepository for SeaListRepository {
    #[tracing::instrument(skip_all, fields(user_id = %list.owner()), err(level = "debug"))]
    async fn insert(&self, list: &List) -> Result<List, RepoError> {
        let owner = list.owner();
        let write = OwnerWrite::begin(&self.db, &self.feed, owner)
            .await
            .map_err(translate)?;
        let db = write.txn();
        let existing = list::Entity::find()
            .filter(list::Column::Owner.eq(owner.as_str()))
            .count(db)
            .await
            .map_err(translate)?;
        List::check_room(existing).map_err(RepoError::Rule)?;
        let list = list.clone().placed(write.last_position()?);
        list::Entity::insert(to_active(&list))
            .exec_without_returning(db)
            .await
            .map_err(translate)?;
        write.commit().await.map_err(translate)?;
        Ok(list)
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn get(&self, owner: &UserId, id: ListId) -> Result<List, RepoError> {
        counted(&self.db, owner, owned(owner, id), ListOrder::Manual)
            .await?
            .pop()
            .ok_or(RepoError::NotFound)
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn all(&self, owner: &UserId) -> Result<Vec<List>, RepoError> {
        counted(
            &self.db,
            owner,
            sea_orm::Condition::all(),
            ListOrder::Manual,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(user_id = %list.owner()), err(level = "debug"))]
    async fn update(&self, previous: &List, list: &List) -> Result<(), RepoError> {
        let mut changes = to_active(list);
        changes.id = sea_orm::ActiveValue::NotSet;
        changes.owner = sea_orm::ActiveValue::NotSet;
        changes.created_at = sea_orm::ActiveValue::NotSet;
        changes.position = sea_orm::ActiveValue::NotSet;
        let update = changing::<list::Entity>(self.db.get_database_backend())
            .set(changes)
            .filter(owned(list.owner(), list.id()))
            .filter(list::Column::Version.eq(previous.version().get()));
        let updated = owner_first(update, self.db.get_database_backend(), list.owner())
            .exec(&self.db)
            .await
            .map_err(translate)?;
        if updated.rows_affected == 0 {
            return Err(self.missing_or_stale(list.owner(), list.id()).await);
        }
        self.feed.changed(list.owner().as_str());
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn delete(
        &self,
        owner: &UserId,
        id: ListId,
        expected: Option<Version>,
    ) -> Result<(), RepoError> {
        let write = OwnerWrite::begin(&self.db, &self.feed, owner)
            .await
            .map_err(translate)?;
        // Its tasks (and their subtasks) go with it, by the foreign keys' cascades.
        let deleted = list::Entity::delete_many()
            .filter(owned(owner, id))
            .apply_if(expected, |q, v| q.filter(list::Column::Version.eq(v.get())))
            .exec(write.txn())
            .await
            .map_err(translate)?;
        if deleted.rows_affected == 0 {
            drop(write);
            return Err(self.missing_or_stale(owner, id).await);
        }
        write.commit().await.map_err(translate)
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn place(
        &self,
        owner: &UserId,
        id: ListId,
        slot: Slot<ListId>,
        expected: Option<Version>,
        now: OffsetDateTime,
    ) -> Result<List, RepoError> {
        let write = OwnerWrite::begin(&self.db, &self.feed, owner)
            .await
            .map_err(translate)?;
        let db = write.txn();
        let version = list::Entity::find()
            .select_only()
            .column(list::Column::Version)
            .filter(owned(owner, id))
            .into_tuple::<i64>()
            .one(db)
            .await
            .map_err(translate)?
            .ok_or(RepoError::NotFound)?;
        if expected.is_some_and(|v| v.get() != version) {
            return Err(RepoError::VersionMismatch);
        }
        let others = sea_orm::Condition::all().add(list::Column::Id.ne(*id.as_uuid()));
        let (before, after) = match slot {
            Slot::First => (None, extreme_position(db, owner, false, others).await?),
            Slot::Last => (None, None),
            Slot::After(sibling) => {
                let before = extreme_position(
                    db,
                    owner,
                    true,
                    others.clone().add(list::Column::Id.eq(*sibling.as_uuid())),
                )
                .await?
                .ok_or_else(|| {
                    RepoError::Rule(FieldError::new("after", "must be another of your lists"))
                })?;
                let after = extreme_position(
                    db,
                    owner,
                    false,
                    others.add(list::Column::Position.gt(before.as_str())),
                )
                .await?;
                (Some(before), after)
            }
        };
        let position = write.position_between(before.as_ref(), after.as_ref())?;
        changing::<list::Entity>(db.get_database_backend())
            .col_expr(list::Column::Position, Expr::value(position.as_str()))
            .col_expr(list::Column::Version, Expr::value(version + 1))
            .col_expr(list::Column::UpdatedAt, Expr::value(now))
            .filter(owned(owner, id))
            .exec(db)
            .await
            .map_err(translate)?;
        let list = counted(db, owner, owned(owner, id), ListOrder::Manual)
            .await?
            .pop()
            .ok_or(RepoError::NotFound)?;
        write.commit().await.map_err(translate)?;
        Ok(list)
    }
}
