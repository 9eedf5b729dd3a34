//! `IdempotencyStore` on SeaORM.
#![expect(
    clippy::disallowed_methods,
    reason = "idempotency records are not synced: their updates number nothing"
)]

use anyhow::anyhow;
use async_trait::async_trait;
use domain::idempotency::{
    ABANDONED_AFTER, Fingerprint, IdempotencyKey, IdempotencyStore, RETENTION, Reservation,
    StoredResponse,
};
use domain::repo::RepoError;
use domain::task::Version;
use domain::user::UserId;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
};
use time::OffsetDateTime;

use crate::entity::idempotency_key as record;
use crate::error::translate;
use crate::sql::timestamp;
use crate::store::Store;

/// Keys in the `idempotency_keys` table.
#[derive(Debug, Clone)]
pub struct SeaIdempotencyStore {
    db: DatabaseConnection,
}

impl SeaIdempotencyStore {
    /// A store on the store's pool.
    pub fn new(store: &Store) -> Self {
        Self {
            db: store.connection().clone(),
        }
    }
}

fn this_key(owner: &UserId, key: &IdempotencyKey) -> Condition {
    Condition::all()
        .add(record::Column::Owner.eq(owner.as_str()))
        .add(record::Column::Key.eq(key.as_str()))
}

/// What a live record means for a new request with `fingerprint`.
fn outcome(row: record::Model, fingerprint: &Fingerprint) -> Result<Reservation, RepoError> {
    if row.fingerprint != fingerprint.as_str() {
        return Ok(Reservation::Mismatch);
    }
    match (row.resource_id, row.version, row.body) {
        (Some(resource), Some(version), Some(body)) => Ok(Reservation::Replay(StoredResponse {
            resource,
            version: Version::new(version)
                .ok_or_else(|| RepoError::Unexpected(anyhow!("stored version below 1")))?,
            body,
        })),
        _ => Ok(Reservation::InFlight),
    }
}

#[async_trait]
impl IdempotencyStore for SeaIdempotencyStore {
    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn reserve(
        &self,
        owner: &UserId,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> Result<Reservation, RepoError> {
        let fresh = record::ActiveModel {
            owner: Set(owner.as_str().to_owned()),
            key: Set(key.as_str().to_owned()),
            fingerprint: Set(fingerprint.as_str().to_owned()),
            resource_id: Set(None),
            version: Set(None),
            body: Set(None),
            created_at: Set(now),
        };
        let inserted = record::Entity::insert(fresh.clone())
            .on_conflict(
                OnConflict::columns([record::Column::Owner, record::Column::Key])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await
            .map_err(translate)?;
        if inserted == 1 {
            return Ok(Reservation::Reserved);
        }
        let Some(existing) = record::Entity::find()
            .filter(this_key(owner, key))
            .one(&self.db)
            .await
            .map_err(translate)?
        else {
            // Purged between the two statements: the key is free again.
            return Box::pin(self.reserve(owner, key, fingerprint, now)).await;
        };
        let expired = existing.created_at < now - RETENTION;
        let abandoned = existing.body.is_none() && existing.created_at < now - ABANDONED_AFTER;
        if !(expired || abandoned) {
            return outcome(existing, fingerprint);
        }
        // Take the dead record over, unless a concurrent request took it first.
        let taken = record::Entity::update_many()
            .set(fresh)
            .filter(this_key(owner, key))
            .filter(record::Column::CreatedAt.eq(existing.created_at))
            .exec(&self.db)
            .await
            .map_err(translate)?;
        Ok(if taken.rows_affected == 1 {
            Reservation::Reserved
        } else {
            Reservation::InFlight
        })
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn complete(
        &self,
        owner: &UserId,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), RepoError> {
        record::Entity::update_many()
            .col_expr(record::Column::ResourceId, Expr::value(response.resource))
            .col_expr(record::Column::Version, Expr::value(response.version.get()))
            .col_expr(record::Column::Body, Expr::value(response.body.clone()))
            .filter(this_key(owner, key))
            .exec(&self.db)
            .await
            .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %owner), err(level = "debug"))]
    async fn release(&self, owner: &UserId, key: &IdempotencyKey) -> Result<(), RepoError> {
        record::Entity::delete_many()
            .filter(this_key(owner, key))
            .filter(record::Column::Body.is_null())
            .exec(&self.db)
            .await
            .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn purge(&self, before: OffsetDateTime) -> Result<u64, RepoError> {
        let backend = self.db.get_database_backend();
        let purged = record::Entity::delete_many()
            .filter(
                timestamp(backend, Expr::col(record::Column::CreatedAt))
                    .lt(timestamp(backend, Expr::value(before))),
            )
            .exec(&self.db)
            .await
            .map_err(translate)?;
        Ok(purged.rows_affected)
    }
}
