//! Errors as Confluent's REST Proxy answers them: an HTTP status and a body
//! `{"error_code": 40401, "message": "Topic not found."}`, with its codes.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message} (error code {error_code})")]
pub struct RestError {
    /// The HTTP status.
    pub status: u16,
    /// Confluent's error code (40401, 42203, 50002, …; the status itself for plain HTTP
    /// errors).
    pub error_code: i64,
    /// What went wrong.
    pub message: String,
}

impl RestError {
    /// An error with `status`, `error_code` and `message`.
    pub fn new(status: u16, error_code: i64, message: impl Into<String>) -> Self {
        RestError {
            status,
            error_code,
            message: message.into(),
        }
    }

    /// 400: the body is not what the endpoint takes (malformed JSON, a missing field).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, 400, message)
    }

    /// 404 40401.
    pub fn topic_not_found() -> Self {
        Self::new(404, 40401, "Topic not found.")
    }

    /// 404 40402.
    pub fn partition_not_found() -> Self {
        Self::new(404, 40402, "Partition not found.")
    }

    /// 404 40403.
    pub fn instance_not_found() -> Self {
        Self::new(404, 40403, "Consumer instance not found.")
    }

    /// 406 40601.
    pub fn format_mismatch() -> Self {
        Self::new(
            406,
            40601,
            "The requested embedded data format does not match the deserializer for this \
             consumer instance",
        )
    }

    /// 409 40901.
    pub fn already_subscribed() -> Self {
        Self::new(
            409,
            40901,
            "Consumer cannot subscribe the the specified target because it has already \
             subscribed to other topics.",
        )
    }

    /// 409 40902.
    pub fn instance_exists() -> Self {
        Self::new(
            409,
            40902,
            "Consumer with specified consumer ID already exists in the specified consumer group.",
        )
    }

    /// 409 40903.
    pub fn illegal_state(message: impl std::fmt::Display) -> Self {
        Self::new(409, 40903, format!("Illegal state: {message}"))
    }

    /// 413: the body is over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            413,
            format!("The request body is over {} MiB.", limit >> 20),
        )
    }

    /// 415: a content type the endpoint does not take.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            415,
            format!("HTTP 415 Unsupported Media Type: {content_type}"),
        )
    }

    /// 422 42201.
    pub fn key_schema_missing() -> Self {
        Self::new(
            422,
            42201,
            "Request includes keys but does not include key schema",
        )
    }

    /// 422 42202.
    pub fn value_schema_missing() -> Self {
        Self::new(
            422,
            42202,
            "Request includes values but does not include value schema",
        )
    }

    /// 422 42203.
    pub fn conversion(message: impl std::fmt::Display) -> Self {
        Self::new(
            422,
            42203,
            format!("Conversion of JSON to Object failed: {message}"),
        )
    }

    /// 422 42204.
    pub fn invalid_consumer_config(message: impl std::fmt::Display) -> Self {
        Self::new(
            422,
            42204,
            format!("Invalid consumer configuration: {message}"),
        )
    }

    /// 422 42205.
    pub fn invalid_schema(message: impl std::fmt::Display) -> Self {
        Self::new(422, 42205, format!("Invalid schema: {message}"))
    }

    /// 429 42901: the bound on open consumer instances.
    pub fn too_many_instances(limit: usize) -> Self {
        Self::new(
            429,
            42901,
            format!("Too many consumer instances: at most {limit} may be open; delete some"),
        )
    }

    /// 500 50002.
    pub fn kafka(message: impl std::fmt::Display) -> Self {
        Self::new(500, 50002, format!("Kafka error: {message}"))
    }

    /// 500 50003: retriable.
    pub fn kafka_retriable(message: impl std::fmt::Display) -> Self {
        Self::new(500, 50003, format!("Retriable Kafka error: {message}"))
    }

    /// A schema registry's refusal, with its own code (409 for an incompatible schema,
    /// 422 for an invalid one, …).
    pub fn registry(e: brook_registry::client::ClientError) -> Self {
        use brook_registry::client::ClientError;
        match e {
            // The registry's own 42201 / 42202: the schema does not parse.
            ClientError::Refused { code, message } if code / 100 == 422 => {
                Self::invalid_schema(message)
            }
            ClientError::Refused { code, message } => {
                let status = u16::try_from(code / 100)
                    .ok()
                    .filter(|s| (400..600).contains(s))
                    .unwrap_or(500);
                Self::new(status, code, message)
            }
            ClientError::Invalid(m) => Self::invalid_schema(m),
            other => Self::new(500, 50001, other.to_string()),
        }
    }
}

/// The content type of every v2 answer.
pub const V2_JSON: &str = "application/vnd.kafka.v2+json";

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (
            status,
            axum::Json(serde_json::json!({
                "error_code": self.error_code,
                "message": self.message,
            })),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(V2_JSON));
        response
    }
}
