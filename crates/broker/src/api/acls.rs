//! DescribeAcls, CreateAcls and DeleteAcls: Brook has no authorizer, so — exactly as a Kafka
//! broker without `authorizer.class.name` — every ACL request is answered with
//! SECURITY_DISABLED, which admin clients and consoles take as "ACLs are not enabled" instead of
//! an error to retry.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::delete_acls_response::DeleteAclsFilterResult;
use kafka_protocol::messages::{
    ApiKey, CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
    DescribeAclsResponse, RequestHeader,
};

use super::str_bytes;
use crate::refusals::Missing;
use crate::server::BrokerContext;

fn refused(context: &BrokerContext, api: ApiKey, header: &RequestHeader) -> (i16, &'static str) {
    context.refusals.refuse(Missing::Authorizer, api, header);
    (
        ResponseError::SecurityDisabled.code(),
        Missing::Authorizer.message(),
    )
}

/// DescribeAcls: SECURITY_DISABLED.
pub fn describe(context: &BrokerContext, header: &RequestHeader) -> DescribeAclsResponse {
    let (code, message) = refused(context, ApiKey::DescribeAcls, header);
    DescribeAclsResponse::default()
        .with_error_code(code)
        .with_error_message(Some(str_bytes(message)))
}

/// CreateAcls: SECURITY_DISABLED for each creation.
pub fn create(
    context: &BrokerContext,
    header: &RequestHeader,
    request: CreateAclsRequest,
) -> CreateAclsResponse {
    let (code, message) = refused(context, ApiKey::CreateAcls, header);
    let results = request
        .creations
        .iter()
        .map(|_| {
            AclCreationResult::default()
                .with_error_code(code)
                .with_error_message(Some(str_bytes(message)))
        })
        .collect();
    CreateAclsResponse::default().with_results(results)
}

/// DeleteAcls: SECURITY_DISABLED for each filter.
pub fn delete(
    context: &BrokerContext,
    header: &RequestHeader,
    request: DeleteAclsRequest,
) -> DeleteAclsResponse {
    let (code, message) = refused(context, ApiKey::DeleteAcls, header);
    let results = request
        .filters
        .iter()
        .map(|_| {
            DeleteAclsFilterResult::default()
                .with_error_code(code)
                .with_error_message(Some(str_bytes(message)))
        })
        .collect();
    DeleteAclsResponse::default().with_filter_results(results)
}
