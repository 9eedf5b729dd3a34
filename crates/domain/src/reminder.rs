//! Reminders: when a pending task's `remind_at` passes, its owner gets one `reminder` event.
//! Which reminders are due, and that each fires once however many instances look, is the
//! store's to keep: it claims them in the database.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::clock::Clock;
use crate::repo::RepoError;

/// Where reminders wait and fire.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Reminders: Send + Sync + 'static {
    /// Fires the reminders due at `now`: each of a pending task becomes a `reminder` entry in
    /// its owner's history, once, whoever else fires at the same moment; those of completed
    /// tasks are dropped unfired. Returns how many fired.
    ///
    /// # Errors
    /// `Unavailable` when the store is unreachable; what was not fired stays due.
    async fn fire_due(&self, now: OffsetDateTime) -> Result<u64, RepoError>;
}

/// The reminder use case: fire what is due now.
#[derive(Clone)]
pub struct ReminderService {
    reminders: Arc<dyn Reminders>,
    clock: Arc<dyn Clock>,
}

impl ReminderService {
    /// A service over the store's reminders.
    pub fn new(reminders: Arc<dyn Reminders>, clock: Arc<dyn Clock>) -> Self {
        Self { reminders, clock }
    }

    /// Fires every reminder due now; returns how many fired.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn fire_due(&self) -> Result<u64, RepoError> {
        self.reminders.fire_due(self.clock.now()).await
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;
    use time::macros::datetime;

    use super::*;
    use crate::clock::MockClock;

    #[tokio::test]
    async fn what_is_due_is_what_the_clock_says_now() {
        let now = datetime!(2026-11-27 09:00 UTC);
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now);
        let mut reminders = MockReminders::new();
        reminders
            .expect_fire_due()
            .with(eq(now))
            .times(1)
            .return_once(|_| Ok(2));
        let service = ReminderService::new(Arc::new(reminders), Arc::new(clock));
        assert_eq!(service.fire_due().await.unwrap(), 2);
    }
}
