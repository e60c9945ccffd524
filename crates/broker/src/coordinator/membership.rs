//! Group membership with Kafka's classic rebalance protocol: JoinGroup, SyncGroup, Heartbeat,
//! LeaveGroup, member ids handed out before joining (KIP-394), static members (KIP-345),
//! session and rebalance timeouts, and `group.initial.rebalance.delay.ms`.
//!
//! States: Empty → PreparingRebalance (members (re)join) → CompletingRebalance (the leader
//! computes assignments) → Stable. Joins and syncs wait on oneshot channels that the state
//! machine answers when the rebalance step completes; [`Membership::tick`] drives timeouts.
//! The assignor runs in the clients, so eager and cooperative (incremental) assignors both work.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;

use crate::now_ms;

/// Who commits offsets, as an OffsetCommit request says.
#[derive(Debug, Clone, Copy)]
pub struct CommitIdentity<'a> {
    /// The group.
    pub group_id: &'a str,
    /// The generation (-1 from admin clients and consumers without group management).
    pub generation: i32,
    /// The member id ("" from admin clients and consumers without group management).
    pub member_id: &'a str,
    /// The static member's instance id.
    pub instance_id: Option<&'a str>,
    /// The OffsetCommit version.
    pub version: i16,
}

/// The state of a group, as DescribeGroups and ListGroups name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    /// No members.
    Empty,
    /// Waiting for members to (re)join.
    PreparingRebalance,
    /// Waiting for the leader's assignments.
    CompletingRebalance,
    /// Everyone has an assignment.
    Stable,
}

impl GroupState {
    /// Kafka's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
        }
    }
}

/// What a JoinGroup request carries.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// Member id; empty on first join.
    pub member_id: String,
    /// Static membership id (KIP-345).
    pub instance_id: Option<String>,
    /// Client id from the request header.
    pub client_id: String,
    /// Client address.
    pub client_host: String,
    /// Session timeout.
    pub session_timeout: Duration,
    /// Rebalance timeout.
    pub rebalance_timeout: Duration,
    /// Usually "consumer".
    pub protocol_type: String,
    /// (assignor name, subscription metadata), in preference order.
    pub protocols: Vec<(String, Bytes)>,
    /// Whether the client requires a member id before joining (JoinGroup v4+).
    pub requires_known_member_id: bool,
}

/// What a JoinGroup answer carries.
#[derive(Debug, Clone, Default)]
pub struct JoinResult {
    /// Kafka error code (0 = none).
    pub error_code: i16,
    /// New generation.
    pub generation: i32,
    /// Chosen assignor.
    pub protocol_name: Option<String>,
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// Leader's member id.
    pub leader: String,
    /// This member's id.
    pub member_id: String,
    /// For the leader: every member with its subscription metadata.
    pub members: Vec<(String, Option<String>, Bytes)>,
}

/// What a SyncGroup answer carries.
#[derive(Debug, Clone, Default)]
pub struct SyncResult {
    /// Kafka error code.
    pub error_code: i16,
    /// The group's protocol type.
    pub protocol_type: Option<String>,
    /// Chosen assignor.
    pub protocol_name: Option<String>,
    /// This member's assignment.
    pub assignment: Bytes,
}

/// A member as DescribeGroups shows it.
#[derive(Debug, Clone)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// Static id.
    pub instance_id: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Client host.
    pub client_host: String,
    /// Subscription metadata for the chosen protocol.
    pub metadata: Bytes,
    /// Current assignment.
    pub assignment: Bytes,
}

/// A group as DescribeGroups shows it.
#[derive(Debug, Clone)]
pub struct GroupDescription {
    /// State.
    pub state: GroupState,
    /// Protocol type.
    pub protocol_type: String,
    /// Chosen assignor.
    pub protocol_name: String,
    /// Members.
    pub members: Vec<MemberDescription>,
}

#[derive(Debug)]
struct Member {
    instance_id: Option<String>,
    client_id: String,
    client_host: String,
    session_timeout: Duration,
    rebalance_timeout: Duration,
    protocols: Vec<(String, Bytes)>,
    last_heartbeat: Instant,
    join_waiter: Option<oneshot::Sender<JoinResult>>,
    sync_waiter: Option<oneshot::Sender<SyncResult>>,
    assignment: Bytes,
}

