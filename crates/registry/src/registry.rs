//! The registry's operations, with Confluent's rules: registering (same schema → same id,
//! compatibility checked against the subject's level, ids shared across subjects), lookups,
//! soft and hard deletes, compatibility levels and modes. Reads come from the [`State`];
//! writes are serialized and go through the [`Store`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::compat::Level;
use crate::error::RegistryError;
use crate::format::{Dependency, Parsed, SchemaType};
use crate::state::{
    ConfigValue, DeleteSubjectValue, Key, Mode, ModeValue, Reference, SchemaValue, State,
    StoredSchema, context_of,
};
use crate::store::Store;

/// A schema as a registration or lookup request carries it.
#[derive(Debug, Clone, Default)]
pub struct SchemaInput {
    /// The schema text.
    pub schema: String,
    /// Its format.
    pub schema_type: SchemaType,
    /// References.
    pub references: Vec<Reference>,
    /// An explicit id (IMPORT mode).
    pub id: Option<i32>,
    /// An explicit version (IMPORT mode).
    pub version: Option<i32>,
}

/// A subject's version as the API returns it.
#[derive(Debug, Clone)]
pub struct VersionView {
    /// Subject.
    pub subject: String,
    /// Version.
    pub version: i32,
    /// Schema id.
    pub id: i32,
    /// The schema.
    pub schema: StoredSchema,
}

/// The registry. `Sync`; writes are serialized by an async lock.
#[derive(Debug)]
pub struct Registry {
    store: Store,
    writes: tokio::sync::Mutex<()>,
    compiled: std::sync::Mutex<HashMap<StoredSchema, Arc<Compiled>>>,
}

/// A stored schema, parsed, and its canonical form.
#[derive(Debug)]
struct Compiled {
    parsed: Parsed,
    canonical: String,
}

impl std::borrow::Borrow<Parsed> for Arc<Compiled> {
    fn borrow(&self) -> &Parsed {
        &self.parsed
    }
}

/// A version in a path: a number or `latest` (`-1`).
pub fn parse_version(text: &str) -> Result<Option<i32>, RegistryError> {
    match text {
        "latest" | "-1" => Ok(None),
        n => n
            .parse::<i32>()
            .ok()
            .filter(|v| *v >= 1)
            .map(Some)
            .ok_or_else(|| RegistryError::InvalidVersion(text.to_string())),
    }
}

impl Registry {
    /// A registry on `store`.
    pub fn new(store: Store) -> Registry {
        Registry {
            store,
            writes: tokio::sync::Mutex::new(()),
            compiled: std::sync::Mutex::default(),
        }
    }

    /// Returns once every record written to the schemas topic so far has been read (a NOOP
    /// record is written and read back, as Confluent's leader does).
    pub async fn catch_up(&self) -> Result<(), RegistryError> {
        self.store.write(&Key::Noop { magic: 0 }, None::<&()>).await
    }

