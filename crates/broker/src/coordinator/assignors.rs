//! Server-side partition assignors for KIP-848 consumer groups, as Kafka names them:
//! `uniform` (sticky and balanced over every subscribed partition) and `range` (each topic's
//! partitions split into contiguous ranges over the members subscribed to it).
//!
//! Both are pure functions of the members' subscriptions, their current target assignments
//! and the topics' partition counts, so the coordinator can rerun them whenever the group
//! epoch moves.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

/// Partitions by topic id.
pub type Assignment = BTreeMap<Uuid, BTreeSet<i32>>;

/// One member as an assignor sees it.
#[derive(Debug, Clone, Default)]
pub struct MemberSpec {
    /// Ids of the topics it subscribes to (resolved from names and the regex).
    pub topics: BTreeSet<Uuid>,
    /// Its current target assignment, which `uniform` keeps where it can.
    pub current: Assignment,
}

/// The assignors a broker offers, first one the default (`group.consumer.assignors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignor {
    /// Balanced and sticky.
    Uniform,
    /// Contiguous ranges per topic.
    Range,
}

impl Assignor {
    /// Kafka's short name.
    pub fn name(self) -> &'static str {
        match self {
            Assignor::Uniform => "uniform",
            Assignor::Range => "range",
        }
    }

    /// Parses a short name or Kafka's class name.
    pub fn from_name(name: &str) -> Option<Assignor> {
        match name.trim() {
            "uniform" | "org.apache.kafka.coordinator.group.assignor.UniformAssignor" => {
                Some(Assignor::Uniform)
            }
            "range" | "org.apache.kafka.coordinator.group.assignor.RangeAssignor" => {
                Some(Assignor::Range)
            }
            _ => None,
        }
    }

    /// Target assignment of every member. `partitions`: partition count by topic id.
    pub fn assign(
        self,
        members: &BTreeMap<String, MemberSpec>,
        partitions: &BTreeMap<Uuid, i32>,
    ) -> BTreeMap<String, Assignment> {
        match self {
            Assignor::Uniform => uniform(members, partitions),
            Assignor::Range => range(members, partitions),
        }
    }
}

fn count(assignment: &Assignment) -> usize {
    assignment.values().map(BTreeSet::len).sum()
}

/// Keeps every member's still-valid partitions, gives the rest to the least-loaded eligible
/// members, then moves partitions from the most- to the least-loaded member until no eligible
/// pair differs by more than one.
fn uniform(
    members: &BTreeMap<String, MemberSpec>,
    partitions: &BTreeMap<Uuid, i32>,
) -> BTreeMap<String, Assignment> {
    let mut result: BTreeMap<String, Assignment> = members
        .keys()
        .map(|id| (id.clone(), Assignment::new()))
        .collect();
    let mut taken: BTreeSet<(Uuid, i32)> = BTreeSet::new();
    for (id, spec) in members {
        for (topic, owned) in &spec.current {
            let Some(&count) = partitions.get(topic) else {
                continue;
            };
            if !spec.topics.contains(topic) {
                continue;
            }
            for &p in owned {
                if p < count && taken.insert((*topic, p)) {
                    result
                        .get_mut(id)
                        .expect("every member has an entry")
                        .entry(*topic)
                        .or_default()
                        .insert(p);
                }
            }
        }
    }
    let eligible = |topic: &Uuid| -> Vec<&String> {
        members
            .iter()
            .filter(|(_, spec)| spec.topics.contains(topic))
            .map(|(id, _)| id)
            .collect()
    };
    for (topic, &count) in partitions {
        let candidates = eligible(topic);
        if candidates.is_empty() {
            continue;
        }
        for p in 0..count {
            if taken.contains(&(*topic, p)) {
                continue;
            }
            let least = candidates
                .iter()
                .min_by_key(|id| self::count(&result[**id]))
                .expect("not empty");
            result
                .get_mut(*least)
                .expect("member")
                .entry(*topic)
                .or_default()
                .insert(p);
            taken.insert((*topic, p));
        }
    }
    // Balance: each move lowers the sum of squared loads, so this ends.
    loop {
        let mut best: Option<(String, String, Uuid, i32)> = None;
        let mut best_gap = 1;
        for (from, assigned) in &result {
            let from_load = count(assigned);
            for (to, to_assigned) in &result {
                let gap = from_load.saturating_sub(count(to_assigned));
                if gap <= best_gap {
                    continue;
                }
                let movable = assigned.iter().rev().find_map(|(topic, ps)| {
                    members[to]
                        .topics
                        .contains(topic)
                        .then(|| ps.last().map(|p| (*topic, *p)))
                        .flatten()
                });
                if let Some((topic, p)) = movable {
                    best_gap = gap;
                    best = Some((from.clone(), to.clone(), topic, p));
                }
            }
        }
        let Some((from, to, topic, p)) = best else {
            break;
        };
        let source = result.get_mut(&from).expect("member");
        if let Some(ps) = source.get_mut(&topic) {
            ps.remove(&p);
            if ps.is_empty() {
                source.remove(&topic);
            }
        }
        result
            .get_mut(&to)
            .expect("member")
            .entry(topic)
            .or_default()
            .insert(p);
    }
    result
}

