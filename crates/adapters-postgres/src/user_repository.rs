//! `UserRepository` on SeaORM, with a per-process cache so that a user's row is written once,
//! not before every task they create.

use std::time::Duration;

use async_trait::async_trait;
use domain::repo::RepoError;
use domain::user::{AuthenticatedUser, User, UserId, UserRepository};
use moka::sync::Cache;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use time::OffsetDateTime;

use crate::entity::user;
use crate::error::translate;
use crate::store::Store;

/// Users seen recently, by their whole claims: new claims (a changed name) write again.
const CACHE_CAPACITY: u64 = 10_000;
/// A row deleted behind the server's back is recreated at most this late.
const CACHE_TTL: Duration = Duration::from_hours(1);

/// Users in the `users` table.
#[derive(Clone)]
pub struct SeaUserRepository {
    db: DatabaseConnection,
    ensured: Cache<AuthenticatedUser, ()>,
}

impl SeaUserRepository {
    /// A repository on the store's pool.
    pub fn new(store: &Store) -> Self {
        Self {
            db: store.connection().clone(),
            ensured: Cache::builder()
                .max_capacity(CACHE_CAPACITY)
                .time_to_live(CACHE_TTL)
                .build(),
        }
    }
}

#[async_trait]
impl UserRepository for SeaUserRepository {
    #[tracing::instrument(skip_all, fields(user_id = %user.id()), err(level = "debug"))]
    async fn ensure(&self, user: &AuthenticatedUser, now: OffsetDateTime) -> Result<(), RepoError> {
        if self.ensured.contains_key(user) {
            return Ok(());
        }
        let row = user::ActiveModel {
            id: Set(user.id().as_str().to_owned()),
            email: Set(user.email().map(str::to_owned)),
            name: Set(user.name().map(str::to_owned)),
            created_at: Set(now),
            updated_at: Set(now),
            append_seq: sea_orm::ActiveValue::NotSet,
            history_floor: sea_orm::ActiveValue::NotSet,
        };
        user::Entity::insert(row)
            .on_conflict(
                OnConflict::column(user::Column::Id)
                    .update_columns([
                        user::Column::Email,
                        user::Column::Name,
                        user::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(translate)?;
        self.ensured.insert(user.clone(), ());
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %id), err(level = "debug"))]
    async fn get(&self, id: &UserId) -> Result<Option<User>, RepoError> {
        let row = user::Entity::find_by_id(id.as_str())
            .one(&self.db)
            .await
            .map_err(translate)?;
        Ok(row.map(|row| User {
            id: id.clone(),
            email: row.email,
            name: row.name,
            created_at: row.created_at,
        }))
    }
}
