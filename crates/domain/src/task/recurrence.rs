//! Recurring tasks: the rule (RFC 5545, by the `rrule` crate) and the time zone whose wall
//! clock it repeats. `rrule` works in chrono's types; they stay inside this module, whose
//! interface is in `time`'s like the rest of the domain.

use std::fmt;
use std::str::FromStr;

use chrono::TimeZone as _;
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};
use time::OffsetDateTime;

use super::model::DueDate;
use crate::validation::FieldError;

/// A recurrence rule: the part of an RFC 5545 `RRULE` after `RRULE:`, daily or coarser, kept
/// in its canonical form (upper case, parts in the RFC's order, defaults left out).
#[derive(Clone)]
pub struct Recurrence {
    // Boxed: the parsed rule is ten times the size of the rest of a task's fields.
    rule: Box<RRule<Unvalidated>>,
    canonical: String,
}

/// The next occurrence of a recurring task: its due date and the rule from there on (with
/// `COUNT` lowered by the occurrences passed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The new due date.
    pub due: DueDate,
    /// The rule that continues the same series from `due`.
    pub rule: Recurrence,
}

impl Recurrence {
    /// Longest rule accepted, in characters.
    pub const MAX_CHARS: usize = 500;

    /// Parses a rule. `FREQ` must be `DAILY`, `WEEKLY`, `MONTHLY` or `YEARLY`; the time of day
    /// comes from the due date, so `BYHOUR`, `BYMINUTE` and `BYSECOND` are refused; `UNTIL` must
    /// be a UTC date-time (`…Z`), as RFC 5545 requires with a zoned start.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid = |message: &str| FieldError::new("recurrence", message);
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(invalid("must be at most 500 characters"));
        }
        let raw = raw.trim();
        let rule = raw
            .strip_prefix("RRULE:")
            .unwrap_or(raw)
            .parse::<RRule<Unvalidated>>()
            .map_err(|_| {
                invalid("must be an RFC 5545 recurrence rule such as FREQ=WEEKLY;BYDAY=MO,WE")
            })?;
        if rule.get_freq() > Frequency::Daily {
            return Err(invalid(
                "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY: a task repeats at the time of its due date",
            ));
        }
        if !(rule.get_by_hour().is_empty()
            && rule.get_by_minute().is_empty()
            && rule.get_by_second().is_empty())
        {
            return Err(invalid(
                "BYHOUR, BYMINUTE and BYSECOND are not supported: a task repeats at the time of its due date",
            ));
        }
        if rule.get_interval() == 0 {
            return Err(invalid("INTERVAL must be a positive number"));
        }
        if rule
            .get_until()
            .is_some_and(|until| until.timezone() != rrule::Tz::UTC)
        {
            return Err(invalid(
                "UNTIL must be a UTC date-time such as 20261231T235959Z",
            ));
        }
        // What the RFC refuses whatever the start (BYSETPOS out of range for its FREQ...),
        // checked from a start before any UNTIL a client could give.
        let start = rrule::Tz::UTC.with_ymd_and_hms(1, 1, 1, 0, 0, 0).single();
        if let Some(start) = start
            && rule.clone().validate(start).is_err()
        {
            return Err(invalid("is not a valid RFC 5545 recurrence rule"));
        }
        Ok(Self::from_rule(rule))
    }

    fn from_rule(rule: RRule<Unvalidated>) -> Self {
        let canonical = rule.to_string();
        Self {
            rule: Box::new(rule),
            canonical,
        }
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The occurrence that follows a completion at `now` of a task due at `due`: the first of
    /// the series started at `due` (in `zone`) that is later than both `due` and `now`, or
    /// `None` when the series has no such occurrence (its `COUNT` or `UNTIL` is spent).
    pub fn next_after(
        &self,
        due: DueDate,
        zone: TimeZone,
        now: OffsetDateTime,
    ) -> Option<Occurrence> {
        let start = to_chrono(due.at(), zone)?;
        // `limit` bounds the search: a rule whose days never come (the 30th of February)
        // ends it instead of running to the year 9999.
        let series: RRuleSet = (*self.rule).clone().build(start).ok()?.limit();
        let threshold = Ord::max(due.at(), now);
        let (passed, next) = series
            .into_iter()
            .enumerate()
            .map_while(|(index, at)| Some((index, from_chrono(at)?)))
            .find(|(_, at)| *at > threshold)?;
        let rule = match self.rule.get_count() {
            Some(count) => {
                let left = count.checked_sub(u32::try_from(passed).ok()?)?;
                Self::from_rule((*self.rule).clone().count(left))
            }
            None => self.clone(),
        };
        Some(Occurrence {
            due: DueDate::new(next),
            rule,
        })
    }
}

impl fmt::Debug for Recurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Recurrence").field(&self.canonical).finish()
    }
}

impl PartialEq for Recurrence {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for Recurrence {}

/// An IANA time zone (`Europe/Berlin`), from the time-zone database `rrule` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl Default for TimeZone {
    fn default() -> Self {
        Self::UTC
    }
}

impl TimeZone {
    /// UTC, a task's zone unless it says otherwise.
    pub const UTC: Self = Self(chrono_tz::Tz::UTC);

    /// A zone by its IANA name, spelled exactly (`America/New_York`).
    pub fn parse(name: &str) -> Result<Self, FieldError> {
        // The default of nearly every stored task, read back with each of them: spare it the
        // lookup among ~600 names.
        if name == "UTC" {
            return Ok(Self::UTC);
        }
        chrono_tz::Tz::from_str(name).map(Self).map_err(|_| {
            FieldError::new(
                "timezone",
                "must be an IANA time zone such as Europe/Berlin",
            )
        })
    }

    /// Its IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

/// An instant as `rrule` takes it, in the task's zone.
fn to_chrono(at: OffsetDateTime, zone: TimeZone) -> Option<chrono::DateTime<rrule::Tz>> {
    // Whole seconds: `rrule` repeats the start's hour, minute and second, so a start with
    // milliseconds would be later than its own first occurrence.
    rrule::Tz::Tz(zone.0)
        .timestamp_opt(at.unix_timestamp(), 0)
        .single()
}

fn from_chrono(at: chrono::DateTime<rrule::Tz>) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(at.timestamp()).ok()
}

#[cfg(test)]
mod tests;
