//! The parts of a token this server reads, and how each failure is reported.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::auth::AuthError;
use domain::user::{AuthenticatedUser, UserId};
use jsonwebtoken::errors::ErrorKind;
use serde::Deserialize;
use serde_json::Value;

/// The header fields needed to pick a key, read before any verification so that `none` and
/// ES512 (which jsonwebtoken cannot parse) get precise reasons.
#[derive(Deserialize)]
pub(crate) struct PeekedHeader {
    pub alg: String,
    pub kid: Option<String>,
}

pub(crate) fn peek_header(token: &str) -> Result<PeekedHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

/// The claims read after the signature and the standard checks passed. Identity claims are
/// taken as JSON values so that a number or an empty string is refused with a reason, not a
/// parse error.
#[derive(Deserialize)]
pub(crate) struct Claims {
    sub: Option<Value>,
    #[serde(rename = "userId")]
    user_id: Option<Value>,
    id: Option<Value>,
    email: Option<Value>,
    name: Option<Value>,
    exp: Option<Value>,
    iat: Option<Value>,
}

impl Claims {
    /// `sub`, else `userId`, else `id`: the first present one must be a valid user id.
    pub(crate) fn user(&self) -> Result<AuthenticatedUser, AuthError> {
        let subject = [&self.sub, &self.user_id, &self.id]
            .into_iter()
            .flatten()
            .find(|v| !v.is_null())
            .and_then(Value::as_str)
            .ok_or(AuthError::NoSubject)?;
        let id = UserId::parse(subject).map_err(|_| AuthError::NoSubject)?;
        Ok(AuthenticatedUser::new(
            id,
            profile(self.email.as_ref()),
            profile(self.name.as_ref()),
        ))
    }

    /// `iat` must not be in the future (jsonwebtoken checks `exp` and `nbf` only).
    pub(crate) fn check_issued_at(&self, now: u64, leeway: u64) -> Result<(), AuthError> {
        // Whole seconds, as jsonwebtoken requires of `exp` and `nbf`.
        match self.iat.as_ref().map(Value::as_u64) {
            None => Ok(()),
            Some(Some(iat)) if iat <= now + leeway => Ok(()),
            Some(Some(_)) => Err(AuthError::NotYetValid),
            Some(None) => Err(AuthError::Malformed),
        }
    }

    /// `exp`, already validated as a whole number of seconds.
    pub(crate) fn expires_at(&self) -> u64 {
        self.exp.as_ref().and_then(Value::as_u64).unwrap_or(0)
    }
}

/// A profile claim when it is a string; the domain decides whether it is kept.
fn profile(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_owned)
}

/// The refusal reason for a jsonwebtoken error.
pub(crate) fn reason(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => AuthError::MissingExpiry,
            "iss" => AuthError::MissingIssuer,
            "aud" => AuthError::MissingAudience,
            _ => AuthError::Malformed,
        },
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => AuthError::AlgorithmNotAllowed,
        _ => AuthError::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Claims {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn identity_falls_back_from_sub_to_user_id_to_id() {
        assert_eq!(
            claims(json!({"sub": "a", "id": "b"}))
                .user()
                .unwrap()
                .id()
                .as_str(),
            "a"
        );
        assert_eq!(
            claims(json!({"userId": "u", "id": "b"}))
                .user()
                .unwrap()
                .id()
                .as_str(),
            "u"
        );
        assert_eq!(
            claims(json!({"id": "b"})).user().unwrap().id().as_str(),
            "b"
        );
    }

    #[test]
    fn a_numeric_or_empty_subject_is_no_subject() {
        assert_eq!(claims(json!({"sub": 42})).user(), Err(AuthError::NoSubject));
        assert_eq!(claims(json!({"sub": ""})).user(), Err(AuthError::NoSubject));
        assert_eq!(claims(json!({})).user(), Err(AuthError::NoSubject));
    }

    #[test]
    fn email_and_name_are_taken_when_they_are_strings() {
        let user = claims(json!({"sub": "a", "email": "a@x.io", "name": null}))
            .user()
            .unwrap();
        assert_eq!((user.email(), user.name()), (Some("a@x.io"), None));
    }

    #[test]
    fn iat_in_the_future_beyond_leeway_is_not_yet_valid() {
        let c = claims(json!({"iat": 1_000}));
        assert_eq!(c.check_issued_at(900, 60), Err(AuthError::NotYetValid));
        assert_eq!(c.check_issued_at(950, 60), Ok(()));
    }

    #[test]
    fn a_header_that_is_not_base64_json_is_malformed() {
        assert!(peek_header("a.b.c").is_err());
        assert!(peek_header("only.two").is_err());
    }
}
