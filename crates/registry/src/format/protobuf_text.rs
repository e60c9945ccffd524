//! Writes a `FileDescriptorProto` back as `.proto` text: what the registry stores and shows for
//! schemas that serializers register as base64 descriptors. Compiling the text gives the same
//! descriptor again (up to derived `json_name`s), which the round-trip tests check.

use std::fmt::Write as _;

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    ServiceDescriptorProto,
};

/// The `.proto` text of `file`.
pub fn to_text(file: &FileDescriptorProto) -> String {
    let mut out = String::new();
    let proto3 = file.syntax() == "proto3";
    let _ = writeln!(
        out,
        "syntax = \"{}\";",
        if proto3 { "proto3" } else { "proto2" }
    );
    if !file.package().is_empty() {
        let _ = writeln!(out, "package {};", file.package());
    }
    for (i, import) in file.dependency.iter().enumerate() {
        let index = i32::try_from(i).unwrap_or(i32::MAX);
        let modifier = if file.public_dependency.contains(&index) {
            "public "
        } else if file.weak_dependency.contains(&index) {
            "weak "
        } else {
            ""
        };
        let _ = writeln!(out, "import {modifier}{};", quote(import));
    }
    if let Some(o) = &file.options {
        let mut option = |name: &str, value: String| {
            let _ = writeln!(out, "option {name} = {value};");
        };
        if let Some(v) = &o.java_package {
            option("java_package", quote(v));
        }
        if let Some(v) = &o.java_outer_classname {
            option("java_outer_classname", quote(v));
        }
        if let Some(v) = o.java_multiple_files {
            option("java_multiple_files", v.to_string());
        }
        if let Some(v) = &o.go_package {
            option("go_package", quote(v));
        }
        if let Some(v) = &o.csharp_namespace {
            option("csharp_namespace", quote(v));
        }
    }
    for e in &file.enum_type {
        out.push('\n');
        write_enum(&mut out, e, 0);
    }
    for m in &file.message_type {
        out.push('\n');
        write_message(&mut out, m, proto3, 0);
    }
    for s in &file.service {
        out.push('\n');
        write_service(&mut out, s);
    }
    out
}

fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_enum(out: &mut String, e: &EnumDescriptorProto, depth: usize) {
    indent(out, depth);
    let _ = writeln!(out, "enum {} {{", e.name());
    if e.options.as_ref().is_some_and(|o| o.allow_alias()) {
        indent(out, depth + 1);
        out.push_str("option allow_alias = true;\n");
    }
    for v in &e.value {
        indent(out, depth + 1);
        let _ = writeln!(out, "{} = {};", v.name(), v.number());
    }
    for r in &e.reserved_range {
        indent(out, depth + 1);
        let _ = writeln!(out, "reserved {};", range(r.start(), r.end(), false));
    }
    if !e.reserved_name.is_empty() {
        indent(out, depth + 1);
        let names: Vec<String> = e.reserved_name.iter().map(|n| quote(n)).collect();
        let _ = writeln!(out, "reserved {};", names.join(", "));
    }
    indent(out, depth);
    out.push_str("}\n");
}

/// A reserved range; message ranges are end-exclusive, enum ranges inclusive.
fn range(start: i32, end: i32, exclusive: bool) -> String {
    let last = if exclusive { end - 1 } else { end };
    if last == start {
        start.to_string()
    } else if (exclusive && last >= 536_870_911) || last == i32::MAX {
        format!("{start} to max")
    } else {
        format!("{start} to {last}")
    }
}

fn scalar_name(t: Type) -> &'static str {
    match t {
        Type::Double => "double",
        Type::Float => "float",
        Type::Int64 => "int64",
        Type::Uint64 => "uint64",
        Type::Int32 => "int32",
        Type::Fixed64 => "fixed64",
        Type::Fixed32 => "fixed32",
        Type::Bool => "bool",
        Type::String => "string",
        Type::Bytes => "bytes",
        Type::Uint32 => "uint32",
        Type::Sfixed32 => "sfixed32",
        Type::Sfixed64 => "sfixed64",
        Type::Sint32 => "sint32",
        Type::Sint64 => "sint64",
        Type::Group | Type::Message | Type::Enum => "",
    }
}

fn type_of(field: &FieldDescriptorProto) -> String {
    match field.r#type() {
        Type::Message | Type::Enum | Type::Group => field.type_name().to_string(),
        t => scalar_name(t).to_string(),
    }
}

