//! Serializers and deserializers with Kafka's byte formats: what `Serdes.String()`,
//! `Serdes.Integer()`, `Serdes.Long()`, `Serdes.Short()`, `Serdes.Double()`,
//! `Serdes.Float()`, `Serdes.Boolean()` and `Serdes.ByteArray()` write, JSON through
//! `serde`, and Avro, JSON Schema and Protobuf through a schema registry ([`registry`]). Null keys and values (absent bytes) never reach a serde: the runtime maps them to
//! `None` itself, as Kafka's serdes map null to null.
//!
//! Concurrency: serdes are immutable and `Send + Sync`; one instance serves every task.

pub mod registry;

use std::marker::PhantomData;
use std::sync::Arc;

/// A value that could not be serialized or deserialized, with the topic and the serde.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{serde} cannot {action} a record of topic '{topic}': {reason}")]
pub struct SerdeError {
    /// The topic the record is for.
    pub topic: String,
    /// Which serde (`Serdes.Integer()`, `json`, …).
    pub serde: &'static str,
    /// `serialize` or `deserialize`.
    pub action: &'static str,
    /// What was wrong.
    pub reason: String,
}

impl SerdeError {
    /// A deserialization error.
    pub fn deserialize(topic: &str, serde: &'static str, reason: impl Into<String>) -> Self {
        SerdeError {
            topic: topic.to_string(),
            serde,
            action: "deserialize",
            reason: reason.into(),
        }
    }

    /// A serialization error.
    pub fn serialize(topic: &str, serde: &'static str, reason: impl Into<String>) -> Self {
        SerdeError {
            topic: topic.to_string(),
            serde,
            action: "serialize",
            reason: reason.into(),
        }
    }
}

/// Turns `T` into record bytes and back, for records of `topic` (the topic lets schema-aware
/// serdes pick a subject, as Kafka's do).
///
/// Null keys and values: a plain serde has no value for them, so a record whose key or value
/// is null is skipped where such a serde reads it (Kafka Streams skips null keys in the same
/// places); wrap the serde in [`Serdes::optional`] to get `Option<T>` and see the nulls.
pub trait Serde<T>: Send + Sync {
    /// The bytes of `value`.
    fn serialize(&self, topic: &str, value: &T) -> Result<Vec<u8>, SerdeError>;
    /// The value in `bytes`.
    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<T, SerdeError>;

    /// The bytes of `value`, or null.
    fn serialize_nullable(&self, topic: &str, value: &T) -> Result<Option<Vec<u8>>, SerdeError> {
        self.serialize(topic, value).map(Some)
    }

