//! v3 consumer groups, their consumers, lags per partition and the lag summary, from
//! brook-client's group views (the same numbers as `brook group describe`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use brook_client::groups::{self, GroupView};
use serde_json::{Value, json};

use super::{AppState, answer, base, check_cluster, metadata};
use crate::error::RestError;
use crate::v2::Proxy;

fn group_view(p: &Proxy, group: &str) -> Result<GroupView, RestError> {
    let metadata = p.kafka.metadata(None)?;
    groups::describe(&p.kafka.consumer, &metadata, group, p.kafka.timeout())
        .map_err(|e| RestError::kafka(e.to_string()))?
        .ok_or_else(|| RestError::new(404, 404, format!("Consumer group {group} cannot be found.")))
}

fn group_url(base: &str, cid: &str, group: &str) -> String {
    format!("{base}/v3/clusters/{cid}/consumer-groups/{group}")
}

fn group_json(base: &str, cid: &str, v: &GroupView) -> Value {
    let url = group_url(base, cid, &v.group);
    json!({
        "kind": "KafkaConsumerGroup",
        "metadata": metadata(&url, &format!("crn:///kafka={cid}/consumer-group={}", v.group)),
        "cluster_id": cid,
        "consumer_group_id": v.group,
        "is_simple": v.protocol_type.is_empty(),
        "partition_assignor": v.protocol,
        "state": v.state.to_ascii_uppercase(),
        "coordinator": { "related": format!("{base}/v3/clusters/{cid}/brokers/1") },
        "consumers": { "related": format!("{url}/consumers") },
        "lag_summary": { "related": format!("{url}/lag-summary") },
    })
}

/// `GET …/consumer-groups`.
pub async fn list(
    State(p): State<AppState>,
    Path(cluster_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let all = groups::list(&p.kafka.consumer, p.kafka.timeout())
            .map_err(|e| RestError::kafka(e.to_string()))?;
        let data = all
            .iter()
            .filter_map(|g| group_view(&p, &g.group).ok())
            .map(|v| group_json(&base, &cid, &v))
            .collect();
        Ok(super::list(
            "KafkaConsumerGroupList",
            &format!("{base}/v3/clusters/{cid}/consumer-groups"),
            data,
        ))
    })
    .await
}

/// `GET …/consumer-groups/{group}`.
pub async fn get(
    State(p): State<AppState>,
    Path((cluster_id, group)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        Ok(group_json(&base, &cid, &group_view(&p, &group)?))
    })
    .await
}

/// `GET …/consumer-groups/{group}/consumers`.
pub async fn consumers(
    State(p): State<AppState>,
    Path((cluster_id, group)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let v = group_view(&p, &group)?;
        let url = group_url(&base, &cid, &group);
        let data = v
            .members
            .iter()
            .map(|m| {
                let member = format!("{url}/consumers/{}", m.member_id);
                json!({
                    "kind": "KafkaConsumer",
                    "metadata": metadata(&member, &format!(
                        "crn:///kafka={cid}/consumer-group={group}/consumer={}", m.member_id)),
                    "cluster_id": cid,
                    "consumer_group_id": group,
                    "consumer_id": m.member_id,
                    "instance_id": null,
                    "client_id": m.client_id,
                    "assignments": { "related": format!("{member}/assignments") },
                })
            })
            .collect();
        Ok(super::list(
            "KafkaConsumerList",
            &format!("{url}/consumers"),
            data,
        ))
    })
    .await
}