#[derive(Debug)]
struct Group {
    state: GroupState,
    generation: i32,
    protocol_type: Option<String>,
    protocol_name: Option<String>,
    leader: Option<String>,
    members: BTreeMap<String, Member>,
    pending: HashSet<String>,
    static_members: HashMap<String, String>,
    rebalance_deadline: Instant,
    join_not_before: Instant,
    /// When the group last became Empty (ms since the epoch); offsets expire from then.
    emptied_at_ms: Option<i64>,
}

impl Group {
    fn new() -> Self {
        let now = Instant::now();
        Group {
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: BTreeMap::new(),
            pending: HashSet::new(),
            static_members: HashMap::new(),
            rebalance_deadline: now,
            join_not_before: now,
            emptied_at_ms: None,
        }
    }

    /// The last member is gone: a new generation with nobody in it.
    fn become_empty(&mut self) {
        self.state = GroupState::Empty;
        self.generation += 1;
        self.protocol_name = None;
        self.leader = None;
        self.emptied_at_ms = Some(now_ms());
    }

    fn prepare_rebalance(&mut self, initial_delay: Duration) {
        let now = Instant::now();
        let timeout = self
            .members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default();
        if self.state == GroupState::Empty {
            self.join_not_before = now + initial_delay.min(timeout);
        }
        if self.state != GroupState::PreparingRebalance {
            self.rebalance_deadline = now + timeout;
        }
        // Members waiting in SyncGroup learn that a new round started.
        for member in self.members.values_mut() {
            if let Some(waiter) = member.sync_waiter.take() {
                let _ = waiter.send(SyncResult {
                    error_code: ResponseError::RebalanceInProgress.code(),
                    ..Default::default()
                });
            }
        }
        self.state = GroupState::PreparingRebalance;
    }

    /// Whether `member_id` (with its static `instance_id`) is a current member: a static
    /// member replaced by a newer one with the same instance id is FENCED_INSTANCE_ID, an
    /// unknown one UNKNOWN_MEMBER_ID (Kafka's `validateCurrentMember`).
    fn check_member(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
    ) -> Result<(), ResponseError> {
        if let Some(owner) = instance_id.and_then(|i| self.static_members.get(i))
            && owner != member_id
        {
            return Err(ResponseError::FencedInstanceId);
        }
        if self.members.contains_key(member_id) {
            Ok(())
        } else {
            Err(ResponseError::UnknownMemberId)
        }
    }

    fn remove_member(&mut self, member_id: &str) {
        if let Some(member) = self.members.remove(member_id) {
            if let Some(instance) = member.instance_id {
                self.static_members.remove(&instance);
            }
            if let Some(waiter) = member.join_waiter {
                let _ = waiter.send(JoinResult {
                    error_code: ResponseError::UnknownMemberId.code(),
                    ..Default::default()
                });
            }
        }
        if self.leader.as_deref() == Some(member_id) {
            self.leader = self.members.keys().next().cloned();
        }
    }

