//! Idempotency keys: reserve, replay, mismatch, in flight, release, expiry, purge.

use adapters_postgres::testing::TestDatabase;
use adapters_postgres::{SeaIdempotencyStore, SeaUserRepository};
use domain::idempotency::{
    Fingerprint, IdempotencyKey, IdempotencyStore, Reservation, StoredResponse,
};
use domain::task::Version;
use domain::user::UserRepository;
use time::Duration;

use crate::{NOW, user};

adapters_postgres::on_both_backends!(
    setup = crate::database;
    a_key_is_reserved_once_then_replayed_with_the_first_response,
    keys_are_scoped_per_user,
    releasing_frees_an_unfinished_key_but_not_a_completed_one,
    expired_and_abandoned_records_can_be_reserved_again,
    purge_deletes_records_older_than_the_cutoff,
);

async fn store(db: &TestDatabase) -> SeaIdempotencyStore {
    let users = SeaUserRepository::new(db.store());
    for name in ["alice", "bob"] {
        users.ensure(&user(name), NOW).await.unwrap();
    }
    SeaIdempotencyStore::new(db.store())
}

fn key() -> IdempotencyKey {
    IdempotencyKey::parse("retry-me").unwrap()
}

fn response() -> StoredResponse {
    StoredResponse {
        resource: uuid::Uuid::now_v7(),
        version: Version::INITIAL,
        body: r#"{"title":"first"}"#.into(),
    }
}

async fn a_key_is_reserved_once_then_replayed_with_the_first_response(db: &TestDatabase) {
    let keys = store(db).await;
    let alice = user("alice");
    let same = Fingerprint::new("same body");

    assert_eq!(
        keys.reserve(alice.id(), &key(), &same, NOW).await.unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        keys.reserve(alice.id(), &key(), &same, NOW).await.unwrap(),
        Reservation::InFlight
    );
    let first = response();
    keys.complete(alice.id(), &key(), &first).await.unwrap();

    assert_eq!(
        keys.reserve(alice.id(), &key(), &same, NOW).await.unwrap(),
        Reservation::Replay(first)
    );
    assert_eq!(
        keys.reserve(alice.id(), &key(), &Fingerprint::new("other body"), NOW)
            .await
            .unwrap(),
        Reservation::Mismatch
    );
}

async fn keys_are_scoped_per_user(db: &TestDatabase) {
    let keys = store(db).await;
    let fingerprint = Fingerprint::new("f");
    keys.reserve(user("alice").id(), &key(), &fingerprint, NOW)
        .await
        .unwrap();

    assert_eq!(
        keys.reserve(user("bob").id(), &key(), &fingerprint, NOW)
            .await
            .unwrap(),
        Reservation::Reserved
    );
}

async fn releasing_frees_an_unfinished_key_but_not_a_completed_one(db: &TestDatabase) {
    let keys = store(db).await;
    let (alice, fingerprint) = (user("alice"), Fingerprint::new("f"));
    keys.reserve(alice.id(), &key(), &fingerprint, NOW)
        .await
        .unwrap();
    keys.release(alice.id(), &key()).await.unwrap();
    assert_eq!(
        keys.reserve(alice.id(), &key(), &fingerprint, NOW)
            .await
            .unwrap(),
        Reservation::Reserved
    );

    keys.complete(alice.id(), &key(), &response())
        .await
        .unwrap();
    keys.release(alice.id(), &key()).await.unwrap();

    assert!(matches!(
        keys.reserve(alice.id(), &key(), &fingerprint, NOW)
            .await
            .unwrap(),
        Reservation::Replay(_)
    ));
}

async fn expired_and_abandoned_records_can_be_reserved_again(db: &TestDatabase) {
    let keys = store(db).await;
    let (alice, fingerprint) = (user("alice"), Fingerprint::new("f"));
    let completed = IdempotencyKey::parse("completed").unwrap();
    keys.reserve(
        alice.id(),
        &completed,
        &fingerprint,
        NOW - Duration::hours(25),
    )
    .await
    .unwrap();
    keys.complete(alice.id(), &completed, &response())
        .await
        .unwrap();
    let unfinished = IdempotencyKey::parse("unfinished").unwrap();
    keys.reserve(
        alice.id(),
        &unfinished,
        &fingerprint,
        NOW - Duration::minutes(3),
    )
    .await
    .unwrap();

    let other = Fingerprint::new("another body is fine once expired");
    assert_eq!(
        keys.reserve(alice.id(), &completed, &other, NOW)
            .await
            .unwrap(),
        Reservation::Reserved
    );
    assert_eq!(
        keys.reserve(alice.id(), &unfinished, &fingerprint, NOW)
            .await
            .unwrap(),
        Reservation::Reserved
    );
}

async fn purge_deletes_records_older_than_the_cutoff(db: &TestDatabase) {
    let keys = store(db).await;
    let (alice, fingerprint) = (user("alice"), Fingerprint::new("f"));
    let old = IdempotencyKey::parse("old").unwrap();
    keys.reserve(alice.id(), &old, &fingerprint, NOW - Duration::hours(30))
        .await
        .unwrap();
    keys.reserve(
        alice.id(),
        &key(),
        &fingerprint,
        NOW - Duration::milliseconds(500),
    )
    .await
    .unwrap();

    assert_eq!(keys.purge(NOW - Duration::hours(24)).await.unwrap(), 1);
    assert_eq!(
        keys.reserve(alice.id(), &key(), &fingerprint, NOW)
            .await
            .unwrap(),
        Reservation::InFlight
    );
}