/// `GET …/consumer-groups/{group}/lags`.
pub async fn lags(
    State(p): State<AppState>,
    Path((cluster_id, group)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let v = group_view(&p, &group)?;
        let url = group_url(&base, &cid, &group);
        let data = v
            .partitions
            .iter()
            .filter(|r| r.committed_offset.is_some())
            .map(|r| {
                let lag = format!("{url}/lags/{}/partitions/{}", r.topic, r.partition);
                json!({
                    "kind": "KafkaConsumerLag",
                    "metadata": metadata(&lag, &format!(
                        "crn:///kafka={cid}/consumer-group={group}/lag={}/partition={}",
                        r.topic, r.partition)),
                    "cluster_id": cid,
                    "consumer_group_id": group,
                    "topic_name": r.topic,
                    "partition_id": r.partition,
                    "current_offset": r.committed_offset,
                    "log_end_offset": r.log_end_offset,
                    "lag": r.lag.unwrap_or(0),
                    "consumer_id": r.member_id.clone().unwrap_or_default(),
                    "instance_id": null,
                    "client_id": r.client_id.clone().unwrap_or_default(),
                })
            })
            .collect();
        Ok(super::list(
            "KafkaConsumerLagList",
            &format!("{url}/lags"),
            data,
        ))
    })
    .await
}

/// `GET …/consumer-groups/{group}/lag-summary`.
pub async fn lag_summary(
    State(p): State<AppState>,
    Path((cluster_id, group)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let v = group_view(&p, &group)?;
        let url = group_url(&base, &cid, &group);
        let max = v
            .partitions
            .iter()
            .filter(|r| r.lag.is_some())
            .max_by_key(|r| (r.lag.unwrap_or(0), std::cmp::Reverse((r.topic.clone(), r.partition))));
        Ok(json!({
            "kind": "KafkaConsumerGroupLagSummary",
            "metadata": metadata(&format!("{url}/lag-summary"), &format!(
                "crn:///kafka={cid}/consumer-group={group}/lag-summary")),
            "cluster_id": cid,
            "consumer_group_id": group,
            "max_lag_consumer_id": max.and_then(|r| r.member_id.clone()).unwrap_or_default(),
            "max_lag_instance_id": null,
            "max_lag_client_id": max.and_then(|r| r.client_id.clone()).unwrap_or_default(),
            "max_lag_topic_name": max.map(|r| r.topic.clone()).unwrap_or_default(),
            "max_lag_partition_id": max.map_or(0, |r| r.partition),
            "max_lag": max.and_then(|r| r.lag).unwrap_or(0),
            "total_lag": v.total_lag(),
            "max_lag_consumer": { "related": format!("{url}/consumers/{}",
                max.and_then(|r| r.member_id.clone()).unwrap_or_default()) },
            "max_lag_partition": { "related": format!("{base}/v3/clusters/{cid}/topics/{}/partitions/{}",
                max.map(|r| r.topic.clone()).unwrap_or_default(), max.map_or(0, |r| r.partition)) },
        }))
    })
    .await
}

/// `GET …/consumer-groups/{group}/consumers/{consumer}/assignments`.
pub async fn assignments(
    State(p): State<AppState>,
    Path((cluster_id, group, consumer)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let base = base(&headers);
    answer(move || {
        let cid = check_cluster(&p, &cluster_id)?;
        let v = group_view(&p, &group)?;
        let member = v
            .members
            .iter()
            .find(|m| m.member_id == consumer)
            .ok_or_else(|| RestError::new(404, 404, format!("Consumer {consumer} cannot be found.")))?;
        let url = format!("{}/consumers/{consumer}/assignments", group_url(&base, &cid, &group));
        let data = member
            .partitions
            .iter()
            .map(|(topic, partition)| {
                json!({
                    "kind": "KafkaConsumerAssignment",
                    "metadata": metadata(&format!("{url}/{topic}/partitions/{partition}"), &format!(
                        "crn:///kafka={cid}/consumer-group={group}/consumer={consumer}/assignment={topic}/partition={partition}")),
                    "cluster_id": cid,
                    "consumer_group_id": group,
                    "consumer_id": consumer,
                    "topic_name": topic,
                    "partition_id": partition,
                    "partition": { "related": format!("{base}/v3/clusters/{cid}/topics/{topic}/partitions/{partition}") },
                    "lag": { "related": format!("{}/lags/{topic}/partitions/{partition}", group_url(&base, &cid, &group)) },
                })
            })
            .collect();
        Ok(super::list("KafkaConsumerAssignmentList", &url, data))
    })
    .await
}