    /// The value of possibly-null bytes: `Ok(None)` when this serde has no value for null.
    fn deserialize_nullable(
        &self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Option<T>, SerdeError> {
        bytes.map(|b| self.deserialize(topic, b)).transpose()
    }
}

/// `Option<T>` through a serde of `T`: null bytes are `None` (Kafka's null key or value).
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalSerde<S>(pub S);

impl<T, S: Serde<T>> Serde<Option<T>> for OptionalSerde<S> {
    fn serialize(&self, topic: &str, value: &Option<T>) -> Result<Vec<u8>, SerdeError> {
        match value {
            Some(v) => self.0.serialize(topic, v),
            None => Err(SerdeError::serialize(
                topic,
                "optional",
                "null has no bytes (it is written as a null key or value)",
            )),
        }
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<Option<T>, SerdeError> {
        self.0.deserialize(topic, bytes).map(Some)
    }

    fn serialize_nullable(
        &self,
        topic: &str,
        value: &Option<T>,
    ) -> Result<Option<Vec<u8>>, SerdeError> {
        value
            .as_ref()
            .map(|v| self.0.serialize(topic, v))
            .transpose()
    }

    fn deserialize_nullable(
        &self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Option<Option<T>>, SerdeError> {
        bytes
            .map(|b| self.0.deserialize(topic, b))
            .transpose()
            .map(Some)
    }
}

/// Kafka's built-in serdes.
pub struct Serdes;

impl Serdes {
    /// UTF-8 text (`Serdes.String()`).
    pub fn string() -> StringSerde {
        StringSerde
    }

    /// Raw bytes (`Serdes.ByteArray()`).
    pub fn bytes() -> BytesSerde {
        BytesSerde
    }

    /// 2-byte big-endian integers (`Serdes.Short()`).
    pub fn i16() -> FixedSerde<i16> {
        FixedSerde(PhantomData)
    }

    /// 4-byte big-endian integers (`Serdes.Integer()`).
    pub fn i32() -> FixedSerde<i32> {
        FixedSerde(PhantomData)
    }

    /// 8-byte big-endian integers (`Serdes.Long()`).
    pub fn i64() -> FixedSerde<i64> {
        FixedSerde(PhantomData)
    }

    /// 4-byte IEEE 754 floats (`Serdes.Float()`).
    pub fn f32() -> FixedSerde<f32> {
        FixedSerde(PhantomData)
    }

    /// 8-byte IEEE 754 doubles (`Serdes.Double()`).
    pub fn f64() -> FixedSerde<f64> {
        FixedSerde(PhantomData)
    }

    /// One byte, 1 or 0 (`Serdes.Boolean()`).
    pub fn bool() -> FixedSerde<bool> {
        FixedSerde(PhantomData)
    }

    /// JSON text of any `serde` type.
    pub fn json<T>() -> JsonSerde<T> {
        JsonSerde(PhantomData)
    }

    /// Avro through the schema registry, written with `schema` (Confluent's `KafkaAvroSerde`).
    pub fn avro<T>(
        client: &std::sync::Arc<brook_registry::client::RegistryClient>,
        schema: &str,
    ) -> registry::RegistrySerde<T> {
        registry::RegistrySerde::new(
            client.clone(),
            brook_registry::format::SchemaType::Avro,
            schema,
            None,
        )
    }

    /// JSON Schema through the schema registry (Confluent's `KafkaJsonSchemaSerde`): values are
    /// validated against `schema` before they are written.
    pub fn json_schema<T>(
        client: &std::sync::Arc<brook_registry::client::RegistryClient>,
        schema: &str,
    ) -> registry::RegistrySerde<T> {
        registry::RegistrySerde::new(
            client.clone(),
            brook_registry::format::SchemaType::Json,
            schema,
            None,
        )
    }

    /// Protobuf through the schema registry (Confluent's `KafkaProtobufSerde`), as `message`
    /// of the `.proto` `schema` (its first message when `None`).
    pub fn protobuf<T>(
        client: &std::sync::Arc<brook_registry::client::RegistryClient>,
        schema: &str,
        message: Option<&str>,
    ) -> registry::RegistrySerde<T> {
        registry::RegistrySerde::new(
            client.clone(),
            brook_registry::format::SchemaType::Protobuf,
            schema,
            message,
        )
    }

    /// `Option<T>` through `serde`: null keys or values become `None`.
    pub fn optional<S>(serde: S) -> OptionalSerde<S> {
        OptionalSerde(serde)
    }
}

/// UTF-8 text.
#[derive(Debug, Clone, Copy, Default)]
pub struct StringSerde;

impl Serde<String> for StringSerde {
    fn serialize(&self, _topic: &str, value: &String) -> Result<Vec<u8>, SerdeError> {
        Ok(value.as_bytes().to_vec())
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<String, SerdeError> {
        String::from_utf8(bytes.to_vec())
            .map_err(|e| SerdeError::deserialize(topic, "Serdes.String()", e.to_string()))
    }
}

/// Raw bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesSerde;

impl Serde<Vec<u8>> for BytesSerde {
    fn serialize(&self, _topic: &str, value: &Vec<u8>) -> Result<Vec<u8>, SerdeError> {
        Ok(value.clone())
    }

    fn deserialize(&self, _topic: &str, bytes: &[u8]) -> Result<Vec<u8>, SerdeError> {
        Ok(bytes.to_vec())
    }
}

/// A fixed-size number or boolean in Kafka's big-endian format.
#[derive(Debug)]
pub struct FixedSerde<T>(PhantomData<fn() -> T>);

impl<T> Clone for FixedSerde<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for FixedSerde<T> {}

/// A type with a fixed-size big-endian encoding and its Kafka serde's name.
pub trait Fixed: Sized {
    /// Kafka's serde for it.
    const NAME: &'static str;
    /// Bytes per value.
    const SIZE: usize;
    /// Its bytes.
    fn to_bytes(&self) -> Vec<u8>;
    /// The value of exactly [`Fixed::SIZE`] bytes.
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
}

macro_rules! fixed_number {
    ($t:ty, $name:literal) => {
        impl Fixed for $t {
            const NAME: &'static str = $name;
            const SIZE: usize = std::mem::size_of::<$t>();
            fn to_bytes(&self) -> Vec<u8> {
                self.to_be_bytes().to_vec()
            }
            fn from_bytes(bytes: &[u8]) -> Option<Self> {
                bytes.try_into().ok().map(<$t>::from_be_bytes)
            }
        }
    };
}

fixed_number!(i16, "Serdes.Short()");
fixed_number!(i32, "Serdes.Integer()");
fixed_number!(i64, "Serdes.Long()");
fixed_number!(f32, "Serdes.Float()");
fixed_number!(f64, "Serdes.Double()");

impl Fixed for bool {
    const NAME: &'static str = "Serdes.Boolean()";
    const SIZE: usize = 1;
    fn to_bytes(&self) -> Vec<u8> {
        vec![u8::from(*self)]
    }
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [1] => Some(true),
            [0] => Some(false),
            _ => None,
        }
    }
}

impl<T: Fixed> Serde<T> for FixedSerde<T> {
    fn serialize(&self, _topic: &str, value: &T) -> Result<Vec<u8>, SerdeError> {
        Ok(value.to_bytes())
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<T, SerdeError> {
        T::from_bytes(bytes).ok_or_else(|| {
            // Kafka's words: "Size of data received by IntegerDeserializer is not 4".
            let reason = if bytes.len() == T::SIZE {
                "not a valid value".to_string()
            } else {
                format!("size of data received is {}, not {}", bytes.len(), T::SIZE)
            };
            SerdeError::deserialize(topic, T::NAME, reason)
        })
    }
}

/// JSON text (UTF-8) of a `serde` type.
#[derive(Debug)]
pub struct JsonSerde<T>(PhantomData<fn() -> T>);

impl<T> Clone for JsonSerde<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for JsonSerde<T> {}

impl<T: serde::Serialize + serde::de::DeserializeOwned> Serde<T> for JsonSerde<T> {
    fn serialize(&self, topic: &str, value: &T) -> Result<Vec<u8>, SerdeError> {
        serde_json::to_vec(value).map_err(|e| SerdeError::serialize(topic, "json", e.to_string()))
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<T, SerdeError> {
        serde_json::from_slice(bytes)
            .map_err(|e| SerdeError::deserialize(topic, "json", e.to_string()))
    }
}

/// A serde shared behind an `Arc`, usable where a serde is owned (a windowed-key serde wraps
/// the key serde an aggregation was given).
pub struct SharedSerde<T>(pub Arc<dyn Serde<T>>);

impl<T> Serde<T> for SharedSerde<T> {
    fn serialize(&self, topic: &str, value: &T) -> Result<Vec<u8>, SerdeError> {
        self.0.serialize(topic, value)
    }

