//! Confluent's Protobuf compatibility rules: the differences from an original file (the
//! writer's) to an update (the reader's), each compatible or not, by Confluent's names.
//!
//! Messages and enums are matched by name within the package; fields by number. Compatible:
//! adding or removing optional fields, renaming fields, adding messages and enums, changing
//! enum constants, changing a scalar within a wire-compatible group (int32 / uint32 / int64 /
//! uint64 / bool / enums, sint32 / sint64, string / bytes, fixed32 / sfixed32, fixed64 /
//! sfixed64), switching between singular and repeated for strings, bytes and messages,
//! adding a field to a oneof, and moving one existing field into a new oneof. Incompatible:
//! a changed package, a removed message (readers address messages by index), a field whose kind (scalar, message) or
//! named type changes, a scalar change across groups, singular/repeated for numbers, adding
//! or removing a required field, removing a field from a oneof, moving several existing
//! fields into a new oneof or any into an existing one.

use std::collections::{BTreeMap, BTreeSet};

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorProto};

/// The incompatible differences from `original` to `update`; empty when the update reads
/// everything written with the original.
pub fn incompatibilities(
    original: &FileDescriptorProto,
    update: &FileDescriptorProto,
) -> Vec<String> {
    let mut out = Vec::new();
    if original.package() != update.package() {
        out.push("#/: PACKAGE_CHANGED".to_string());
    }
    let (o, u) = (Types::of(original), Types::of(update));
    for (name, message) in &o.messages {
        if message.options.as_ref().is_some_and(|opt| opt.map_entry()) {
            continue;
        }
        match u.messages.get(name) {
            None => out.push(format!("#/{name}: MESSAGE_REMOVED")),
            Some(after) => compare_message(name, message, &o, after, &u, &mut out),
        }
    }
    // Enums are not addressed by message indexes: removing an unused one is compatible, and
    // a field that used it reports its own type change.
    out
}

/// The messages of a file by name relative to its package (`Outer.Inner`).
struct Types<'a> {
    package: &'a str,
    messages: BTreeMap<String, &'a DescriptorProto>,
}

impl<'a> Types<'a> {
    fn of(file: &'a FileDescriptorProto) -> Types<'a> {
        let mut types = Types {
            package: file.package(),
            messages: BTreeMap::new(),
        };
        for m in &file.message_type {
            types.add(String::new(), m);
        }
        types
    }

    fn add(&mut self, prefix: String, message: &'a DescriptorProto) {
        let name = format!("{prefix}{}", message.name());
        for nested in &message.nested_type {
            self.add(format!("{name}."), nested);
        }
        self.messages.insert(name, message);
    }

    /// A field's type name relative to the package (`.taxi.Ride.Stop` → `Ride.Stop`).
    fn relative<'n>(&self, type_name: &'n str) -> &'n str {
        let name = type_name.trim_start_matches('.');
        if self.package.is_empty() {
            return name;
        }
        name.strip_prefix(self.package)
            .and_then(|n| n.strip_prefix('.'))
            .unwrap_or(name)
    }

    fn map_entry(&self, field: &FieldDescriptorProto) -> Option<&'a DescriptorProto> {
        if field.r#type() != Type::Message {
            return None;
        }
        self.messages
            .get(self.relative(field.type_name()))
            .copied()
            .filter(|m| m.options.as_ref().is_some_and(|o| o.map_entry()))
    }
}

/// Scalars that read each other's wire encoding.
fn scalar_group(t: Type) -> u8 {
    match t {
        Type::Int32 | Type::Uint32 | Type::Int64 | Type::Uint64 | Type::Bool | Type::Enum => 1,
        Type::Sint32 | Type::Sint64 => 2,
        Type::String | Type::Bytes => 3,
        Type::Fixed32 | Type::Sfixed32 => 4,
        Type::Fixed64 | Type::Sfixed64 => 5,
        Type::Float => 6,
        Type::Double => 7,
        Type::Message | Type::Group => 8,
    }
}

fn is_length_delimited(t: Type) -> bool {
    matches!(t, Type::String | Type::Bytes | Type::Message | Type::Group)
}

/// The real oneof a field belongs to (proto3 `optional` fields sit in synthetic ones).
fn oneof_of<'a>(message: &'a DescriptorProto, field: &FieldDescriptorProto) -> Option<&'a str> {
    if field.proto3_optional() {
        return None;
    }
    let index = usize::try_from(field.oneof_index?).ok()?;
    message.oneof_decl.get(index).map(|o| o.name())
}

