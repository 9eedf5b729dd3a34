//! Per-caller rate limiting: token buckets keyed by the user the authentication step found, or
//! by the client address before authentication.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpMessage;
use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};

use crate::config::RateLimitSettings;
use crate::error::ApiError;
use crate::extract::Authentication;

/// Who a request is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Caller {
    /// A verified user: every token of theirs shares one budget.
    User(String),
    /// Before authentication (no token, or a refused one): the client address.
    Address(Option<IpAddr>),
}

type Limiter =
    Governor<Caller, DefaultKeyedStateStore<Caller>, DefaultClock, StateInformationMiddleware>;

/// Per-caller token buckets.
pub struct RateLimiter {
    limiter: Limiter,
    settings: RateLimitSettings,
}

impl RateLimiter {
    /// Buckets of `burst` requests refilled at `per_second`.
    pub fn new(settings: RateLimitSettings) -> Self {
        let quota =
            Quota::per_second(NonZeroU32::new(settings.per_second).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(settings.burst).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: Governor::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
            settings,
        }
    }

    /// Counts the request against its caller: the user that [`super::authenticate`] found, or
    /// the client address when it found none. A refusal is the 429 to answer.
    pub(super) fn admit(&self, req: &ServiceRequest) -> Result<Admitted, ApiError> {
        let caller = match req.extensions().get::<Authentication>() {
            Some(Authentication(Ok(user))) => Caller::User(user.id().as_str().to_owned()),
            _ => Caller::Address(req.peer_addr().map(|a| a.ip())),
        };
        match self.limiter.check_key(&caller) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Ok(Admitted {
                    limit: self.settings.burst,
                    remaining,
                    reset: self.seconds_to_full(remaining),
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::RateLimited {
                    limit: self.settings.burst,
                    retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                })
            }
        }
    }

    /// Forgets callers whose buckets are full again, so memory follows active callers.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Seconds until `remaining` requests become `burst` again.
    fn seconds_to_full(&self, remaining: u32) -> u64 {
        u64::from(self.settings.burst - remaining.min(self.settings.burst))
            .div_ceil(u64::from(self.settings.per_second))
    }
}

/// The rate-limit headers of an admitted request.
pub(super) struct Admitted {
    limit: u32,
    remaining: u32,
    reset: u64,
}

impl Admitted {
    /// Adds the `RateLimit-*` headers to the answer.
    pub(super) fn mark(self, response: &mut ServiceResponse<BoxBody>) {
        let headers = response.headers_mut();
        for (name, value) in [
            ("ratelimit-limit", u64::from(self.limit)),
            ("ratelimit-remaining", u64::from(self.remaining)),
            ("ratelimit-reset", self.reset),
        ] {
            headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_is_the_time_to_refill_the_bucket() {
        let limiter = RateLimiter::new(RateLimitSettings {
            per_second: 10,
            burst: 100,
        });
        assert_eq!(limiter.seconds_to_full(100), 0);
        assert_eq!(limiter.seconds_to_full(0), 10);
        assert_eq!(limiter.seconds_to_full(95), 1);
    }
}
