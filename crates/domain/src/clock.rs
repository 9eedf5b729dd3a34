//! The clock port: services ask it for "now" so that tests can fix time.

use time::OffsetDateTime;

/// Where services get the current time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// The current instant in UTC, truncated to whole milliseconds: the precision of the wire
    /// format, so that what is stored is exactly what clients see.
    fn now(&self) -> OffsetDateTime;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate_to_millis(OffsetDateTime::now_utc())
    }
}

/// Converts to UTC and drops sub-millisecond precision.
pub fn truncate_to_millis(at: OffsetDateTime) -> OffsetDateTime {
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc - time::Duration::nanoseconds(i64::from(utc.nanosecond() % 1_000_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn truncation_drops_microseconds_and_converts_to_utc() {
        let at = datetime!(2026-01-08 12:15:30.123_456_789 +02:00);
        assert_eq!(
            truncate_to_millis(at),
            datetime!(2026-01-08 10:15:30.123 UTC)
        );
    }

    #[test]
    fn system_clock_is_millisecond_precise() {
        assert_eq!(SystemClock.now().nanosecond() % 1_000_000, 0);
    }
}
