//! DescribeLogDirs: the data directory, each partition's size on disk, and the disk's space.

use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse, TopicName};

use super::str_bytes;
use crate::server::BrokerContext;

/// Handles a DescribeLogDirs request of any supported version.
pub fn handle(
    context: &BrokerContext,
    request: DescribeLogDirsRequest,
    version: i16,
) -> DescribeLogDirsResponse {
    let topics = context
        .topics
        .list()
        .into_iter()
        .filter_map(|topic| {
            let wanted: Option<Vec<i32>> = match &request.topics {
                None => Some(topic.partitions.iter().map(|p| p.index).collect()),
                Some(list) => list
                    .iter()
                    .find(|t| t.topic.as_str() == topic.name)
                    .map(|t| t.partitions.clone()),
            };
            let partitions: Vec<_> = wanted?
                .into_iter()
                .filter_map(|index| topic.partition(index))
                .map(|p| {
                    DescribeLogDirsPartition::default()
                        .with_partition_index(p.index)
                        .with_partition_size(p.log.size_bytes() as i64)
                        .with_offset_lag(0)
                })
                .collect();
            Some(
                DescribeLogDirsTopic::default()
                    .with_name(TopicName(str_bytes(topic.name.clone())))
                    .with_partitions(partitions),
            )
        })
        .collect();
    let dir = std::fs::canonicalize(&context.config.data_dir)
        .unwrap_or_else(|_| context.config.data_dir.clone());
    // The disk's size and free space exist from v4; before it they stay at their default.
    let disk = (version >= 4)
        .then(|| rustix::fs::statvfs(&dir).ok())
        .flatten();
    let (total, usable) = disk.map_or((-1, -1), |stats| {
        (
            (stats.f_blocks * stats.f_frsize) as i64,
            (stats.f_bavail * stats.f_frsize) as i64,
        )
    });
    DescribeLogDirsResponse::default().with_results(vec![
        DescribeLogDirsResult::default()
            .with_log_dir(str_bytes(dir.display().to_string()))
            .with_topics(topics)
            .with_total_bytes(total)
            .with_usable_bytes(usable),
    ])
}