/// For each topic, its subscribers in member-id order get `partitions / n` contiguous
/// partitions each, the first `partitions % n` one more; topics with the same subscribers
/// are therefore co-partitioned.
fn range(
    members: &BTreeMap<String, MemberSpec>,
    partitions: &BTreeMap<Uuid, i32>,
) -> BTreeMap<String, Assignment> {
    let mut result: BTreeMap<String, Assignment> = members
        .keys()
        .map(|id| (id.clone(), Assignment::new()))
        .collect();
    for (topic, &count) in partitions {
        let subscribers: Vec<&String> = members
            .iter()
            .filter(|(_, spec)| spec.topics.contains(topic))
            .map(|(id, _)| id)
            .collect();
        if subscribers.is_empty() || count <= 0 {
            continue;
        }
        let n = subscribers.len() as i32;
        let (each, extra) = (count / n, count % n);
        let mut next = 0;
        for (i, id) in subscribers.into_iter().enumerate() {
            let size = each + i32::from((i as i32) < extra);
            if size > 0 {
                result
                    .get_mut(id)
                    .expect("member")
                    .insert(*topic, (next..next + size).collect());
            }
            next += size;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(n: u8) -> Uuid {
        Uuid::from_bytes([n; 16])
    }

    fn spec(topics: &[Uuid], current: &[(Uuid, &[i32])]) -> MemberSpec {
        MemberSpec {
            topics: topics.iter().copied().collect(),
            current: current
                .iter()
                .map(|(t, ps)| (*t, ps.iter().copied().collect()))
                .collect(),
        }
    }

    fn every_partition_once(result: &BTreeMap<String, Assignment>, partitions: &[(Uuid, i32)]) {
        let mut seen = BTreeSet::new();
        for assignment in result.values() {
            for (t, ps) in assignment {
                for p in ps {
                    assert!(seen.insert((*t, *p)), "{t}/{p} assigned twice");
                }
            }
        }
        let all: BTreeSet<(Uuid, i32)> = partitions
            .iter()
            .flat_map(|(t, n)| (0..*n).map(move |p| (*t, p)))
            .collect();
        assert_eq!(seen, all);
    }

    #[test]
    fn uniform_balances_and_keeps_current_partitions() {
        let (a, b) = (topic(1), topic(2));
        let partitions: BTreeMap<Uuid, i32> = [(a, 6), (b, 3)].into();
        let mut members: BTreeMap<String, MemberSpec> = BTreeMap::new();
        members.insert(
            "m1".into(),
            spec(&[a, b], &[(a, &[0, 1, 2, 3, 4, 5]), (b, &[0])]),
        );
        members.insert("m2".into(), spec(&[a, b], &[(b, &[1, 2])]));
        members.insert("m3".into(), spec(&[a, b], &[]));
        let result = Assignor::Uniform.assign(&members, &partitions);
        every_partition_once(&result, &[(a, 6), (b, 3)]);
        let loads: Vec<usize> = result.values().map(count).collect();
        assert_eq!(loads, vec![3, 3, 3]);
        // m2 kept what it had; m1 kept three of its own.
        assert!(result["m2"][&b].is_superset(&[1, 2].into()));
        assert_eq!(
            result["m1"].values().flatten().count(),
            3,
            "{:?}",
            result["m1"]
        );
        assert!(result["m1"].get(&a).is_some_and(|ps| ps.len() >= 2));
    }

    #[test]
    fn uniform_respects_subscriptions() {
        let (a, b) = (topic(1), topic(2));
        let partitions: BTreeMap<Uuid, i32> = [(a, 4), (b, 4)].into();
        let mut members: BTreeMap<String, MemberSpec> = BTreeMap::new();
        members.insert("only-a".into(), spec(&[a], &[]));
        members.insert("both".into(), spec(&[a, b], &[]));
        let result = Assignor::Uniform.assign(&members, &partitions);
        every_partition_once(&result, &[(a, 4), (b, 4)]);
        assert!(!result["only-a"].contains_key(&b));
        assert_eq!(count(&result["only-a"]), 4);
        assert_eq!(count(&result["both"]), 4);
    }

    #[test]
    fn uniform_drops_partitions_of_topics_no_longer_subscribed() {
        let a = topic(1);
        let gone = topic(9);
        let partitions: BTreeMap<Uuid, i32> = [(a, 2)].into();
        let mut members: BTreeMap<String, MemberSpec> = BTreeMap::new();
        members.insert("m1".into(), spec(&[a], &[(gone, &[0]), (a, &[5])]));
        let result = Assignor::Uniform.assign(&members, &partitions);
        assert_eq!(result["m1"], Assignment::from([(a, [0, 1].into())]));
    }

    #[test]
    fn range_splits_each_topic_in_member_order() {
        let (a, b) = (topic(1), topic(2));
        let partitions: BTreeMap<Uuid, i32> = [(a, 7), (b, 2)].into();
        let mut members: BTreeMap<String, MemberSpec> = BTreeMap::new();
        for id in ["m1", "m2", "m3"] {
            members.insert(id.into(), spec(&[a, b], &[]));
        }
        let result = Assignor::Range.assign(&members, &partitions);
        every_partition_once(&result, &[(a, 7), (b, 2)]);
        assert_eq!(result["m1"][&a], [0, 1, 2].into());
        assert_eq!(result["m2"][&a], [3, 4].into());
        assert_eq!(result["m3"][&a], [5, 6].into());
        assert_eq!(result["m1"][&b], [0].into());
        assert_eq!(result["m2"][&b], [1].into());
        assert!(!result["m3"].contains_key(&b));
    }

    #[test]
    fn names_parse() {
        assert_eq!(Assignor::from_name("uniform"), Some(Assignor::Uniform));
        assert_eq!(
            Assignor::from_name("org.apache.kafka.coordinator.group.assignor.RangeAssignor"),
            Some(Assignor::Range)
        );
        assert_eq!(Assignor::from_name("sticky"), None);
    }
}