fn compare_message(
    name: &str,
    o: &DescriptorProto,
    o_types: &Types<'_>,
    u: &DescriptorProto,
    u_types: &Types<'_>,
    out: &mut Vec<String>,
) {
    let by_number = |m: &DescriptorProto| -> BTreeMap<i32, FieldDescriptorProto> {
        m.field.iter().map(|f| (f.number(), f.clone())).collect()
    };
    let (fo, fu) = (by_number(o), by_number(u));
    for (number, before) in &fo {
        let path = format!("#/{name}/{number}");
        let Some(after) = fu.get(number) else {
            if before.label() == Label::Required {
                out.push(format!("{path}: REQUIRED_FIELD_REMOVED"));
            } else if oneof_of(o, before).is_some() {
                out.push(format!("{path}: ONEOF_FIELD_REMOVED"));
            }
            continue;
        };
        if let Some(change) = field_type_change(before, o_types, after, u_types) {
            out.push(format!("{path}: {change}"));
        }
        match (before.label(), after.label()) {
            (a, b) if a == b => {}
            (Label::Required, _) => out.push(format!("{path}: REQUIRED_FIELD_REMOVED")),
            (_, Label::Required) => out.push(format!("{path}: REQUIRED_FIELD_ADDED")),
            _ if is_length_delimited(before.r#type()) && is_length_delimited(after.r#type()) => {}
            _ => out.push(format!("{path}: FIELD_NUMERIC_LABEL_CHANGED")),
        }
    }
    for (number, added) in &fu {
        if !fo.contains_key(number) && added.label() == Label::Required {
            out.push(format!("#/{name}/{number}: REQUIRED_FIELD_ADDED"));
        }
    }
    // Oneofs: fields that existed before may not pile into one.
    let original_oneofs: BTreeSet<&str> = o.oneof_decl.iter().map(|d| d.name()).collect();
    let mut moved: BTreeMap<&str, usize> = BTreeMap::new();
    for (number, after) in &fu {
        let Some(oneof) = oneof_of(u, after) else {
            continue;
        };
        let Some(before) = fo.get(number) else {
            continue;
        };
        let was_in = oneof_of(o, before);
        if original_oneofs.contains(oneof) {
            if was_in != Some(oneof) {
                out.push(format!("#/{name}/{number}: FIELD_MOVED_TO_EXISTING_ONEOF"));
            }
        } else {
            *moved.entry(oneof).or_default() += 1;
        }
    }
    for (oneof, count) in moved {
        if count > 1 {
            out.push(format!("#/{name}/{oneof}: MULTIPLE_FIELDS_MOVED_TO_ONEOF"));
        }
    }
}

/// How a field's type changed, if incompatibly.
fn field_type_change(
    o: &FieldDescriptorProto,
    o_types: &Types<'_>,
    u: &FieldDescriptorProto,
    u_types: &Types<'_>,
) -> Option<&'static str> {
    let (to, tu) = (o.r#type(), u.r#type());
    let named = |t: Type| matches!(t, Type::Message | Type::Group | Type::Enum);
    if let (Some(eo), Some(eu)) = (o_types.map_entry(o), u_types.map_entry(u)) {
        // Maps: compare keys and values, whatever the entry messages are called.
        let entry_field =
            |m: &DescriptorProto, n: i32| m.field.iter().find(|f| f.number() == n).cloned();
        for n in [1, 2] {
            if let (Some(a), Some(b)) = (entry_field(eo, n), entry_field(eu, n))
                && let Some(change) = field_type_change(&a, o_types, &b, u_types)
            {
                return Some(change);
            }
        }
        return None;
    }
    match (to, tu) {
        (Type::Message | Type::Group, Type::Message | Type::Group) | (Type::Enum, Type::Enum) => {
            (o_types.relative(o.type_name()) != u_types.relative(u.type_name()))
                .then_some("FIELD_NAMED_TYPE_CHANGED")
        }
        (Type::Message | Type::Group, _) | (_, Type::Message | Type::Group) => {
            Some("FIELD_KIND_CHANGED")
        }
        _ if scalar_group(to) == scalar_group(tu) => None,
        _ if named(to) || named(tu) => Some("FIELD_KIND_CHANGED"),
        _ => Some("FIELD_SCALAR_KIND_CHANGED"),
    }
}
