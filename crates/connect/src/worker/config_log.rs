//! The config topic as a worker reads it: connector configurations, target states, task
//! configurations, restart requests, and which worker runs what.
//!
//! Kafka Connect's keys and values: `connector-<name>` → `{"properties": {…}}`,
//! `target-state-<name>` → `{"state": …, "state.v2": …}`, `task-<name>-<n>` →
//! `{"properties": {…}}`, `commit-<name>` → `{"tasks": n}`, `restart-connector-<name>` →
//! `{"include-tasks": …, "only-failed": …}` (KIP-745). Brook adds two keys that Kafka Connect
//! skips as unknown: `brook-members` → `{"members": [worker ids], "leader": id}`, written by
//! the group's leader after each rebalance, and `brook-restart-task-<name>-<n>`.
//!
//! Which worker runs a connector or task is a function of this log alone, so every worker
//! that has read it to the same offset agrees: at a membership record, connectors and then
//! tasks are dealt round-robin over the members in order (Kafka Connect's eager assignor);
//! a connector or task created later goes to the member with the least work, and nothing
//! that is already assigned moves until the next membership record.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value as Json, json};

use crate::data::Config;
use crate::plugin;

/// The record key of a membership record.
pub(crate) const MEMBERS_KEY: &str = "brook-members";

/// The state a connector was asked to be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetState {
    /// Running.
    Started,
    /// Tasks idle, kept.
    Paused,
    /// Tasks shut down (KIP-875).
    Stopped,
}

impl TargetState {
    pub(crate) fn to_json(self) -> Json {
        match self {
            TargetState::Started => json!({"state": "STARTED", "state.v2": "STARTED"}),
            TargetState::Paused => json!({"state": "PAUSED", "state.v2": "PAUSED"}),
            TargetState::Stopped => json!({"state": "PAUSED", "state.v2": "STOPPED"}),
        }
    }

    pub(crate) fn from_json(j: &Json) -> TargetState {
        match j["state.v2"].as_str().or(j["state"].as_str()) {
            Some("PAUSED") => TargetState::Paused,
            Some("STOPPED") => TargetState::Stopped,
            _ => TargetState::Started,
        }
    }
}

/// A connector as the config topic describes it.
#[derive(Debug, Clone)]
pub struct ConnectorInfo {
    /// Its configuration.
    pub config: Config,
    /// Its target state.
    pub target: TargetState,
    /// Its tasks' configurations (the last committed set).
    pub tasks: Vec<Config>,
    /// `source` or `sink`.
    pub kind: &'static str,
}

/// A piece of work one worker runs: a connector (`task` is `None`) or one of its tasks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Unit {
    pub connector: String,
    pub task: Option<usize>,
}

/// A restart asked for through the REST API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Restart {
    /// `POST /connectors/{name}/restart`.
    Connector {
        name: String,
        include_tasks: bool,
        only_failed: bool,
    },
    /// `POST /connectors/{name}/tasks/{id}/restart`.
    Task { name: String, task: usize },
}

impl Restart {
    /// The record that asks for it.
    pub(crate) fn record(&self) -> (String, Json) {
        match self {
            Restart::Connector {
                name,
                include_tasks,
                only_failed,
            } => (
                format!("restart-connector-{name}"),
                json!({"include-tasks": include_tasks, "only-failed": only_failed}),
            ),
            Restart::Task { name, task } => {
                (format!("brook-restart-task-{name}-{task}"), json!({}))
            }
        }
    }
}

/// Everything read from the config topic so far.
#[derive(Debug, Default)]
pub(crate) struct ConfigLog {
    /// The connectors.
    pub connectors: BTreeMap<String, ConnectorInfo>,
    /// Target states, which may come before their connector's config.
    pub targets: HashMap<String, TargetState>,
    /// Task configs read but not yet committed, per connector.
    pub pending_tasks: HashMap<String, BTreeMap<usize, Config>>,
    /// The next offset to apply.
    pub applied: i64,
    /// The workers of the last membership record, in order.
    pub members: Vec<String>,
    /// The offset of that record (-1 before the first).
    pub members_offset: i64,
    /// Who runs each connector and task.
    pub assignment: BTreeMap<Unit, String>,
    /// Restarts read and not yet carried out.
    pub restarts: Vec<Restart>,
}

impl ConfigLog {
    pub(crate) fn new() -> Self {
        ConfigLog {
            members_offset: -1,
            ..ConfigLog::default()
        }
    }

