//! Pieces shared by the streaming decoders of server answers (Loki streams and tail frames,
//! Elasticsearch hits): they read JSON with serde seeds and give up, for the `Value` decoding
//! to take over, on any shape the `Value` decoding would read differently.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};

/// The error that makes a streaming decoder give up on an object with a key given twice (the
/// `Value` decoding keeps the last one).
pub(crate) fn duplicate<E: de::Error>(key: &str) -> E {
    E::custom(format_args!("duplicate key {key}"))
}

/// `null` (`None`, as the `Value` decoding reads a missing part) or what the seed reads.
pub(crate) struct OrNull<S>(pub S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for OrNull<S> {
    type Value = Option<S::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for OrNull<S> {
    type Value = Option<S::Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null or a value")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}
