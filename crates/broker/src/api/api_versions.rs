//! ApiVersions: the APIs and version ranges this broker serves.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiVersionsResponse;
use kafka_protocol::messages::api_versions_response::ApiVersion;

use super::SUPPORTED;

/// The answer to any supported ApiVersions request.
pub fn handle() -> ApiVersionsResponse {
    let api_keys = SUPPORTED
        .iter()
        .map(|key| {
            let range = key.valid_versions();
            ApiVersion::default()
                .with_api_key(*key as i16)
                .with_min_version(range.min)
                .with_max_version(range.max)
        })
        .collect();
    ApiVersionsResponse::default().with_api_keys(api_keys)
}

/// The v0 answer to an ApiVersions request of a version we do not know.
pub fn unsupported_version_response() -> ApiVersionsResponse {
    handle().with_error_code(ResponseError::UnsupportedVersion.code())
}
