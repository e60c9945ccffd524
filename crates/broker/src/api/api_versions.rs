//! ApiVersions: the APIs and version ranges this broker serves.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiVersionsResponse;
use kafka_protocol::messages::api_versions_response::ApiVersion;

use super::SUPPORTED;

/// The answer to any supported ApiVersions request.
pub fn handle() -> ApiVersionsResponse {
    let api_keys = SUPPORTED
        .iter()
        .filter_map(|key| {
            let range = super::versions(*key)?;
            Some(
                ApiVersion::default()
                    .with_api_key(*key as i16)
                    .with_min_version(*range.start())
                    .with_max_version(*range.end()),
            )
        })
        .collect();
    ApiVersionsResponse::default().with_api_keys(api_keys)
}

/// The v0 answer to an ApiVersions request of a version we do not know.
pub fn unsupported_version_response() -> ApiVersionsResponse {
    handle().with_error_code(ResponseError::UnsupportedVersion.code())
}