    fn deserialize(&self, topic: &str, bytes: &[u8]) -> Result<T, SerdeError> {
        self.0.deserialize(topic, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: PartialEq + std::fmt::Debug>(serde: &impl Serde<T>, value: T, bytes: &[u8]) {
        assert_eq!(serde.serialize("t", &value).unwrap(), bytes);
        assert_eq!(serde.deserialize("t", bytes).unwrap(), value);
    }

    #[test]
    fn numbers_and_text_have_kafkas_bytes() {
        round_trip(&Serdes::string(), "132".to_string(), b"132");
        round_trip(&Serdes::bytes(), vec![0, 255], &[0, 255]);
        round_trip(&Serdes::i16(), -2, &[0xff, 0xfe]);
        round_trip(&Serdes::i32(), 0x0102_0304, &[1, 2, 3, 4]);
        round_trip(&Serdes::i64(), 1, &[0, 0, 0, 0, 0, 0, 0, 1]);
        round_trip(&Serdes::f64(), 1.5, &[0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
        round_trip(&Serdes::f32(), -2.0, &[0xc0, 0, 0, 0]);
        round_trip(&Serdes::bool(), true, &[1]);
        round_trip(&Serdes::bool(), false, &[0]);
    }

    #[test]
    fn bad_bytes_are_errors_that_name_topic_and_serde() {
        let error = Serdes::i32().deserialize("counts", &[1, 2, 3]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Serdes.Integer() cannot deserialize a record of topic 'counts': size of data \
             received is 3, not 4"
        );
        assert!(Serdes::bool().deserialize("t", &[2]).is_err());
        assert!(Serdes::string().deserialize("t", &[0xff]).is_err());
        let json = Serdes::json::<Vec<u32>>().deserialize("rides", b"{not json");
        assert!(json.unwrap_err().to_string().contains("'rides'"));
    }

    #[test]
    fn nulls_are_skipped_unless_optional() {
        let plain = Serdes::string();
        assert_eq!(plain.deserialize_nullable("t", None), Ok(None));
        let optional = Serdes::optional(Serdes::string());
        assert_eq!(optional.deserialize_nullable("t", None), Ok(Some(None)));
        assert_eq!(
            optional.deserialize_nullable("t", Some(b"a")),
            Ok(Some(Some("a".to_string())))
        );
        assert_eq!(optional.serialize_nullable("t", &None), Ok(None));
        assert_eq!(
            optional.serialize_nullable("t", &Some("a".to_string())),
            Ok(Some(b"a".to_vec()))
        );
    }

    #[test]
    fn json_round_trips_serde_types() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Ride {
            #[serde(rename = "PULocationID")]
            pu_location_id: u32,
            total_amount: f64,
        }
        let serde = Serdes::json::<Ride>();
        let ride = Ride {
            pu_location_id: 132,
            total_amount: 19.5,
        };
        let bytes = serde.serialize("rides", &ride).unwrap();
        assert_eq!(bytes, br#"{"PULocationID":132,"total_amount":19.5}"#);
        assert_eq!(serde.deserialize("rides", &bytes).unwrap(), ride);
    }
}