/// The map entry a field uses, if it is a map field.
fn map_entry<'a>(
    message: &'a DescriptorProto,
    field: &FieldDescriptorProto,
) -> Option<&'a DescriptorProto> {
    if field.label() != Label::Repeated || field.r#type() != Type::Message {
        return None;
    }
    let entry_name = field.type_name().rsplit('.').next()?;
    message
        .nested_type
        .iter()
        .find(|n| n.name() == entry_name && n.options.as_ref().is_some_and(|o| o.map_entry()))
}

fn write_field(
    out: &mut String,
    message: &DescriptorProto,
    field: &FieldDescriptorProto,
    proto3: bool,
    in_oneof: bool,
    depth: usize,
) {
    indent(out, depth);
    if let Some(entry) = map_entry(message, field) {
        let part = |n: i32| entry.field.iter().find(|f| f.number() == n).map(type_of);
        let _ = write!(
            out,
            "map<{}, {}> {} = {}",
            part(1).unwrap_or_default(),
            part(2).unwrap_or_default(),
            field.name(),
            field.number()
        );
    } else {
        let label = match field.label() {
            _ if in_oneof => "",
            Label::Repeated => "repeated ",
            Label::Required => "required ",
            Label::Optional if !proto3 || field.proto3_optional() => "optional ",
            Label::Optional => "",
        };
        let _ = write!(
            out,
            "{label}{} {} = {}",
            type_of(field),
            field.name(),
            field.number()
        );
    }
    let mut options = Vec::new();
    if let Some(default) = &field.default_value {
        let value = match field.r#type() {
            Type::String | Type::Bytes => quote(default),
            _ => default.clone(),
        };
        options.push(format!("default = {value}"));
    }
    if let Some(o) = &field.options {
        if let Some(packed) = o.packed {
            options.push(format!("packed = {packed}"));
        }
        if o.deprecated() {
            options.push("deprecated = true".to_string());
        }
    }
    if !options.is_empty() {
        let _ = write!(out, " [{}]", options.join(", "));
    }
    out.push_str(";\n");
}

fn write_message(out: &mut String, message: &DescriptorProto, proto3: bool, depth: usize) {
    indent(out, depth);
    let _ = writeln!(out, "message {} {{", message.name());
    let oneof_of = |f: &FieldDescriptorProto| {
        f.oneof_index
            .filter(|_| !f.proto3_optional())
            .and_then(|i| usize::try_from(i).ok())
    };
    let mut written_oneofs = Vec::new();
    for field in &message.field {
        match oneof_of(field) {
            None => write_field(out, message, field, proto3, false, depth + 1),
            Some(index) if !written_oneofs.contains(&index) => {
                written_oneofs.push(index);
                indent(out, depth + 1);
                let name = message.oneof_decl.get(index).map_or("", |o| o.name());
                let _ = writeln!(out, "oneof {name} {{");
                for member in message.field.iter().filter(|f| oneof_of(f) == Some(index)) {
                    write_field(out, message, member, proto3, true, depth + 2);
                }
                indent(out, depth + 1);
                out.push_str("}\n");
            }
            Some(_) => {}
        }
    }
    for nested in &message.nested_type {
        if nested.options.as_ref().is_some_and(|o| o.map_entry()) {
            continue;
        }
        write_message(out, nested, proto3, depth + 1);
    }
    for e in &message.enum_type {
        write_enum(out, e, depth + 1);
    }
    for r in &message.reserved_range {
        indent(out, depth + 1);
        let _ = writeln!(out, "reserved {};", range(r.start(), r.end(), true));
    }
    if !message.reserved_name.is_empty() {
        indent(out, depth + 1);
        let names: Vec<String> = message.reserved_name.iter().map(|n| quote(n)).collect();
        let _ = writeln!(out, "reserved {};", names.join(", "));
    }
    for r in &message.extension_range {
        indent(out, depth + 1);
        let _ = writeln!(out, "extensions {};", range(r.start(), r.end(), true));
    }
    indent(out, depth);
    out.push_str("}\n");
}

fn write_service(out: &mut String, service: &ServiceDescriptorProto) {
    let _ = writeln!(out, "service {} {{", service.name());
    for m in &service.method {
        let stream = |yes: bool| if yes { "stream " } else { "" };
        let _ = writeln!(
            out,
            "  rpc {}({}{}) returns ({}{});",
            m.name(),
            stream(m.client_streaming()),
            m.input_type(),
            stream(m.server_streaming()),
            m.output_type()
        );
    }
    out.push_str("}\n");
}
