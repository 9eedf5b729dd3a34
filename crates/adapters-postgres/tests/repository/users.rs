//! Users: upsert from claims, and the per-process cache of users already ensured.

use adapters_postgres::SeaUserRepository;
use adapters_postgres::testing::TestDatabase;
use domain::user::{AuthenticatedUser, UserId, UserRepository};
use sea_orm::ConnectionTrait;
use time::Duration;

use crate::{NOW, user};

adapters_postgres::on_both_backends!(
    setup = crate::database;
    ensure_creates_the_user_and_updates_changed_claims,
    ensure_writes_once_per_process_for_the_same_claims,
);

async fn ensure_creates_the_user_and_updates_changed_claims(db: &TestDatabase) {
    let users = SeaUserRepository::new(db.store());
    let alice = user("alice");
    users.ensure(&alice, NOW).await.unwrap();
    let renamed = AuthenticatedUser::new(
        alice.id().clone(),
        alice.email().map(Into::into),
        Some("Alice".into()),
    );
    users
        .ensure(&renamed, NOW + Duration::hours(1))
        .await
        .unwrap();

    let stored = users.get(alice.id()).await.unwrap().unwrap();

    assert_eq!(stored.name.as_deref(), Some("Alice"));
    assert_eq!(stored.email.as_deref(), Some("alice@example.com"));
    assert_eq!(stored.created_at, NOW);
    assert_eq!(
        users.get(&UserId::parse("nobody").unwrap()).await.unwrap(),
        None
    );
}

async fn ensure_writes_once_per_process_for_the_same_claims(db: &TestDatabase) {
    let users = SeaUserRepository::new(db.store());
    let alice = user("alice");
    users.ensure(&alice, NOW).await.unwrap();
    db.connection()
        .execute_unprepared("DELETE FROM users")
        .await
        .unwrap();

    users.ensure(&alice, NOW).await.unwrap();

    assert_eq!(
        users.get(alice.id()).await.unwrap(),
        None,
        "the second ensure was served by the cache, without a write"
    );
}
