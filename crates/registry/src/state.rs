//! The registry's state, rebuilt from the `_schemas` topic: Confluent's key/value JSON
//! records applied in order ([`State::apply`]). Everything the API reads comes from here;
//! every change is a record written to the topic first and applied when it is read back.
//!
//! ```text
//! key {"keytype":"SCHEMA","subject":"rides-value","version":1,"magic":1}
//!   value {"subject":"rides-value","version":1,"id":1,"schema":"…","deleted":false}
//!   (null value: the version is deleted permanently)
//! key {"keytype":"CONFIG","subject":null,"magic":0}   value {"compatibilityLevel":"FULL"}
//! key {"keytype":"MODE","subject":null,"magic":0}     value {"mode":"READONLY"}
//! key {"keytype":"DELETE_SUBJECT","subject":"s","magic":0}  value {"subject":"s","version":3}
//! key {"keytype":"NOOP","magic":0}
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::compat::Level;
use crate::format::SchemaType;

/// A schema reference: a name the schema uses, resolved to a subject's version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    /// The name the referring schema uses (Avro: the full type name).
    pub name: String,
    /// Subject of the referenced schema.
    pub subject: String,
    /// Its version.
    pub version: i32,
}

/// A record key of `_schemas`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "keytype", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Key {
    /// A subject's version.
    Schema {
        /// Subject.
        subject: String,
        /// Version.
        version: i32,
        /// Always 1.
        magic: i32,
    },
    /// A compatibility level (global when `subject` is null).
    Config {
        /// Subject, or null for the global level.
        subject: Option<String>,
        /// Always 0.
        magic: i32,
    },
    /// A mode (global when `subject` is null).
    Mode {
        /// Subject, or null for the global mode.
        subject: Option<String>,
        /// Always 0.
        magic: i32,
    },
    /// Soft-deletes a subject's versions up to one.
    DeleteSubject {
        /// Subject.
        subject: String,
        /// Always 0.
        magic: i32,
    },
    /// Hard-deletes a subject's soft-deleted versions up to one.
    ClearSubject {
        /// Subject.
        subject: String,
        /// Always 0.
        magic: i32,
    },
    /// A no-op used to find the end of the topic.
    Noop {
        /// Always 0.
        magic: i32,
    },
}

/// The value of a SCHEMA record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaValue {
    /// Subject.
    pub subject: String,
    /// Version.
    pub version: i32,
    /// Global schema id.
    pub id: i32,
    /// The schema text as registered.
    pub schema: String,
    /// Format (absent for Avro).
    #[serde(default, skip_serializing_if = "SchemaType::is_avro")]
    pub schema_type: SchemaType,
    /// References.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    /// Soft-deleted.
    #[serde(default)]
    pub deleted: bool,
}

/// The value of a CONFIG record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigValue {
    /// The level.
    pub compatibility_level: Level,
}

/// Registry modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// Normal.
    #[default]
    Readwrite,
    /// No registrations or deletes.
    Readonly,
    /// Registrations with explicit ids and versions (migrations).
    Import,
}

impl Mode {
    /// Parses a mode name in any case.
    pub fn parse(text: &str) -> Option<Mode> {
        match text.to_ascii_uppercase().as_str() {
            "READWRITE" => Some(Mode::Readwrite),
            "READONLY" => Some(Mode::Readonly),
            "IMPORT" => Some(Mode::Import),
            _ => None,
        }
    }

    /// Confluent's name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Readwrite => "READWRITE",
            Mode::Readonly => "READONLY",
            Mode::Import => "IMPORT",
        }
    }
}

/// The value of a MODE record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeValue {
    /// The mode.
    pub mode: Mode,
}

/// The value of DELETE_SUBJECT and CLEAR_SUBJECT records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteSubjectValue {
    /// Subject.
    pub subject: String,
    /// The highest version affected.
    pub version: i32,
}

/// A schema as stored once under its id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoredSchema {
    /// Format.
    pub schema_type: SchemaType,
    /// Text as first registered.
    pub schema: String,
    /// References.
    pub references: Vec<Reference>,
}

/// One version of a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// Schema id.
    pub id: i32,
    /// Soft-deleted.
    pub deleted: bool,
}