    /// Finishes the join phase if everyone rejoined (or the deadline passed).
    fn maybe_complete_join(&mut self, now: Instant) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        let all_joined = self.members.values().all(|m| m.join_waiter.is_some());
        let timed_out = now >= self.rebalance_deadline;
        if !(timed_out || (all_joined && now >= self.join_not_before)) {
            return;
        }
        let absent: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| m.join_waiter.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        for id in absent {
            self.remove_member(&id);
        }
        self.pending.clear();
        if self.members.is_empty() {
            self.become_empty();
            return;
        }
        self.generation += 1;
        self.protocol_name = self.select_protocol();
        if self
            .leader
            .as_ref()
            .is_none_or(|l| !self.members.contains_key(l))
        {
            self.leader = self.members.keys().next().cloned();
        }
        let leader = self.leader.clone().unwrap_or_default();
        let protocol = self.protocol_name.clone().unwrap_or_default();
        let everyone: Vec<(String, Option<String>, Bytes)> = self
            .members
            .iter()
            .map(|(id, m)| {
                let metadata = m
                    .protocols
                    .iter()
                    .find(|(name, _)| *name == protocol)
                    .map(|(_, md)| md.clone())
                    .unwrap_or_default();
                (id.clone(), m.instance_id.clone(), metadata)
            })
            .collect();
        for (id, member) in self.members.iter_mut() {
            member.assignment = Bytes::new();
            member.last_heartbeat = now;
            if let Some(waiter) = member.join_waiter.take() {
                let _ = waiter.send(JoinResult {
                    error_code: 0,
                    generation: self.generation,
                    protocol_name: self.protocol_name.clone(),
                    protocol_type: self.protocol_type.clone(),
                    leader: leader.clone(),
                    member_id: id.clone(),
                    members: if *id == leader {
                        everyone.clone()
                    } else {
                        Vec::new()
                    },
                });
            }
        }
        self.state = GroupState::CompletingRebalance;
    }

    /// The protocol every member supports with the most first-choice votes.
    fn select_protocol(&self) -> Option<String> {
        let first = self.members.values().next()?;
        let common: Vec<&String> = first
            .protocols
            .iter()
            .map(|(name, _)| name)
            .filter(|name| {
                self.members
                    .values()
                    .all(|m| m.protocols.iter().any(|(n, _)| n == *name))
            })
            .collect();
        let mut votes: HashMap<&String, usize> = HashMap::new();
        for member in self.members.values() {
            if let Some((name, _)) = member.protocols.iter().find(|(n, _)| common.contains(&n)) {
                *votes.entry(name).or_default() += 1;
            }
        }
        common
            .into_iter()
            .max_by_key(|name| votes.get(name).copied().unwrap_or(0))
            .cloned()
    }
}

/// Every group's membership. `Sync`; one mutex, held only for state changes, never across an
/// await.
#[derive(Debug)]
pub struct Membership {
    groups: std::sync::Mutex<HashMap<String, Group>>,
    settings: Settings,
    next_id: std::sync::atomic::AtomicU64,
}

/// The broker settings of classic groups.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `group.initial.rebalance.delay.ms` (3 s).
    pub initial_delay: Duration,
    /// `group.min.session.timeout.ms` (6 s): shorter session timeouts are refused.
    pub min_session: Duration,
    /// `group.max.session.timeout.ms` (30 min): longer session timeouts are refused.
    pub max_session: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            initial_delay: Duration::from_millis(3_000),
            min_session: Duration::from_millis(6_000),
            max_session: Duration::from_millis(1_800_000),
        }
    }
}

