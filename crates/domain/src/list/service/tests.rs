use std::sync::Arc;

use mockall::predicate::eq;
use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::clock::MockClock;
use crate::idempotency::{KeyRefusal, Reservation};
use crate::list::ListName;
use crate::repo::RepoError;
use crate::testing::MockPorts;

const NOW: OffsetDateTime = datetime!(2026-11-26 10:00 UTC);

fn alice() -> AuthenticatedUser {
    AuthenticatedUser::new(UserId::parse("alice").unwrap(), None, None)
}

fn new_list(name: &str) -> NewList {
    NewList {
        name: ListName::parse(name).unwrap(),
        color: None,
    }
}

fn service(mut ports: MockPorts) -> ListService {
    ports.users.expect_ensure().returning(|_, _| Ok(()));
    let mut clock = MockClock::new();
    clock.expect_now().return_const(NOW);
    ports.services(Arc::new(clock)).1
}

#[tokio::test]
async fn create_provisions_the_caller_and_stores_a_list_they_own() {
    let mut ports = MockPorts::default();
    ports
        .lists
        .expect_insert()
        .withf(|list| list.owner().as_str() == "alice" && list.name().as_str() == "Work")
        .times(1)
        .returning(|list| Ok(list.clone()));

    let list = service(ports)
        .create(&alice(), new_list("Work"))
        .await
        .unwrap();

    assert_eq!(list.version(), Version::INITIAL);
}

#[tokio::test]
async fn a_name_already_taken_is_reported_as_such() {
    let mut ports = MockPorts::default();
    ports
        .lists
        .expect_insert()
        .returning(|_| Err(RepoError::Conflict));

    let result = service(ports).create(&alice(), new_list("Work")).await;

    assert!(matches!(result, Err(ListError::NameTaken)));
}

#[tokio::test]
async fn a_keyed_create_with_another_body_is_refused_before_inserting() {
    let mut ports = MockPorts::default();
    ports
        .keys
        .expect_reserve()
        .returning(|_, _, _, _| Ok(Reservation::Mismatch));
    ports.lists.expect_insert().never();

    let result = service(ports)
        .create_once(
            &alice(),
            &IdempotencyKey::parse("k").unwrap(),
            &Fingerprint::new("f"),
            new_list("Work"),
            |_| String::new(),
        )
        .await;

    assert!(matches!(result, Err(ListError::Key(KeyRefusal::Mismatch))));
}

#[tokio::test]
async fn an_update_with_a_stale_if_match_writes_nothing() {
    let mut ports = MockPorts::default();
    let stored = List::create(ListId::generate(), alice().id().clone(), new_list("A"), NOW);
    let id = stored.id();
    ports
        .lists
        .expect_get()
        .with(eq(alice().id().clone()), eq(id))
        .return_once(move |_, _| Ok(stored));
    ports.lists.expect_update().never();
    let patch = ListPatch {
        name: Some(ListName::parse("B").unwrap()),
        color: None,
    };

    let result = service(ports)
        .update(alice().id(), id, patch, Some(Version::INITIAL.next()))
        .await;

    assert!(matches!(result, Err(ListError::PreconditionFailed)));
}

#[tokio::test]
async fn moving_a_list_after_itself_is_refused_without_a_write() {
    let mut ports = MockPorts::default();
    ports.lists.expect_place().never();
    let id = ListId::generate();

    let result = service(ports)
        .place(alice().id(), id, Slot::After(id), None)
        .await;

    assert!(matches!(result, Err(ListError::Invalid(e)) if e.field() == "after"));
}

#[tokio::test]
async fn a_move_passes_the_slot_and_the_time_to_the_repository() {
    let mut ports = MockPorts::default();
    let stored = List::create(ListId::generate(), alice().id().clone(), new_list("A"), NOW);
    let (id, other) = (stored.id(), ListId::generate());
    ports
        .lists
        .expect_place()
        .with(
            eq(alice().id().clone()),
            eq(id),
            eq(Slot::After(other)),
            eq(None),
            eq(NOW),
        )
        .times(1)
        .return_once(move |_, _, _, _, _| Ok(stored));

    service(ports)
        .place(alice().id(), id, Slot::After(other), None)
        .await
        .unwrap();
}