    /// The current state.
    pub fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.store.read()
    }

    /// Refuses changes to a subject in READONLY mode.
    fn writable(state: &State, subject: &str) -> Result<(), RegistryError> {
        if state.mode_for(subject) == Mode::Readonly {
            return Err(RegistryError::OperationNotPermitted(format!(
                "Subject {subject} is in read-only mode"
            )));
        }
        Ok(())
    }

    /// The schemas `references` name, with the schemas those refer to in turn (each once,
    /// dependencies before the schemas that use them).
    fn dependencies(
        state: &State,
        references: &[Reference],
    ) -> Result<Vec<Dependency>, RegistryError> {
        fn visit(
            state: &State,
            references: &[Reference],
            seen: &mut Vec<(String, i32)>,
            out: &mut Vec<Dependency>,
        ) -> Result<(), RegistryError> {
            for r in references {
                let key = (r.subject.clone(), r.version);
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                let stored = state
                    .subjects
                    .get(&r.subject)
                    .and_then(|s| s.versions.get(&r.version))
                    .and_then(|v| state.schema_for(&r.subject, v.id))
                    .ok_or_else(|| {
                        RegistryError::InvalidSchema(format!(
                            "Invalid reference {}: subject '{}' has no version {}",
                            r.name, r.subject, r.version
                        ))
                    })?;
                visit(state, &stored.references, seen, out)?;
                out.push(Dependency {
                    name: r.name.clone(),
                    schema: stored.schema.clone(),
                });
            }
            Ok(())
        }
        let mut out = Vec::new();
        visit(state, references, &mut Vec::new(), &mut out)?;
        Ok(out)
    }

    /// A stored schema parsed, with its canonical form: parsed once, then cached (a stored
    /// schema never changes), so registering and looking up stay cheap with many schemas.
    fn compiled(&self, state: &State, schema: &StoredSchema) -> Option<Arc<Compiled>> {
        let cached = self
            .compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(schema)
            .cloned();
        if cached.is_some() {
            return cached;
        }
        let refs = Self::dependencies(state, &schema.references).ok()?;
        let parsed = Parsed::parse(schema.schema_type, &schema.schema, &refs).ok()?;
        let compiled = Arc::new(Compiled {
            canonical: parsed.canonical(),
            parsed,
        });
        self.compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(schema.clone(), compiled.clone());
        Some(compiled)
    }

    fn parse_input(state: &State, input: &SchemaInput) -> Result<Parsed, RegistryError> {
        let refs = Self::dependencies(state, &input.references)?;
        Parsed::parse(input.schema_type, &input.schema, &refs)
    }

    /// The text a registration stores: the canonical form when normalizing; for Protobuf
    /// descriptors (as serializers send them) and normalized Protobuf, `.proto` text written
    /// from the descriptor — kept only if it compiles back to the same schema.
    fn text_to_store(
        state: &State,
        input: &SchemaInput,
        parsed: &Parsed,
        canonical: &str,
        normalize: bool,
    ) -> String {
        match parsed {
            Parsed::Protobuf(p) if normalize || !p.from_text() => {
                let text = p.text();
                let same = Self::dependencies(state, &input.references)
                    .and_then(|deps| Parsed::parse(SchemaType::Protobuf, &text, &deps))
                    .is_ok_and(|again| again.canonical() == canonical);
                if same { text } else { input.schema.clone() }
            }
            _ if normalize => canonical.to_string(),
            _ => input.schema.clone(),
        }
    }

    /// A stored schema's text in the form `?format=` asks for (`serialized`: a Protobuf schema
    /// as a base64-encoded `FileDescriptorProto`); as stored otherwise.
    pub fn schema_text(&self, schema: &StoredSchema, format: Option<&str>) -> String {
        let Some(format) = format.filter(|_| schema.schema_type == SchemaType::Protobuf) else {
            return schema.schema.clone();
        };
        self.compiled(&self.state(), schema)
            .and_then(|c| c.parsed.formatted(format))
            .unwrap_or_else(|| schema.schema.clone())
    }

    /// The id of a stored schema equal to `parsed` (same format, canonical text and
    /// references) among `ids` of `context`.
    fn find_same(
        &self,
        state: &State,
        context: &str,
        canonical: &str,
        input: &SchemaInput,
        ids: impl Iterator<Item = i32>,
    ) -> Option<i32> {
        ids.into_iter().find(|id| {
            state.schema(context, *id).is_some_and(|s| {
                s.schema_type == input.schema_type
                    && s.references == input.references
                    && self
                        .compiled(state, s)
                        .is_some_and(|c| c.canonical == canonical)
            })
        })
    }

    /// Registers `input` under `subject`; returns its id (an existing one when the subject
    /// or another subject already has this schema).
    pub async fn register(
        &self,
        subject: &str,
        input: SchemaInput,
        normalize: bool,
    ) -> Result<i32, RegistryError> {
        let _serialized = self.writes.lock().await;
        let context = context_of(subject);
        let (value, id) = {
            let state = self.state();
            let mode = state.mode_for(subject);
            Self::writable(&state, subject)?;
            if input.id.is_some_and(|id| id < 1) || input.version.is_some_and(|v| v < 1) {
                return Err(RegistryError::BadRequest(
                    422,
                    "Explicit ids and versions must be 1 or more".into(),
                ));
            }
            if (input.id.is_some() || input.version.is_some()) && mode != Mode::Import {
                return Err(RegistryError::OperationNotPermitted(format!(
                    "Overwrite new schema with id {} is not permitted outside IMPORT mode.",
                    input.id.unwrap_or(-1)
                )));
            }
            let parsed = Self::parse_input(&state, &input)?;
            let canonical = parsed.canonical();
            let live: Vec<(i32, i32)> = state
                .subjects
                .get(subject)
                .map(|s| s.live().map(|(n, v)| (n, v.id)).collect())
                .unwrap_or_default();
            if input.id.is_none()
                && let Some(id) = self.find_same(
                    &state,
                    context,
                    &canonical,
                    &input,
                    live.iter().map(|(_, id)| *id),
                )
            {
                return Ok(id);
            }
            if mode != Mode::Import {
                let earlier: Vec<Arc<Compiled>> = live
                    .iter()
                    .filter_map(|(_, id)| state.schema(context, *id))
                    .filter_map(|s| self.compiled(&state, s))
                    .collect();
                let problems = state.level_for(subject).check(&parsed, &earlier);
                if !problems.is_empty() {
                    return Err(RegistryError::Incompatible {
                        subject: subject.to_string(),
                        details: problems.join("; "),
                    });
                }
            }
            let id = match input.id {
                Some(id) => {
                    if let Some(existing) = state.schema(context, id)
                        && self
                            .compiled(&state, existing)
                            .is_none_or(|c| c.canonical != canonical)
                    {
                        return Err(RegistryError::OperationNotPermitted(format!(
                            "Overwrite new schema with id {id} is not permitted."
                        )));
                    }
                    id
                }
                None => {
                    match self.find_same(&state, context, &canonical, &input, state.ids(context)) {
                        Some(id) => id,
                        None => state.next_id(context).ok_or_else(|| {
                            RegistryError::Store("schema ids are exhausted".into())
                        })?,
                    }
                }
            };
            if let Some(v) = input.version
                && let Some(existing) = state.subjects.get(subject).and_then(|s| s.versions.get(&v))
            {
                if existing.id == id && !existing.deleted {
                    return Ok(id);
                }
                return Err(RegistryError::OperationNotPermitted(format!(
                    "Overwrite new schema with version {v} of subject {subject} is not permitted."
                )));
            }
            let version = match input.version {
                Some(v) => v,
                None => state
                    .subjects
                    .get(subject)
                    .and_then(|s| s.versions.keys().next_back().copied())
                    .unwrap_or(0)
                    .checked_add(1)
                    .ok_or_else(|| RegistryError::Store("versions are exhausted".into()))?,
            };
            let schema = Self::text_to_store(&state, &input, &parsed, &canonical, normalize);
            let value = SchemaValue {
                subject: subject.to_string(),
                version,
                id,
                schema,
                schema_type: input.schema_type,
                references: input.references.clone(),
                deleted: false,
            };
            (value, id)
        };
        let key = Key::Schema {
            subject: subject.to_string(),
            version: value.version,
            magic: 1,
        };
        self.store.write(&key, Some(&value)).await?;
        Ok(id)
    }

    /// The version of `subject` that holds `input`.
    pub fn lookup(
        &self,
        subject: &str,
        input: &SchemaInput,
        include_deleted: bool,
    ) -> Result<VersionView, RegistryError> {
        let state = self.state();
        let Some(s) = state
            .subjects
            .get(subject)
            .filter(|s| !s.versions.is_empty())
        else {
            return Err(RegistryError::SubjectNotFound(subject.to_string()));
        };
        let parsed = Self::parse_input(&state, input)?;
        let canonical = parsed.canonical();
        for (version, v) in s.versions.iter().rev() {
            if v.deleted && !include_deleted {
                continue;
            }
            let Some(stored) = state.schema_for(subject, v.id) else {
                continue;
            };
            if stored.schema_type == input.schema_type
                && stored.references == input.references
                && self
                    .compiled(&state, stored)
                    .is_some_and(|c| c.canonical == canonical)
            {
                return Ok(VersionView {
                    subject: subject.to_string(),
                    version: *version,
                    id: v.id,
                    schema: stored.clone(),
                });
            }
        }
        Err(RegistryError::SchemaNotFound(None))
    }

    /// A version of `subject` (`None`: the latest live one).
    pub fn version(
        &self,
        subject: &str,
        version: Option<i32>,
        include_deleted: bool,
    ) -> Result<VersionView, RegistryError> {
        let state = self.state();
        let s = state
            .subjects
            .get(subject)
            .filter(|s| s.versions.values().any(|v| include_deleted || !v.deleted))
            .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_string()))?;
        let (number, v) = match version {
            None => s
                .versions
                .iter()
                .rev()
                .find(|(_, v)| include_deleted || !v.deleted)
                .map(|(n, v)| (*n, *v)),
            Some(n) => s
                .versions
                .get(&n)
                .filter(|v| include_deleted || !v.deleted)
                .map(|v| (n, *v)),
        }
        .ok_or_else(|| {
            RegistryError::VersionNotFound(version.map_or("latest".into(), |n| n.to_string()))
        })?;
        let schema = state
            .schema_for(subject, v.id)
            .cloned()
            .ok_or_else(|| RegistryError::SchemaNotFound(Some(v.id.to_string())))?;
        Ok(VersionView {
            subject: subject.to_string(),
            version: number,
            id: v.id,
            schema,
        })
    }

    /// Soft-deletes (or, once soft-deleted, permanently deletes) one version.
    pub async fn delete_version(
        &self,
        subject: &str,
        version: Option<i32>,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        let _serialized = self.writes.lock().await;
        let (key, value) = {
            let state = self.state();
            Self::writable(&state, subject)?;
            let s = state
                .subjects
                .get(subject)
                .filter(|s| !s.versions.is_empty())
                .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_string()))?;
            let (number, v) = match version {
                Some(n) => s.versions.get(&n).map(|v| (n, *v)),
                None => s.live().next_back(),
            }
            .ok_or_else(|| {
                RegistryError::VersionNotFound(version.map_or("latest".into(), |n| n.to_string()))
            })?;
            if !state.referenced_by(subject, number).is_empty() {
                return Err(RegistryError::ReferenceExists(subject.to_string(), number));
            }
            let key = Key::Schema {
                subject: subject.to_string(),
                version: number,
                magic: 1,
            };
            if permanent {
                if !v.deleted {
                    return Err(RegistryError::VersionNotSoftDeleted(
                        subject.to_string(),
                        number,
                    ));
                }
                (key, None)
            } else {
                if v.deleted {
                    return Err(RegistryError::VersionSoftDeleted(
                        subject.to_string(),
                        number,
                    ));
                }
                let stored = state
                    .schema_for(subject, v.id)
                    .cloned()
                    .unwrap_or(StoredSchema {
                        schema_type: SchemaType::Avro,
                        schema: String::new(),
                        references: Vec::new(),
                    });
                let value = SchemaValue {
                    subject: subject.to_string(),
                    version: number,
                    id: v.id,
                    schema: stored.schema,
                    schema_type: stored.schema_type,
                    references: stored.references,
                    deleted: true,
                };
                (key, Some(value))
            }
        };
        let number = match &key {
            Key::Schema { version, .. } => *version,
            _ => unreachable!("a schema key"),
        };
        self.store.write(&key, value.as_ref()).await?;
        Ok(number)
    }

    /// Soft-deletes every live version of `subject`, or permanently deletes a subject whose
    /// versions are all soft-deleted. Returns the versions deleted.
    pub async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, RegistryError> {
        let _serialized = self.writes.lock().await;
        let versions: Vec<(i32, bool)> = {
            let state = self.state();
            Self::writable(&state, subject)?;
            let s = state
                .subjects
                .get(subject)
                .filter(|s| !s.versions.is_empty())
                .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_string()))?;
            for (n, _) in s.live() {
                if !state.referenced_by(subject, n).is_empty() {
                    return Err(RegistryError::ReferenceExists(subject.to_string(), n));
                }
            }
            s.versions.iter().map(|(n, v)| (*n, v.deleted)).collect()
        };
        let live: Vec<i32> = versions
            .iter()
            .filter(|(_, d)| !d)
            .map(|(n, _)| *n)
            .collect();
        if permanent {
            if !live.is_empty() {
                return Err(RegistryError::SubjectNotSoftDeleted(subject.to_string()));
            }
            let all: Vec<i32> = versions.iter().map(|(n, _)| *n).collect();
            for n in &all {
                let key = Key::Schema {
                    subject: subject.to_string(),
                    version: *n,
                    magic: 1,
                };
                self.store.write(&key, None::<&SchemaValue>).await?;
            }
            return Ok(all);
        }
        let Some(last) = live.last().copied() else {
            return Err(RegistryError::SubjectSoftDeleted(subject.to_string()));
        };
        let key = Key::DeleteSubject {
            subject: subject.to_string(),
            magic: 0,
        };
        let value = DeleteSubjectValue {
            subject: subject.to_string(),
            version: last,
        };
        self.store.write(&key, Some(&value)).await?;
        Ok(live)
    }

    /// Sets (or with `None` removes) the compatibility level of `subject`, or the global one.
    pub async fn set_compatibility(
        &self,
        subject: Option<&str>,
        level: Option<Level>,
    ) -> Result<(), RegistryError> {
        let _serialized = self.writes.lock().await;
        let key = Key::Config {
            subject: subject.map(str::to_string),
            magic: 0,
        };
        let value = level.map(|compatibility_level| ConfigValue {
            compatibility_level,
        });
        self.store.write(&key, value.as_ref()).await
    }

    /// Sets (or with `None` removes) the mode of `subject`, or the global one.
    pub async fn set_mode(
        &self,
        subject: Option<&str>,
        mode: Option<Mode>,
    ) -> Result<(), RegistryError> {
        let _serialized = self.writes.lock().await;
        let key = Key::Mode {
            subject: subject.map(str::to_string),
            magic: 0,
        };
        let value = mode.map(|mode| ModeValue { mode });
        self.store.write(&key, value.as_ref()).await
    }

    /// Whether `input` may be registered under `subject` against one version (`Some`) or all
    /// of them (`None` for "all", as the /versions endpoint does); the reasons when not.
    pub fn check_compatibility(
        &self,
        subject: &str,
        version: Option<Option<i32>>,
        input: &SchemaInput,
    ) -> Result<Vec<String>, RegistryError> {
        let state = self.state();
        let parsed = Self::parse_input(&state, input)?;
        let s = state.subjects.get(subject);
        let ids: Vec<i32> = match version {
            None => s
                .map(|s| s.live().map(|(_, v)| v.id).collect())
                .unwrap_or_default(),
            Some(wanted) => {
                let s = s
                    .filter(|s| s.live().next().is_some())
                    .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_string()))?;
                let found = match wanted {
                    None => s.live().next_back(),
                    Some(n) => s.live().find(|(v, _)| *v == n),
                };
                let (_, v) = found.ok_or_else(|| {
                    RegistryError::VersionNotFound(
                        wanted.map_or("latest".into(), |n| n.to_string()),
                    )
                })?;
                vec![v.id]
            }
        };
        let earlier: Vec<Arc<Compiled>> = ids
            .iter()
            .filter_map(|id| state.schema_for(subject, *id))
            .filter_map(|s| self.compiled(&state, s))
            .collect();
        let level = state.level_for(subject);
        // Against one named version, the level's direction applies to that version alone.
        let level = match (version, level) {
            (Some(_), Level::BackwardTransitive) => Level::Backward,
            (Some(_), Level::ForwardTransitive) => Level::Forward,
            (Some(_), Level::FullTransitive) => Level::Full,
            (_, level) => level,
        };
        Ok(level.check(&parsed, &earlier))
    }
}