impl Membership {
    /// Empty membership with these settings.
    pub fn new(settings: Settings) -> Self {
        Membership {
            groups: Default::default(),
            settings,
            next_id: Default::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Group>> {
        self.groups.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn new_member_id(&self, client_id: &str) -> String {
        let n = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{client_id}-{}-{n}", uuid::Uuid::new_v4())
    }

    /// Handles a JoinGroup; returns at once or after the rebalance's join phase completes.
    pub async fn join(&self, group_id: &str, request: JoinRequest) -> JoinResult {
        let error = |code: ResponseError, member_id: &str| JoinResult {
            error_code: code.code(),
            generation: -1,
            member_id: member_id.to_string(),
            ..Default::default()
        };
        if group_id.is_empty() {
            return error(ResponseError::InvalidGroupId, &request.member_id);
        }
        let bounds = self.settings.min_session..=self.settings.max_session;
        if !bounds.contains(&request.session_timeout) {
            return error(ResponseError::InvalidSessionTimeout, &request.member_id);
        }
        let receiver = {
            let mut groups = self.lock();
            let group = groups
                .entry(group_id.to_string())
                .or_insert_with(Group::new);
            if group.state != GroupState::Empty
                && group
                    .protocol_type
                    .as_deref()
                    .is_some_and(|t| t != request.protocol_type)
            {
                return error(ResponseError::InconsistentGroupProtocol, &request.member_id);
            }
            if request.protocols.is_empty()
                || (!group.members.is_empty()
                    && !request.protocols.iter().any(|(name, _)| {
                        group
                            .members
                            .values()
                            .all(|m| m.protocols.iter().any(|(n, _)| n == name))
                    }))
            {
                return error(ResponseError::InconsistentGroupProtocol, &request.member_id);
            }
            let mut member_id = request.member_id.clone();
            if member_id.is_empty() {
                if let Some(instance) = &request.instance_id
                    && let Some(old) = group.static_members.get(instance).cloned()
                {
                    // A static member restarting: it takes over its old place (KIP-345).
                    let fresh = self.new_member_id(&request.client_id);
                    if let Some(mut member) = group.members.remove(&old) {
                        if let Some(waiter) = member.join_waiter.take() {
                            let _ = waiter.send(JoinResult {
                                error_code: ResponseError::FencedInstanceId.code(),
                                ..Default::default()
                            });
                        }
                        member.last_heartbeat = Instant::now();
                        let same_protocols = member.protocols == request.protocols;
                        member.protocols = request.protocols.clone();
                        group.members.insert(fresh.clone(), member);
                        group.static_members.insert(instance.clone(), fresh.clone());
                        if group.leader.as_deref() == Some(&old) {
                            group.leader = Some(fresh.clone());
                        }
                        if group.state == GroupState::Stable && same_protocols {
                            return JoinResult {
                                error_code: 0,
                                generation: group.generation,
                                protocol_name: group.protocol_name.clone(),
                                protocol_type: group.protocol_type.clone(),
                                leader: group.leader.clone().unwrap_or_default(),
                                member_id: fresh,
                                members: Vec::new(),
                            };
                        }
                    }
                    member_id = fresh;
                } else {
                    member_id = self.new_member_id(&request.client_id);
                    if request.requires_known_member_id && request.instance_id.is_none() {
                        group.pending.insert(member_id.clone());
                        return error(ResponseError::MemberIdRequired, &member_id);
                    }
                }
            } else if let Err(code) = group.check_member(&member_id, request.instance_id.as_deref())
                && !(code == ResponseError::UnknownMemberId && group.pending.contains(&member_id))
            {
                return error(code, &member_id);
            }
            group.pending.remove(&member_id);
            let (sender, receiver) = oneshot::channel();
            let now = Instant::now();
            let is_new = !group.members.contains_key(&member_id);
            let member = group
                .members
                .entry(member_id.clone())
                .or_insert_with(|| Member {
                    instance_id: request.instance_id.clone(),
                    client_id: request.client_id.clone(),
                    client_host: request.client_host.clone(),
                    session_timeout: request.session_timeout,
                    rebalance_timeout: request.rebalance_timeout,
                    protocols: Vec::new(),
                    last_heartbeat: now,
                    join_waiter: None,
                    sync_waiter: None,
                    assignment: Bytes::new(),
                });
            let changed = member.protocols != request.protocols;
            member.protocols = request.protocols.clone();
            member.session_timeout = request.session_timeout;
            member.rebalance_timeout = request.rebalance_timeout;
            member.last_heartbeat = now;
            if let Some(old) = member.join_waiter.replace(sender) {
                let _ = old.send(JoinResult {
                    error_code: ResponseError::UnknownMemberId.code(),
                    ..Default::default()
                });
            }
            if let Some(instance) = &request.instance_id {
                group
                    .static_members
                    .insert(instance.clone(), member_id.clone());
            }
            group.protocol_type = Some(request.protocol_type.clone());
            let leader_rejoined = group.leader.as_deref() == Some(member_id.as_str());
            if group.state != GroupState::PreparingRebalance
                && (is_new || changed || leader_rejoined || group.state != GroupState::Stable)
            {
                group.prepare_rebalance(self.settings.initial_delay);
            } else if group.state == GroupState::Stable {
                // A follower rejoining with nothing new: answer with the current generation.
                let member = group.members.get_mut(&member_id).expect("inserted above");
                let waiter = member.join_waiter.take().expect("set above");
                let _ = waiter.send(JoinResult {
                    error_code: 0,
                    generation: group.generation,
                    protocol_name: group.protocol_name.clone(),
                    protocol_type: group.protocol_type.clone(),
                    leader: group.leader.clone().unwrap_or_default(),
                    member_id: member_id.clone(),
                    members: Vec::new(),
                });
            }
            group.maybe_complete_join(now);
            receiver
        };
        receiver.await.unwrap_or(JoinResult {
            error_code: ResponseError::UnknownMemberId.code(),
            ..Default::default()
        })
    }

    /// Handles a SyncGroup; the leader's call delivers everyone's assignment.
    pub async fn sync(
        &self,
        group_id: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        assignments: Vec<(String, Bytes)>,
    ) -> SyncResult {
        let error = |code: ResponseError| SyncResult {
            error_code: code.code(),
            ..Default::default()
        };
        let receiver = {
            let mut groups = self.lock();
            let Some(group) = groups.get_mut(group_id) else {
                return error(ResponseError::UnknownMemberId);
            };
            if let Err(code) = group.check_member(member_id, instance_id) {
                return error(code);
            }
            if generation != group.generation {
                return error(ResponseError::IllegalGeneration);
            }
            let (protocol_type, protocol_name) =
                (group.protocol_type.clone(), group.protocol_name.clone());
            match group.state {
                GroupState::Empty => return error(ResponseError::UnknownMemberId),
                GroupState::PreparingRebalance => return error(ResponseError::RebalanceInProgress),
                GroupState::Stable => {
                    let member = &group.members[member_id];
                    return SyncResult {
                        error_code: 0,
                        protocol_type,
                        protocol_name,
                        assignment: member.assignment.clone(),
                    };
                }
                GroupState::CompletingRebalance => {}
            }
            let (sender, receiver) = oneshot::channel();
            group
                .members
                .get_mut(member_id)
                .expect("checked")
                .sync_waiter = Some(sender);
            if group.leader.as_deref() == Some(member_id) {
                let mut given: HashMap<String, Bytes> = assignments.into_iter().collect();
                for (id, member) in group.members.iter_mut() {
                    member.assignment = given.remove(id).unwrap_or_default();
                    if let Some(waiter) = member.sync_waiter.take() {
                        let _ = waiter.send(SyncResult {
                            error_code: 0,
                            protocol_type: protocol_type.clone(),
                            protocol_name: protocol_name.clone(),
                            assignment: member.assignment.clone(),
                        });
                    }
                }
                group.state = GroupState::Stable;
            }
            receiver
        };
        receiver
            .await
            .unwrap_or(error(ResponseError::RebalanceInProgress))
    }

    /// Handles a Heartbeat; returns Kafka's error code.
    pub fn heartbeat(
        &self,
        group_id: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
    ) -> i16 {
        let mut groups = self.lock();
        let Some(group) = groups.get_mut(group_id) else {
            return ResponseError::UnknownMemberId.code();
        };
        if let Err(code) = group.check_member(member_id, instance_id) {
            return code.code();
        }
        let Some(member) = group.members.get_mut(member_id) else {
            return ResponseError::UnknownMemberId.code();
        };
        member.last_heartbeat = Instant::now();
        match group.state {
            GroupState::PreparingRebalance => ResponseError::RebalanceInProgress.code(),
            _ if generation != group.generation => ResponseError::IllegalGeneration.code(),
            _ => 0,
        }
    }

    /// Removes members (by member id, or by instance id for static members); returns one error
    /// code per member.
    pub fn leave(&self, group_id: &str, members: &[(String, Option<String>)]) -> Vec<i16> {
        let mut groups = self.lock();
        let Some(group) = groups.get_mut(group_id) else {
            return vec![ResponseError::UnknownMemberId.code(); members.len()];
        };
        let mut codes = Vec::with_capacity(members.len());
        let mut removed = false;
        for (member_id, instance_id) in members {
            let id = match instance_id
                .as_ref()
                .and_then(|i| group.static_members.get(i))
            {
                Some(id) if member_id.is_empty() || id == member_id => id.clone(),
                Some(_) => {
                    codes.push(ResponseError::FencedInstanceId.code());
                    continue;
                }
                None => member_id.clone(),
            };
            if group.members.contains_key(&id) {
                group.remove_member(&id);
                removed = true;
                codes.push(0);
            } else {
                codes.push(ResponseError::UnknownMemberId.code());
            }
        }
        if removed {
            if group.members.is_empty() {
                group.become_empty();
            } else {
                group.prepare_rebalance(self.settings.initial_delay);
                group.maybe_complete_join(Instant::now());
            }
        }
        codes
    }

    /// Whether an offset commit is acceptable now, as Kafka's ClassicGroup decides; Kafka's
    /// error code otherwise.
    pub fn check_commit(&self, commit: &CommitIdentity<'_>) -> i16 {
        let groups = self.lock();
        let Some(group) = groups.get(commit.group_id) else {
            // No group: a negative generation is an admin client or a consumer without group
            // management committing for a "simple" group; anything else names a generation
            // that does not exist (GROUP_ID_NOT_FOUND from v9, as Kafka answers).
            return if commit.generation < 0 {
                0
            } else if commit.version >= 9 {
                ResponseError::GroupIdNotFound.code()
            } else {
                ResponseError::IllegalGeneration.code()
            };
        };
        if commit.generation < 0 && group.state == GroupState::Empty {
            return 0;
        }
        if commit.generation >= 0 || !commit.member_id.is_empty() || commit.instance_id.is_some() {
            if let Err(code) = group.check_member(commit.member_id, commit.instance_id) {
                return code.code();
            }
            if commit.generation != group.generation {
                return ResponseError::IllegalGeneration.code();
            }
        } else {
            // Neither member nor generation (an admin client): only while the group is empty.
            return ResponseError::UnknownMemberId.code();
        }
        // As Kafka: members may still commit for the current generation while it rebalances
        // (consumers commit before giving partitions up), but not between the new generation's
        // join and its assignments.
        if group.state == GroupState::CompletingRebalance {
            return ResponseError::RebalanceInProgress.code();
        }
        0
    }

    /// Expires silent members and finishes joins whose time has come. Call every ~100 ms.
    /// Returns the groups that lost their last member.
    pub fn tick(&self) -> Vec<String> {
        let now = Instant::now();
        let mut emptied = Vec::new();
        let mut groups = self.lock();
        for (group_id, group) in groups.iter_mut() {
            let expired: Vec<String> = group
                .members
                .iter()
                .filter(|(_, m)| {
                    m.join_waiter.is_none()
                        && now.duration_since(m.last_heartbeat) > m.session_timeout
                })
                .map(|(id, _)| id.clone())
                .collect();
            if !expired.is_empty() {
                for id in &expired {
                    tracing::info!(member = %id, "member session expired");
                    group.remove_member(id);
                }
                if group.members.is_empty() {
                    group.become_empty();
                    emptied.push(group_id.clone());
                } else {
                    group.prepare_rebalance(self.settings.initial_delay);
                }
            }
            group.maybe_complete_join(now);
        }
        emptied
    }

    /// Forgets an Empty group. `Err(())` when it still has members; `Ok(known)` otherwise.
    #[allow(clippy::result_unit_err)]
    pub fn remove_if_empty(&self, group_id: &str) -> Result<bool, ()> {
        let mut groups = self.lock();
        match groups.get(group_id) {
            None => Ok(false),
            Some(group) if group.state != GroupState::Empty => Err(()),
            Some(_) => {
                groups.remove(group_id);
                Ok(true)
            }
        }
    }

    /// The group as `__consumer_offsets` stores it (GroupMetadataValue).
    pub fn snapshot(&self, group_id: &str) -> Option<super::records::GroupMetadataValue> {
        let groups = self.lock();
        let group = groups.get(group_id)?;
        let protocol = group.protocol_name.clone();
        let now = now_ms();
        Some(super::records::GroupMetadataValue {
            protocol_type: group.protocol_type.clone().unwrap_or_default(),
            generation: group.generation,
            protocol: protocol.clone(),
            leader: group.leader.clone(),
            current_state_timestamp: now,
            members: group
                .members
                .iter()
                .map(|(id, m)| super::records::MemberMetadata {
                    member_id: id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout: m.rebalance_timeout.as_millis() as i32,
                    session_timeout: m.session_timeout.as_millis() as i32,
                    subscription: protocol
                        .as_ref()
                        .and_then(|p| m.protocols.iter().find(|(n, _)| n == p))
                        .map(|(_, md)| md.to_vec())
                        .unwrap_or_default(),
                    assignment: m.assignment.to_vec(),
                })
                .collect(),
        })
    }

    /// Recreates a group from its last GroupMetadataValue in `__consumer_offsets`: its
    /// generation, protocol, leader and members with their assignments, Stable, so that
    /// members heartbeating across a broker restart carry on without a rebalance (as in
    /// Kafka). Members that do not come back expire after their session timeout.
    pub fn restore(&self, group_id: &str, stored: super::records::GroupMetadataValue) {
        let now = Instant::now();
        let millis = |ms: i32| Duration::from_millis(ms.max(0) as u64);
        let mut group = Group::new();
        group.generation = stored.generation;
        group.protocol_type = (!stored.protocol_type.is_empty()).then_some(stored.protocol_type);
        let state_timestamp = Some(stored.current_state_timestamp)
            .filter(|t| *t >= 0)
            .unwrap_or_else(now_ms);
        if stored.members.is_empty() {
            group.emptied_at_ms = Some(state_timestamp);
        } else {
            let protocol = stored.protocol.clone().unwrap_or_default();
            for m in stored.members {
                if let Some(instance) = &m.group_instance_id {
                    group
                        .static_members
                        .insert(instance.clone(), m.member_id.clone());
                }
                group.members.insert(
                    m.member_id,
                    Member {
                        instance_id: m.group_instance_id,
                        client_id: m.client_id,
                        client_host: m.client_host,
                        session_timeout: millis(m.session_timeout),
                        rebalance_timeout: millis(m.rebalance_timeout),
                        protocols: vec![(protocol.clone(), Bytes::from(m.subscription))],
                        last_heartbeat: now,
                        join_waiter: None,
                        sync_waiter: None,
                        assignment: Bytes::from(m.assignment),
                    },
                );
            }
            group.protocol_name = stored.protocol;
            group.leader = stored
                .leader
                .filter(|l| group.members.contains_key(l))
                .or_else(|| group.members.keys().next().cloned());
            group.state = GroupState::Stable;
        }
        self.lock().insert(group_id.to_string(), group);
    }

    /// When the group became Empty (ms), if it is Empty and has had members.
    pub fn empty_since(&self, group_id: &str) -> Option<i64> {
        self.lock()
            .get(group_id)
            .filter(|g| g.state == GroupState::Empty)
            .and_then(|g| g.emptied_at_ms)
    }

    /// The group's current generation, if known.
    pub fn generation(&self, group_id: &str) -> Option<i32> {
        self.lock().get(group_id).map(|g| g.generation)
    }

    /// Topics the group's members subscribe to, read from their consumer-protocol metadata.
    /// `None` when a member's metadata cannot be read (then assume every topic).
    pub fn subscribed_topics(&self, group_id: &str) -> Option<HashSet<String>> {
        let groups = self.lock();
        let Some(group) = groups.get(group_id) else {
            return Some(HashSet::new());
        };
        let mut topics = HashSet::new();
        for member in group.members.values() {
            let metadata = match &group.protocol_name {
                Some(p) => member
                    .protocols
                    .iter()
                    .find(|(n, _)| n == p)
                    .map(|(_, md)| md.clone()),
                None => member.protocols.first().map(|(_, md)| md.clone()),
            }?;
            topics.extend(super::records::subscription_topics(&metadata)?);
        }
        Some(topics)
    }

    /// Whether the group has members now.
    pub fn is_active(&self, group_id: &str) -> bool {
        self.lock()
            .get(group_id)
            .is_some_and(|g| g.state != GroupState::Empty)
    }

    /// Every group with its state and protocol type.
    pub fn list(&self) -> Vec<(String, GroupState, String)> {
        self.lock()
            .iter()
            .map(|(id, g)| {
                (
                    id.clone(),
                    g.state,
                    g.protocol_type.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// One group, if known.
    pub fn describe(&self, group_id: &str) -> Option<GroupDescription> {
        let groups = self.lock();
        let group = groups.get(group_id)?;
        let protocol = group.protocol_name.clone().unwrap_or_default();
        Some(GroupDescription {
            state: group.state,
            protocol_type: group.protocol_type.clone().unwrap_or_default(),
            protocol_name: protocol.clone(),
            members: group
                .members
                .iter()
                .map(|(id, m)| MemberDescription {
                    member_id: id.clone(),
                    instance_id: m.instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    metadata: m
                        .protocols
                        .iter()
                        .find(|(n, _)| *n == protocol)
                        .map(|(_, md)| md.clone())
                        .unwrap_or_default(),
                    assignment: m.assignment.clone(),
                })
                .collect(),
        })
    }
}