    /// Applies the record at `offset`.
    pub(crate) fn apply(&mut self, offset: i64, key: &str, value: Option<Json>) {
        if key == MEMBERS_KEY {
            let mut members: Vec<String> = value
                .as_ref()
                .and_then(|v| v["members"].as_array())
                .map(|m| {
                    m.iter()
                        .filter_map(|w| w.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            members.sort();
            members.dedup();
            self.members_offset = offset;
            self.members = members;
            self.deal();
        } else if let Some(name) = key.strip_prefix("restart-connector-") {
            if let Some(v) = value {
                self.restarts.push(Restart::Connector {
                    name: name.to_string(),
                    include_tasks: v["include-tasks"].as_bool().unwrap_or(false),
                    only_failed: v["only-failed"].as_bool().unwrap_or(false),
                });
            }
        } else if let Some(rest) = key.strip_prefix("brook-restart-task-") {
            if let Some((name, Ok(task))) = rest.rsplit_once('-').map(|(n, t)| (n, t.parse())) {
                self.restarts.push(Restart::Task {
                    name: name.to_string(),
                    task,
                });
            }
        } else {
            self.apply_config(key, value);
            self.follow_units();
        }
        self.applied = offset + 1;
    }

    /// Every connector and committed task.
    fn units(&self) -> BTreeSet<Unit> {
        let mut units = BTreeSet::new();
        for (name, info) in &self.connectors {
            units.insert(Unit {
                connector: name.clone(),
                task: None,
            });
            for task in 0..info.tasks.len() {
                units.insert(Unit {
                    connector: name.clone(),
                    task: Some(task),
                });
            }
        }
        units
    }

    /// A new membership: connectors, then tasks, dealt round-robin over the members.
    fn deal(&mut self) {
        self.assignment.clear();
        let members = &self.members;
        if members.is_empty() {
            return;
        }
        let units = self.units();
        let (connectors, tasks): (Vec<&Unit>, Vec<&Unit>) =
            units.iter().partition(|u| u.task.is_none());
        for (i, unit) in connectors.into_iter().chain(tasks).enumerate() {
            let member = members[i % members.len()].clone();
            self.assignment.insert(unit.clone(), member);
        }
    }

    /// After a config change: what is gone is dropped, what is new goes to the member with
    /// the least work (the first such in order), and nothing else moves.
    fn follow_units(&mut self) {
        let units = self.units();
        self.assignment.retain(|u, _| units.contains(u));
        let mut members: BTreeMap<String, usize> =
            self.members.iter().map(|m| (m.clone(), 0)).collect();
        for worker in self.assignment.values() {
            if let Some(n) = members.get_mut(worker) {
                *n += 1;
            }
        }
        for unit in units {
            if self.assignment.contains_key(&unit) {
                continue;
            }
            let least = members
                .iter()
                .min_by_key(|(w, n)| (**n, (*w).clone()))
                .map(|(w, _)| w.clone());
            if let Some(w) = least {
                *members.entry(w.clone()).or_default() += 1;
                self.assignment.insert(unit, w);
            }
        }
    }

    /// Who runs `unit`.
    pub(crate) fn owner(&self, connector: &str, task: Option<usize>) -> Option<&str> {
        self.assignment
            .get(&Unit {
                connector: connector.to_string(),
                task,
            })
            .map(String::as_str)
    }

    /// Applies a connector, target-state, task or commit record.
    fn apply_config(&mut self, key: &str, value: Option<Json>) {
        let state = self;
        if let Some(name) = key.strip_prefix("connector-") {
            match value.as_ref().and_then(|v| v.get("properties")) {
                Some(props) => {
                    let config = crate::data::config_from_json(props).unwrap_or_default();
                    let kind = config
                        .get("connector.class")
                        .and_then(|c| plugin::plugin(c))
                        .map_or("unknown", |p| p.kind().name());
                    let target = state
                        .targets
                        .get(name)
                        .copied()
                        .unwrap_or(TargetState::Started);
                    let entry = state
                        .connectors
                        .entry(name.to_string())
                        .or_insert(ConnectorInfo {
                            config: Config::new(),
                            target,
                            tasks: Vec::new(),
                            kind,
                        });
                    entry.config = config;
                    entry.kind = kind;
                }
                None => {
                    state.connectors.remove(name);
                    state.pending_tasks.remove(name);
                }
            }
        } else if let Some(name) = key.strip_prefix("target-state-") {
            match value.as_ref() {
                Some(v) => {
                    let target = TargetState::from_json(v);
                    state.targets.insert(name.to_string(), target);
                    if let Some(c) = state.connectors.get_mut(name) {
                        c.target = target;
                    }
                }
                None => {
                    state.targets.remove(name);
                }
            }
        } else if let Some(rest) = key.strip_prefix("task-") {
            if let Some((name, id)) = rest.rsplit_once('-') {
                if let (Ok(id), Some(props)) = (
                    id.parse::<usize>(),
                    value.as_ref().and_then(|v| v.get("properties")),
                ) {
                    state
                        .pending_tasks
                        .entry(name.to_string())
                        .or_default()
                        .insert(id, crate::data::config_from_json(props).unwrap_or_default());
                }
            }
        } else if let Some(name) = key.strip_prefix("commit-") {
            let count = value
                .as_ref()
                .and_then(|v| v["tasks"].as_u64())
                .unwrap_or(0) as usize;
            let pending = state.pending_tasks.remove(name).unwrap_or_default();
            if let Some(c) = state.connectors.get_mut(name) {
                c.tasks = (0..count)
                    .filter_map(|i| pending.get(&i).cloned())
                    .collect();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays records (key, value) from offset 0.
    fn replay(log: &mut ConfigLog, records: &[(&str, Option<Json>)]) {
        for (key, value) in records {
            log.apply(log.applied, key, value.clone());
        }
    }

    fn connector(name: &str, tasks: usize) -> Vec<(String, Option<Json>)> {
        let mut r = vec![(
            format!("connector-{name}"),
            Some(json!({"properties": {"connector.class": "FileStreamSource", "name": name}})),
        )];
        for t in 0..tasks {
            r.push((format!("task-{name}-{t}"), Some(json!({"properties": {}}))));
        }
        r.push((format!("commit-{name}"), Some(json!({"tasks": tasks}))));
        r
    }

    fn apply_all(log: &mut ConfigLog, records: Vec<(String, Option<Json>)>) {
        let records: Vec<(&str, Option<Json>)> = records
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        replay(log, &records);
    }

    fn work_of(log: &ConfigLog, worker: &str) -> Vec<(String, Option<usize>)> {
        log.assignment
            .iter()
            .filter(|(_, w)| w.as_str() == worker)
            .map(|(u, _)| (u.connector.clone(), u.task))
            .collect()
    }

    #[test]
    fn a_membership_deals_connectors_then_tasks_round_robin() {
        let mut log = ConfigLog::new();
        apply_all(&mut log, connector("orders", 4));
        assert!(
            log.assignment.is_empty(),
            "nothing runs before a membership"
        );
        replay(
            &mut log,
            &[(MEMBERS_KEY, Some(json!({"members": ["b:8083", "a:8083"]})))],
        );
        assert_eq!(log.members_offset, 6);
        assert_eq!(
            work_of(&log, "a:8083"),
            vec![
                ("orders".to_string(), None),
                ("orders".to_string(), Some(1)),
                ("orders".to_string(), Some(3))
            ]
        );
        assert_eq!(
            work_of(&log, "b:8083"),
            vec![
                ("orders".to_string(), Some(0)),
                ("orders".to_string(), Some(2))
            ]
        );
        // One member left: everything is dealt to it.
        replay(
            &mut log,
            &[(MEMBERS_KEY, Some(json!({"members": ["a:8083"]})))],
        );
        assert_eq!(work_of(&log, "a:8083").len(), 5);
        assert_eq!(log.owner("orders", Some(2)), Some("a:8083"));
    }

    #[test]
    fn later_connectors_go_to_the_least_loaded_and_nothing_moves() {
        let mut log = ConfigLog::new();
        apply_all(&mut log, connector("big", 3));
        replay(
            &mut log,
            &[(MEMBERS_KEY, Some(json!({"members": ["a", "b"]})))],
        );
        let before = log.assignment.clone();
        // a has the connector and tasks 1; b has tasks 0 and 2: 2 each.
        apply_all(&mut log, connector("aa", 1));
        for (unit, worker) in &before {
            assert_eq!(log.assignment.get(unit), Some(worker), "{unit:?} moved");
        }
        assert_eq!(log.owner("aa", None), Some("a"));
        assert_eq!(log.owner("aa", Some(0)), Some("b"));
        // Deleting frees its units; a new connector fills the lighter worker.
        replay(&mut log, &[("connector-big", None)]);
        assert!(log.owner("big", Some(0)).is_none());
        apply_all(&mut log, connector("c", 2));
        assert_eq!(work_of(&log, "a").len(), 3, "aa, c and c-1");
        assert_eq!(work_of(&log, "b").len(), 2, "aa-0 and c-0");
        // Every connector deleted, then one created: it still has members to go to.
        replay(&mut log, &[("connector-aa", None), ("connector-c", None)]);
        assert!(log.assignment.is_empty());
        apply_all(&mut log, connector("d", 1));
        assert_eq!(log.owner("d", None), Some("a"));
        assert_eq!(log.owner("d", Some(0)), Some("b"));
    }

    #[test]
    fn restarts_and_targets_are_read() {
        let mut log = ConfigLog::new();
        apply_all(&mut log, connector("x", 2));
        replay(
            &mut log,
            &[
                (
                    "target-state-x",
                    Some(json!({"state": "PAUSED", "state.v2": "STOPPED"})),
                ),
                (
                    "restart-connector-x",
                    Some(json!({"include-tasks": true, "only-failed": false})),
                ),
                ("brook-restart-task-x-1", Some(json!({}))),
            ],
        );
        assert_eq!(log.connectors["x"].target, TargetState::Stopped);
        assert_eq!(
            log.restarts,
            vec![
                Restart::Connector {
                    name: "x".to_string(),
                    include_tasks: true,
                    only_failed: false
                },
                Restart::Task {
                    name: "x".to_string(),
                    task: 1
                }
            ]
        );
        assert_eq!(log.applied, 7);
    }
}
