//! DescribeCluster: this one broker, its advertised address, the cluster id and controller,
//! and (when asked) every cluster operation as allowed, there being no authorizer.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};

use super::str_bytes;
use crate::server::BrokerContext;

/// Handles a DescribeCluster request of any supported version.
pub fn handle(context: &BrokerContext, request: DescribeClusterRequest) -> DescribeClusterResponse {
    let node = BrokerId(context.config.node_id);
    let (host, port) = &context.advertised;
    let operations = if request.include_cluster_authorized_operations {
        super::authorized_operations::CLUSTER
    } else {
        super::authorized_operations::NOT_REQUESTED
    };
    DescribeClusterResponse::default()
        .with_cluster_authorized_operations(operations)
        .with_endpoint_type(request.endpoint_type)
        .with_cluster_id(str_bytes(context.config.cluster_id.clone()))
        .with_controller_id(node)
        .with_brokers(vec![
            DescribeClusterBroker::default()
                .with_broker_id(node)
                .with_host(str_bytes(host.clone()))
                .with_port(i32::from(*port)),
        ])
}