/// One subject.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// Versions, including soft-deleted ones.
    pub versions: BTreeMap<i32, Version>,
    /// Subject-level compatibility.
    pub compatibility: Option<Level>,
    /// Subject-level mode.
    pub mode: Option<Mode>,
}

impl Subject {
    /// Live (not soft-deleted) versions, oldest first.
    pub fn live(&self) -> impl DoubleEndedIterator<Item = (i32, Version)> + '_ {
        self.versions
            .iter()
            .filter(|(_, v)| !v.deleted)
            .map(|(n, v)| (*n, *v))
    }
}

/// The context of a subject, as Confluent qualifies them: `:.staging:rides-value` is in
/// context `.staging`; unqualified subjects are in the default context `.`. Schema ids are
/// numbered per context.
pub fn context_of(subject: &str) -> &str {
    subject
        .strip_prefix(':')
        .filter(|rest| rest.starts_with('.'))
        .and_then(|rest| rest.find(':').map(|end| &rest[..end]))
        .unwrap_or(".")
}

/// A schema's key: its context and its id within it.
type SchemaKey = (String, i32);

/// Everything the registry knows. Owned behind the registry's lock; not `Sync` on its own.
#[derive(Debug, Default)]
pub struct State {
    /// Schemas by context and id.
    schemas: BTreeMap<SchemaKey, StoredSchema>,
    /// Subjects by name.
    pub subjects: BTreeMap<String, Subject>,
    /// Global compatibility.
    pub compatibility: Level,
    /// Global mode.
    pub mode: Mode,
    /// (subject, version) pairs holding each schema, soft-deleted ones included.
    holders: BTreeMap<SchemaKey, std::collections::BTreeSet<(String, i32)>>,
}

impl State {
    /// Applies one `_schemas` record. Records it does not understand are skipped.
    pub fn apply(&mut self, key: &[u8], value: Option<&[u8]>) {
        let Ok(key) = serde_json::from_slice::<Key>(key) else {
            return;
        };
        match key {
            Key::Schema {
                subject, version, ..
            } => match value.map(serde_json::from_slice::<SchemaValue>) {
                Some(Ok(v)) => {
                    let key = (context_of(&subject).to_string(), v.id);
                    self.schemas.entry(key).or_insert_with(|| StoredSchema {
                        schema_type: v.schema_type,
                        schema: v.schema.clone(),
                        references: v.references.clone(),
                    });
                    let previous = self
                        .subjects
                        .entry(subject.clone())
                        .or_default()
                        .versions
                        .insert(
                            version,
                            Version {
                                id: v.id,
                                deleted: v.deleted,
                            },
                        );
                    if let Some(previous) = previous {
                        self.release(previous.id, &subject, version);
                    }
                    self.holders
                        .entry((context_of(&subject).to_string(), v.id))
                        .or_default()
                        .insert((subject, version));
                }
                Some(Err(_)) => {}
                None => {
                    let removed = self
                        .subjects
                        .get_mut(&subject)
                        .and_then(|s| s.versions.remove(&version));
                    if let Some(removed) = removed {
                        self.release(removed.id, &subject, version);
                    }
                }
            },
            Key::Config { subject, .. } => {
                let level = value
                    .and_then(|v| serde_json::from_slice::<ConfigValue>(v).ok())
                    .map(|c| c.compatibility_level);
                match subject {
                    None => self.compatibility = level.unwrap_or_default(),
                    Some(s) => self.subjects.entry(s).or_default().compatibility = level,
                }
            }
            Key::Mode { subject, .. } => {
                let mode = value
                    .and_then(|v| serde_json::from_slice::<ModeValue>(v).ok())
                    .map(|m| m.mode);
                match subject {
                    None => self.mode = mode.unwrap_or_default(),
                    Some(s) => self.subjects.entry(s).or_default().mode = mode,
                }
            }
            Key::DeleteSubject { subject, .. } => {
                if let Some(v) =
                    value.and_then(|v| serde_json::from_slice::<DeleteSubjectValue>(v).ok())
                    && let Some(s) = self.subjects.get_mut(&subject)
                {
                    for (_, version) in s.versions.range_mut(..=v.version) {
                        version.deleted = true;
                    }
                }
            }
            Key::ClearSubject { subject, .. } => {
                if let Some(v) =
                    value.and_then(|v| serde_json::from_slice::<DeleteSubjectValue>(v).ok())
                    && let Some(s) = self.subjects.get_mut(&subject)
                {
                    let mut cleared = Vec::new();
                    s.versions.retain(|n, ver| {
                        let keep = *n > v.version || !ver.deleted;
                        if !keep {
                            cleared.push((*n, ver.id));
                        }
                        keep
                    });
                    for (version, id) in cleared {
                        self.release(id, &subject, version);
                    }
                }
            }
            Key::Noop { .. } => {}
        }
    }

