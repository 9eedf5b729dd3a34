//! Query strings into typed parameter structs. The struct is the one home of a query's
//! parameters: the OpenAPI document reads it (`IntoParams`), and this deserialiser fills it,
//! reporting every unknown parameter and every single-valued one given twice, all at once.

use std::cell::RefCell;
use std::fmt;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use domain::validation::FieldError;
use serde::de::value::{SeqDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use crate::error::ApiError;

/// A query string, decoded into `T`, whose fields are strings (`Option<String>`) or, for a
/// parameter that may repeat, lists (`Vec<String>` with `#[serde(default)]`). Values are judged
/// by `T`'s own conversion, which can report them all at once too.
pub struct Query<T> {
    /// The parameters.
    pub params: T,
    /// The decoded pairs, in order, for links to other pages of the same query.
    pub pairs: Vec<(String, String)>,
}

impl<T: DeserializeOwned> Query<T> {
    /// Decodes `query` (the part after `?`).
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let errors = RefCell::new(Vec::new());
        let params = T::deserialize(Pairs {
            pairs: &pairs,
            errors: &errors,
        })
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("query type: {e}")))?;
        let errors = errors.into_inner();
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(Self { params, pairs })
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::parse(req.query_string()))
    }
}

/// A mistake in the parameter struct itself (a field type this deserialiser does not serve).
#[derive(Debug)]
struct ShapeError(String);

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShapeError {}

impl de::Error for ShapeError {
    fn custom<M: fmt::Display>(message: M) -> Self {
        Self(message.to_string())
    }
}

/// The whole query, as a struct.
struct Pairs<'a> {
    pairs: &'a [(String, String)],
    errors: &'a RefCell<Vec<FieldError>>,
}

impl<'de> de::Deserializer<'de> for Pairs<'_> {
    type Error = ShapeError;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ShapeError> {
        // Each known name with its values, in the order of first appearance.
        let mut known: Vec<(&str, Vec<&str>)> = Vec::new();
        for (name, value) in self.pairs {
            if !fields.contains(&name.as_str()) {
                self.errors
                    .borrow_mut()
                    .push(FieldError::new(name, "is not a known parameter"));
            } else if let Some((_, values)) = known.iter_mut().find(|(n, _)| n == name) {
                values.push(value);
            } else {
                known.push((name, vec![value]));
            }
        }
        visitor.visit_map(Fields {
            known: known.into_iter(),
            current: None,
            errors: self.errors,
        })
    }

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ShapeError> {
        Err(de::Error::custom("a query deserialises into a struct"))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The known parameters, one map entry each.
struct Fields<'a, I> {
    known: I,
    current: Option<(&'a str, Vec<&'a str>)>,
    errors: &'a RefCell<Vec<FieldError>>,
}

impl<'a, 'de, I: Iterator<Item = (&'a str, Vec<&'a str>)>> de::MapAccess<'de> for Fields<'a, I> {
    type Error = ShapeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ShapeError> {
        let Some((name, values)) = self.known.next() else {
            return Ok(None);
        };
        self.current = Some((name, values));
        seed.deserialize(StrDeserializer::<ShapeError>::new(name))
            .map(Some)
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, ShapeError> {
        let (name, values) = self
            .current
            .take()
            .ok_or_else(|| de::Error::custom("a value before its name"))?;
        seed.deserialize(Values {
            name,
            given: values,
            errors: self.errors,
        })
    }
}

/// The values of one parameter: a list when the field is one, else the first value (a repeat
/// is recorded as an error).
struct Values<'a> {
    name: &'a str,
    given: Vec<&'a str>,
    errors: &'a RefCell<Vec<FieldError>>,
}

impl<'de> de::Deserializer<'de> for Values<'_> {
    type Error = ShapeError;

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        let items = self
            .given
            .into_iter()
            .map(IntoDeserializer::into_deserializer);
        visitor.visit_seq(SeqDeserializer::new(items))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        visitor.visit_some(self)
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ShapeError> {
        if self.given.len() > 1 {
            self.errors
                .borrow_mut()
                .push(FieldError::new(self.name, "must be given at most once"));
        }
        visitor.visit_str(self.given[0])
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Params {
        one: Option<String>,
        #[serde(default)]
        many: Vec<String>,
    }

    fn fields(query: &str) -> Vec<String> {
        match Query::<Params>::parse(query) {
            Err(ApiError::Validation(errors)) => {
                errors.iter().map(|e| e.field().to_owned()).collect()
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => Vec::new(),
        }
    }

    #[test]
    fn values_are_decoded_and_repeatable_ones_kept_in_order() {
        let query = Query::<Params>::parse("many=b&one=a%20b&many=c+d").unwrap();
        assert_eq!(
            query.params,
            Params {
                one: Some("a b".into()),
                many: vec!["b".into(), "c d".into()]
            }
        );
        assert_eq!(query.pairs.len(), 3);
    }

    #[test]
    fn every_unknown_or_repeated_parameter_is_reported() {
        assert_eq!(fields("x=1&one=a&one=b&y=2"), ["x", "y", "one"]);
        assert!(fields("").is_empty());
    }
}