    /// The schema with `id` in `context`.
    pub fn schema(&self, context: &str, id: i32) -> Option<&StoredSchema> {
        self.schemas.get(&(context.to_string(), id))
    }

    /// The schema with `id` in the context of `subject`.
    pub fn schema_for(&self, subject: &str, id: i32) -> Option<&StoredSchema> {
        self.schema(context_of(subject), id)
    }

    /// Every schema id of `context`, ascending.
    pub fn ids(&self, context: &str) -> impl DoubleEndedIterator<Item = i32> + '_ {
        self.schemas
            .range((context.to_string(), i32::MIN)..=(context.to_string(), i32::MAX))
            .map(|((_, id), _)| *id)
    }

    /// The next free schema id of `context` (`None` once `i32::MAX` is taken).
    pub fn next_id(&self, context: &str) -> Option<i32> {
        self.ids(context)
            .next_back()
            .map_or(Some(1), |id| id.checked_add(1))
    }

    /// Every context with subjects, the default one always.
    pub fn contexts(&self) -> Vec<String> {
        let mut contexts: Vec<String> = std::iter::once(".".to_string())
            .chain(self.subjects.keys().map(|s| context_of(s).to_string()))
            .collect();
        contexts.sort();
        contexts.dedup();
        contexts
    }

    /// The compatibility level that applies to `subject`.
    pub fn level_for(&self, subject: &str) -> Level {
        self.inherited(subject, |s| s.compatibility)
            .unwrap_or(self.compatibility)
    }

    /// The mode that applies to `subject`.
    pub fn mode_for(&self, subject: &str) -> Mode {
        self.inherited(subject, |s| s.mode).unwrap_or(self.mode)
    }

    /// A setting of `subject`, else of its context (set on the subject `:.ctx:`), as
    /// Confluent looks them up before the global one.
    fn inherited<T>(&self, subject: &str, setting: impl Fn(&Subject) -> Option<T>) -> Option<T> {
        let own = self.subjects.get(subject).and_then(&setting);
        own.or_else(|| {
            let context = context_of(subject);
            let key = format!(":{context}:");
            (context != "." && subject != key)
                .then(|| self.subjects.get(&key).and_then(&setting))
                .flatten()
        })
    }

    fn release(&mut self, id: i32, subject: &str, version: i32) {
        let key = (context_of(subject).to_string(), id);
        if let Some(holders) = self.holders.get_mut(&key) {
            holders.remove(&(subject.to_string(), version));
            if holders.is_empty() {
                self.holders.remove(&key);
            }
        }
    }

    /// (subject, version) pairs that use schema `id` of `context`, in subject order.
    pub fn uses_of(&self, context: &str, id: i32, include_deleted: bool) -> Vec<(String, i32)> {
        self.holders
            .get(&(context.to_string(), id))
            .into_iter()
            .flatten()
            .filter(|(subject, version)| {
                include_deleted
                    || self
                        .subjects
                        .get(subject)
                        .and_then(|s| s.versions.get(version))
                        .is_some_and(|v| !v.deleted)
            })
            .cloned()
            .collect()
    }

    /// Whether any version, soft-deleted ones included, holds schema `id` of `context`.
    pub fn in_use(&self, context: &str, id: i32) -> bool {
        self.holders.contains_key(&(context.to_string(), id))
    }

    /// Ids of live schemas whose references point at `subject` `version`.
    pub fn referenced_by(&self, subject: &str, version: i32) -> Vec<i32> {
        self.schemas
            .iter()
            .filter(|((context, id), s)| {
                s.references
                    .iter()
                    .any(|r| r.subject == subject && r.version == version)
                    && !self.uses_of(context, *id, false).is_empty()
            })
            .map(|((_, id), _)| *id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confluent_records_apply_in_order() {
        let mut state = State::default();
        let key = |s: &str| s.as_bytes().to_vec();
        state.apply(
            &key(r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#),
            Some(br#"{"subject":"s","version":1,"id":7,"schema":"\"string\"","deleted":false}"#),
        );
        state.apply(
            &key(r#"{"keytype":"SCHEMA","subject":"s","version":2,"magic":1}"#),
            Some(br#"{"subject":"s","version":2,"id":8,"schemaType":"AVRO","schema":"\"int\"","deleted":false}"#),
        );
        state.apply(
            &key(r#"{"keytype":"CONFIG","subject":null,"magic":0}"#),
            Some(br#"{"compatibilityLevel":"FULL"}"#),
        );
        state.apply(
            &key(r#"{"keytype":"CONFIG","subject":"s","magic":0}"#),
            Some(br#"{"compatibilityLevel":"NONE"}"#),
        );
        state.apply(&key(r#"{"keytype":"NOOP","magic":0}"#), None);
        state.apply(b"garbage", Some(b"{}"));
        assert_eq!(state.next_id("."), Some(9));
        assert_eq!(state.next_id(".other"), Some(1));
        assert_eq!(state.level_for("s"), Level::None);
        assert_eq!(state.level_for("other"), Level::Full);
        assert_eq!(state.subjects["s"].live().count(), 2);

        state.apply(
            &key(r#"{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}"#),
            Some(br#"{"subject":"s","version":1}"#),
        );
        assert_eq!(
            state.subjects["s"]
                .live()
                .map(|(n, _)| n)
                .collect::<Vec<_>>(),
            [2]
        );
        assert!(state.uses_of(".", 7, false).is_empty());
        assert_eq!(state.uses_of(".", 7, true), [("s".to_string(), 1)]);
        assert!(
            state.in_use(".", 7),
            "soft-deleted versions still hold their id"
        );
        state.apply(
            &key(r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#),
            None,
        );
        assert!(!state.in_use(".", 7), "a hard delete releases the id");
        assert!(!state.subjects["s"].versions.contains_key(&1));
        assert_eq!(state.uses_of(".", 8, false), [("s".to_string(), 2)]);
    }

    #[test]
    fn contexts_number_their_schemas_apart() {
        assert_eq!(context_of("rides-value"), ".");
        assert_eq!(context_of(":.staging:rides-value"), ".staging");
        assert_eq!(context_of(":no-dot:x"), ".");
        let mut state = State::default();
        for (subject, id) in [("a", 1), (":.staging:a", 1), (":.staging:b", 2)] {
            let key =
                format!(r#"{{"keytype":"SCHEMA","subject":"{subject}","version":1,"magic":1}}"#);
            let value =
                format!(r#"{{"subject":"{subject}","version":1,"id":{id},"schema":"\"int\""}}"#);
            state.apply(key.as_bytes(), Some(value.as_bytes()));
        }
        assert_eq!(state.next_id("."), Some(2));
        assert_eq!(state.next_id(".staging"), Some(3));
        assert_eq!(
            state.uses_of(".staging", 1, false),
            [(":.staging:a".to_string(), 1)]
        );
        assert_eq!(state.contexts(), [".", ".staging"]);
    }

    #[test]
    fn keys_serialize_as_confluent_writes_them() {
        let key = Key::Schema {
            subject: "rides-value".into(),
            version: 1,
            magic: 1,
        };
        assert_eq!(
            serde_json::to_string(&key).unwrap(),
            r#"{"keytype":"SCHEMA","subject":"rides-value","version":1,"magic":1}"#
        );
        let config = Key::Config {
            subject: None,
            magic: 0,
        };
        assert_eq!(
            serde_json::to_string(&config).unwrap(),
            r#"{"keytype":"CONFIG","subject":null,"magic":0}"#
        );
        let value = SchemaValue {
            subject: "s".into(),
            version: 1,
            id: 1,
            schema: "\"string\"".into(),
            schema_type: SchemaType::Avro,
            references: vec![],
            deleted: false,
        };
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"{"subject":"s","version":1,"id":1,"schema":"\"string\"","deleted":false}"#
        );
    }
}
