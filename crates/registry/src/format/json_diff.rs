//! Confluent's JSON Schema compatibility rules: the differences from an original schema (the
//! writer's) to an update (the reader's), each of which is compatible or not, as in Confluent's
//! `SchemaDiff` table. Incompatible differences are reported with Confluent's names and the
//! JSON pointer where they occur.
//!
//! The update must accept every instance the original accepts: relaxing a constraint
//! (`maxLength` raised, a `required` entry dropped, `integer` widened to `number`, an `enum`
//! extended, a `oneOf` alternative added) is compatible; tightening one is not. Objects follow
//! the content-model rules: a property added to an open object (no `additionalProperties:
//! false`) is incompatible unless its schema is empty, because old data may hold anything
//! under that name; a property removed from a closed object is incompatible; an optional
//! property added to a closed object is compatible. Arrays follow the same rules for tuple
//! items. `$ref`s are followed (local pointers and referenced schemas by name); a recursive
//! pair already being compared counts as compatible.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// One schema document and the referenced documents its `$ref`s may name.
#[derive(Clone, Copy)]
pub struct Document<'a> {
    root: &'a Value,
    dependencies: &'a BTreeMap<String, Value>,
}

impl<'a> Document<'a> {
    /// A document with its dependencies by reference name.
    pub fn new(root: &'a Value, dependencies: &'a BTreeMap<String, Value>) -> Document<'a> {
        Document { root, dependencies }
    }
}

/// A schema inside a document.
#[derive(Clone, Copy)]
struct Node<'a> {
    doc: Document<'a>,
    value: &'a Value,
}

static EMPTY: Value = Value::Bool(true);

/// How deep `$ref` chains and nesting are followed before a pair is taken as compatible.
const MAX_DEPTH: usize = 128;

/// How many schema pairs one check compares at most. Matching combined schemas compares every
/// pair of alternatives, so nested `anyOf`s grow the work geometrically; past this budget the
/// schemas are reported as too complex (incompatible) rather than holding the registry.
const MAX_COMPARISONS: usize = 200_000;

/// The incompatible differences from `original` to `update`; empty when `update` accepts
/// everything `original` accepts.
pub fn incompatibilities(original: Document<'_>, update: Document<'_>) -> Vec<String> {
    let mut diff = Diff {
        out: Vec::new(),
        in_progress: BTreeSet::new(),
        depth: 0,
        comparisons: 0,
    };
    diff.compare(
        Node {
            doc: original,
            value: original.root,
        },
        Node {
            doc: update,
            value: update.root,
        },
        "#",
    );
    if diff.comparisons > MAX_COMPARISONS {
        diff.out.push(format!(
            "#: the schemas are too complex to compare (more than {MAX_COMPARISONS} schema pairs)"
        ));
    }
    diff.out
}

struct Diff {
    out: Vec<String>,
    /// (original, update) pairs under comparison, by address: recursion stops on them.
    in_progress: BTreeSet<(usize, usize)>,
    depth: usize,
    comparisons: usize,
}

/// What kind of schema a node is, after `$ref`s are followed.
enum Kind<'a> {
    /// Accepts anything (`true`, `{}`, only annotations).
    Empty,
    /// Accepts nothing.
    False,
    Enum(&'a [Value]),
    Const(&'a Value),
    Combined(Criterion, Vec<Value>),
    Not(&'a Value),
    /// One JSON type and the object holding its keywords.
    Typed(&'a str, &'a Map<String, Value>),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Criterion {
    All,
    Any,
    One,
}

impl Criterion {
    fn is_sum(self) -> bool {
        self != Criterion::All
    }
}

/// Keywords that constrain nothing (`$defs` only matter through `$ref`s).
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "id",
    "$comment",
    "$defs",
    "definitions",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
];

const OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
];
const ARRAY_KEYWORDS: &[&str] = &[
    "items",
    "prefixItems",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
];
const STRING_KEYWORDS: &[&str] = &["minLength", "maxLength", "pattern"];
const NUMBER_KEYWORDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];

fn kind(value: &Value) -> Kind<'_> {
    let object = match value {
        Value::Bool(true) => return Kind::Empty,
        Value::Bool(false) => return Kind::False,
        Value::Object(o) => o,
        _ => return Kind::Empty,
    };
    if let Some(Value::Array(values)) = object.get("enum") {
        return Kind::Enum(values);
    }
    if let Some(value) = object.get("const") {
        return Kind::Const(value);
    }
    // A combinator beside other constraints is their conjunction: compare both parts.
    for keyword in ["allOf", "anyOf", "oneOf", "not"] {
        let Some(combined) = object.get(keyword) else {
            continue;
        };
        let others = object
            .keys()
            .any(|k| k != keyword && !ANNOTATIONS.contains(&k.as_str()));
        if others {
            let mut rest = object.clone();
            rest.remove(keyword);
            let mut only = Map::new();
            only.insert(keyword.to_string(), combined.clone());
            return Kind::Combined(
                Criterion::All,
                vec![Value::Object(rest), Value::Object(only)],
            );
        }
    }
    for (keyword, criterion) in [
        ("allOf", Criterion::All),
        ("anyOf", Criterion::Any),
        ("oneOf", Criterion::One),
    ] {
        if let Some(Value::Array(subs)) = object.get(keyword) {
            return Kind::Combined(criterion, subs.clone());
        }
    }
    if let Some(negated) = object.get("not") {
        return Kind::Not(negated);
    }
    match object.get("type") {
        Some(Value::String(t)) => Kind::Typed(t, object),
        Some(Value::Array(types)) if types.len() == 1 => match &types[0] {
            Value::String(t) => Kind::Typed(t, object),
            _ => Kind::Empty,
        },
        // Several types: one alternative per type, each with the same keywords.
        Some(Value::Array(types)) => Kind::Combined(
            Criterion::Any,
            types
                .iter()
                .map(|t| {
                    let mut alternative = object.clone();
                    alternative.insert("type".into(), t.clone());
                    Value::Object(alternative)
                })
                .collect(),
        ),
        _ => {
            let has = |keywords: &[&str]| keywords.iter().any(|k| object.contains_key(*k));
            if has(OBJECT_KEYWORDS) {
                Kind::Typed("object", object)
            } else if has(ARRAY_KEYWORDS) {
                Kind::Typed("array", object)
            } else if has(STRING_KEYWORDS) {
                Kind::Typed("string", object)
            } else if has(NUMBER_KEYWORDS) {
                Kind::Typed("number", object)
            } else {
                Kind::Empty
            }
        }
    }
}

/// Follows `$ref`s: local JSON pointers, and referenced documents by name.
fn resolve(mut node: Node<'_>) -> Node<'_> {
    for _ in 0..MAX_DEPTH {
        let Some(reference) = node.value.get("$ref").and_then(Value::as_str) else {
            return node;
        };
        let (location, pointer) = reference.split_once('#').unwrap_or((reference, ""));
        let doc = if location.is_empty() {
            node.doc
        } else {
            let Some(root) = super::json_schema::find_dependency(node.doc.dependencies, location)
            else {
                return Node {
                    doc: node.doc,
                    value: &EMPTY,
                };
            };
            Document::new(root, node.doc.dependencies)
        };
        let target = if pointer.is_empty() {
            Some(doc.root)
        } else {
            doc.root.pointer(pointer)
        };
        node = Node {
            doc,
            value: target.unwrap_or(&EMPTY),
        };
    }
    node
}

fn number(object: &Map<String, Value>, key: &str) -> Option<f64> {
    object.get(key).and_then(Value::as_f64)
}

/// Whether `value` is an instance of JSON type `t`.
fn value_has_type(value: &Value, t: &str) -> bool {
    match t {
        "string" => value.is_string(),
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        "number" => value.is_number(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}

impl Diff {
    fn report(&mut self, path: &str, kind: &str) {
        self.out.push(format!("{path}: {kind}"));
    }

    /// Whether `update` accepts everything `original` does, without reporting.
    fn accepts(&mut self, original: Node<'_>, update: Node<'_>, path: &str) -> bool {
        let before = self.out.len();
        self.compare(original, update, path);
        let compatible = self.out.len() == before && self.comparisons <= MAX_COMPARISONS;
        self.out.truncate(before);
        compatible
    }

    fn compare(&mut self, original: Node<'_>, update: Node<'_>, path: &str) {
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return;
        }
        if original.value == update.value
            && std::ptr::eq(original.doc.root, update.doc.root)
            && std::ptr::eq(original.doc.dependencies, update.doc.dependencies)
        {
            return;
        }
        let (original, update) = (resolve(original), resolve(update));
        let pair = (
            original.value as *const Value as usize,
            update.value as *const Value as usize,
        );
        if self.depth >= MAX_DEPTH || !self.in_progress.insert(pair) {
            return;
        }
        self.depth += 1;
        self.compare_resolved(original, update, path);
        self.depth -= 1;
        self.in_progress.remove(&pair);
    }

    fn compare_resolved(&mut self, original: Node<'_>, update: Node<'_>, path: &str) {
        match (kind(original.value), kind(update.value)) {
            (_, Kind::Empty) | (Kind::False, _) => {}
            (Kind::Empty, _) | (_, Kind::False) => self.report(path, "TYPE_NARROWED"),
            (Kind::Combined(c1, s1), Kind::Combined(c2, s2)) => {
                self.combined(original, (c1, &s1), update, (c2, &s2), path)
            }
            (Kind::Combined(_, subs), _) if subs.len() == 1 => {
                self.compare(at(original, &subs[0]), update, path)
            }
            (Kind::Combined(Criterion::All, subs), _) => {
                // A conjunction is accepted when one of its parts alone is.
                let path_of = |i: usize| format!("{path}/allOf/{i}");
                let covered = (0..subs.len())
                    .any(|i| self.accepts(at(original, &subs[i]), update, &path_of(i)));
                if !covered {
                    self.report(path, "COMBINED_TYPE_SUBSCHEMAS_CHANGED");
                }
            }
            (Kind::Combined(c, subs), _) if c.is_sum() => {
                // Every alternative must be accepted by the update.
                for (i, sub) in subs.iter().enumerate() {
                    let sub_path = format!("{path}/{}/{i}", criterion_keyword(c));
                    if !self.accepts(at(original, sub), update, &sub_path) {
                        self.report(path, "SUM_TYPE_NARROWED");
                        return;
                    }
                }
            }
            (_, Kind::Combined(c, subs)) if c.is_sum() => {
                let covered = subs
                    .iter()
                    .any(|sub| self.accepts(original, at(update, sub), path));
                if !covered {
                    self.report(path, "TYPE_CHANGED");
                }
            }
            (_, Kind::Combined(Criterion::All, subs)) => {
                for (i, sub) in subs.iter().enumerate() {
                    self.compare(original, at(update, sub), &format!("{path}/allOf/{i}"));
                }
            }
            (Kind::Enum(a), Kind::Enum(b)) => {
                if !a.iter().all(|v| b.contains(v)) {
                    let kind = if a.iter().any(|v| b.contains(v)) && b.len() < a.len() {
                        "ENUM_ARRAY_NARROWED"
                    } else {
                        "ENUM_ARRAY_CHANGED"
                    };
                    self.report(&format!("{path}/enum"), kind);
                }
            }
            (Kind::Const(a), Kind::Const(b)) => {
                if a != b {
                    self.report(&format!("{path}/const"), "ENUM_ARRAY_CHANGED");
                }
            }
            (Kind::Const(a), Kind::Enum(b)) => {
                if !b.contains(a) {
                    self.report(&format!("{path}/enum"), "ENUM_ARRAY_CHANGED");
                }
            }
            (Kind::Enum(values), Kind::Typed(t, _)) => {
                if !values.iter().all(|v| value_has_type(v, t)) {
                    self.report(path, "TYPE_CHANGED");
                }
            }
            (Kind::Const(value), Kind::Typed(t, _)) => {
                if !value_has_type(value, t) {
                    self.report(path, "TYPE_CHANGED");
                }
            }
            (Kind::Not(a), Kind::Not(b)) => {
                // not(A) ⊆ not(B) exactly when B ⊆ A.
                if !self.accepts(at(update, b), at(original, a), &format!("{path}/not")) {
                    self.report(&format!("{path}/not"), "NOT_TYPE_EXTENDED");
                }
            }
            (Kind::Typed(a, o), Kind::Typed(b, u)) => match (a, b) {
                _ if a == b => self.typed(a, original, o, update, u, path),
                ("integer", "number") => self.number(o, u, path),
                ("number", "integer") => self.report(path, "TYPE_NARROWED"),
                _ => self.report(path, "TYPE_CHANGED"),
            },
            _ => self.report(path, "TYPE_CHANGED"),
        }
    }

    fn typed(
        &mut self,
        t: &str,
        original: Node<'_>,
        o: &Map<String, Value>,
        update: Node<'_>,
        u: &Map<String, Value>,
        path: &str,
    ) {
        match t {
            "string" => {
                self.upper_bound(o, u, "maxLength", "MAX_LENGTH", path);
                self.lower_bound(o, u, "minLength", "MIN_LENGTH", path);
                match (o.get("pattern"), u.get("pattern")) {
                    (None, Some(_)) => self.report(&format!("{path}/pattern"), "PATTERN_ADDED"),
                    (Some(a), Some(b)) if a != b => {
                        self.report(&format!("{path}/pattern"), "PATTERN_CHANGED")
                    }
                    _ => {}
                }
            }
            "number" | "integer" => self.number(o, u, path),
            "object" => self.object(original, o, update, u, path),
            "array" => self.array(original, o, update, u, path),
            _ => {}
        }
    }

    /// A limit the update may raise or drop but not add or lower.
    fn upper_bound(
        &mut self,
        o: &Map<String, Value>,
        u: &Map<String, Value>,
        key: &str,
        name: &str,
        path: &str,
    ) {
        match (number(o, key), number(u, key)) {
            (None, Some(_)) => self.report(&format!("{path}/{key}"), &format!("{name}_ADDED")),
            (Some(a), Some(b)) if b < a => {
                self.report(&format!("{path}/{key}"), &format!("{name}_DECREASED"))
            }
            _ => {}
        }
    }

    /// A limit the update may lower or drop but not add or raise.
    fn lower_bound(
        &mut self,
        o: &Map<String, Value>,
        u: &Map<String, Value>,
        key: &str,
        name: &str,
        path: &str,
    ) {
        match (number(o, key), number(u, key)) {
            (None, Some(_)) => self.report(&format!("{path}/{key}"), &format!("{name}_ADDED")),
            (Some(a), Some(b)) if b > a => {
                self.report(&format!("{path}/{key}"), &format!("{name}_INCREASED"))
            }
            _ => {}
        }
    }

    fn number(&mut self, o: &Map<String, Value>, u: &Map<String, Value>, path: &str) {
        self.upper_bound(o, u, "maximum", "MAXIMUM", path);
        self.lower_bound(o, u, "minimum", "MINIMUM", path);
        self.upper_bound(o, u, "exclusiveMaximum", "EXCLUSIVE_MAXIMUM", path);
        self.lower_bound(o, u, "exclusiveMinimum", "EXCLUSIVE_MINIMUM", path);
        match (number(o, "multipleOf"), number(u, "multipleOf")) {
            (None, Some(_)) => self.report(&format!("{path}/multipleOf"), "MULTIPLE_OF_ADDED"),
            (Some(a), Some(b)) if a != b => {
                // Compatible when every multiple of the old divisor is one of the new.
                let ratio = a / b;
                if (ratio - ratio.round()).abs() > 1e-9 {
                    let kind = if (b / a - (b / a).round()).abs() <= 1e-9 {
                        "MULTIPLE_OF_EXPANDED"
                    } else {
                        "MULTIPLE_OF_CHANGED"
                    };
                    self.report(&format!("{path}/multipleOf"), kind);
                }
            }
            _ => {}
        }
    }

    fn object<'a>(
        &mut self,
        original: Node<'a>,
        o: &'a Map<String, Value>,
        update: Node<'a>,
        u: &'a Map<String, Value>,
        path: &str,
    ) {
        self.upper_bound(o, u, "maxProperties", "MAX_PROPERTIES", path);
        self.lower_bound(o, u, "minProperties", "MIN_PROPERTIES", path);
        let ap = format!("{path}/additionalProperties");
        match (o.get("additionalProperties"), u.get("additionalProperties")) {
            (Some(Value::Bool(false)), _) => {}
            (_, Some(Value::Bool(false))) => self.report(&ap, "ADDITIONAL_PROPERTIES_REMOVED"),
            (None | Some(Value::Bool(true)), Some(Value::Object(_))) => {
                self.report(&ap, "ADDITIONAL_PROPERTIES_NARROWED")
            }
            (Some(a @ Value::Object(_)), Some(b @ Value::Object(_))) => {
                self.compare(at(original, a), at(update, b), &ap)
            }
            _ => {}
        }
        self.dependencies(original, o, update, u, path);

        let empty = Map::new();
        let properties = |m: &'a Map<String, Value>| match m.get("properties") {
            Some(Value::Object(p)) => p,
            _ => &empty,
        };
        let required = |m: &Map<String, Value>| -> BTreeSet<String> {
            m.get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (po, pu) = (properties(o), properties(u));
        let (ro, ru) = (required(o), required(u));
        let has_default = |name: &str| pu.get(name).is_some_and(|s| s.get("default").is_some());

        for name in ru.difference(&ro) {
            // New properties are judged below, by the content model.
            if (po.contains_key(name) || !pu.contains_key(name)) && !has_default(name) {
                self.report(
                    &format!("{path}/required/{name}"),
                    "REQUIRED_ATTRIBUTE_ADDED",
                );
            }
        }
        for (name, schema) in pu {
            let property_path = format!("{path}/properties/{name}");
            if let Some(before) = po.get(name) {
                self.compare(at(original, before), at(update, schema), &property_path);
                continue;
            }
            match unlisted_property(o, name) {
                Some((Model::Open, _)) if kind(schema).is_empty() => {}
                Some((Model::Open, _)) => {
                    self.report(&property_path, "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
                }
                Some((Model::Partial, covering))
                    if !self.accepts(
                        at(original, covering),
                        at(update, schema),
                        &property_path,
                    ) =>
                {
                    self.report(
                        &property_path,
                        "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                    );
                }
                Some((Model::Partial, _)) => {}
                None if ru.contains(name) && !has_default(name) => self.report(
                    &property_path,
                    "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
                ),
                None => {}
            }
        }
        for (name, schema) in po {
            if pu.contains_key(name) {
                continue;
            }
            let property_path = format!("{path}/properties/{name}");
            match unlisted_property(u, name) {
                Some((Model::Open, _)) => {}
                Some((Model::Partial, covering)) => {
                    if !self.accepts(at(original, schema), at(update, covering), &property_path) {
                        self.report(
                            &property_path,
                            "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                        );
                    }
                }
                None if matches!(kind(schema), Kind::False) => {}
                None => self.report(&property_path, "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
            }
        }
    }

    fn dependencies<'a>(
        &mut self,
        original: Node<'a>,
        o: &'a Map<String, Value>,
        update: Node<'a>,
        u: &'a Map<String, Value>,
        path: &str,
    ) {
        let entries = |m: &'a Map<String, Value>| {
            let mut all: BTreeMap<&'a str, &'a Value> = BTreeMap::new();
            for key in ["dependencies", "dependentRequired", "dependentSchemas"] {
                if let Some(Value::Object(d)) = m.get(key) {
                    all.extend(d.iter().map(|(k, v)| (k.as_str(), v)));
                }
            }
            all
        };
        let (d_o, d_u) = (entries(o), entries(u));
        for (name, after) in &d_u {
            let at_path = format!("{path}/dependencies/{name}");
            match (d_o.get(name), after) {
                (None, Value::Array(_)) => self.report(&at_path, "DEPENDENCY_ARRAY_ADDED"),
                (None, _) => self.report(&at_path, "DEPENDENCY_SCHEMA_ADDED"),
                (Some(Value::Array(a)), Value::Array(b)) => {
                    if !b.iter().all(|v| a.contains(v)) {
                        let kind = if a.iter().all(|v| b.contains(v)) {
                            "DEPENDENCY_ARRAY_EXTENDED"
                        } else {
                            "DEPENDENCY_ARRAY_CHANGED"
                        };
                        self.report(&at_path, kind);
                    }
                }
                (Some(Value::Array(_)), _) | (Some(_), Value::Array(_)) => {
                    self.report(&at_path, "DEPENDENCY_ARRAY_CHANGED")
                }
                (Some(before), after) => {
                    self.compare(at(original, before), at(update, after), &at_path)
                }
            }
        }
    }

    fn array<'a>(
        &mut self,
        original: Node<'a>,
        o: &'a Map<String, Value>,
        update: Node<'a>,
        u: &'a Map<String, Value>,
        path: &str,
    ) {
        self.upper_bound(o, u, "maxItems", "MAX_ITEMS", path);
        self.lower_bound(o, u, "minItems", "MIN_ITEMS", path);
        let unique = |m: &Map<String, Value>| m.get("uniqueItems") == Some(&Value::Bool(true));
        if !unique(o) && unique(u) {
            self.report(&format!("{path}/uniqueItems"), "UNIQUE_ITEMS_ADDED");
        }
        let (tuple_o, rest_o) = items(o);
        let (tuple_u, rest_u) = items(u);
        let rest_path = format!("{path}/additionalItems");
        match (rest_o, rest_u) {
            (None, _) => {}
            (Some(_), None) => self.report(&rest_path, "ADDITIONAL_ITEMS_REMOVED"),
            (Some(a), Some(b)) if kind(a).is_empty() && !kind(b).is_empty() => {
                self.report(&rest_path, "ADDITIONAL_ITEMS_NARROWED")
            }
            (Some(a), Some(b)) => self.compare(at(original, a), at(update, b), &rest_path),
        }
        for i in 0..tuple_o.len().max(tuple_u.len()) {
            let item_path = format!("{path}/items/{i}");
            match (tuple_o.get(i), tuple_u.get(i)) {
                (Some(a), Some(b)) => self.compare(at(original, a), at(update, b), &item_path),
                // Added: old data held anything the old rest allowed at this position.
                (None, Some(b)) => match rest_o {
                    Some(covering)
                        if !self.accepts(at(original, covering), at(update, b), &item_path) =>
                    {
                        self.report(&item_path, "ITEM_ADDED_TO_OPEN_CONTENT_MODEL");
                    }
                    _ => {}
                },
                (Some(a), None) => match rest_u {
                    None if matches!(kind(a), Kind::False) => {}
                    None => self.report(&item_path, "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
                    Some(covering) => {
                        if !self.accepts(at(original, a), at(update, covering), &item_path) {
                            self.report(
                                &item_path,
                                "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                            );
                        }
                    }
                },
                (None, None) => {}
            }
        }
    }

    fn combined(
        &mut self,
        original: Node<'_>,
        (c1, s1): (Criterion, &[Value]),
        update: Node<'_>,
        (c2, s2): (Criterion, &[Value]),
        path: &str,
    ) {
        let extended = matches!(
            (c1, c2),
            (Criterion::One, Criterion::Any)
                | (Criterion::All, Criterion::Any)
                | (Criterion::All, Criterion::One)
        );
        if c1 != c2 && !extended {
            self.report(path, "COMBINED_TYPE_CHANGED");
            return;
        }
        let keyword = criterion_keyword(c1);
        if c1.is_sum() {
            // Every original alternative must be matched by its own update alternative.
            if s2.len() < s1.len() {
                self.report(path, "SUM_TYPE_NARROWED");
                return;
            }
            if !self.matches_all(original, s1, update, s2, path, keyword, false) {
                self.report(path, "COMBINED_TYPE_SUBSCHEMAS_CHANGED");
            }
        } else {
            // Every update conjunct must follow from its own original conjunct.
            if s2.len() > s1.len() {
                self.report(path, "PRODUCT_TYPE_EXTENDED");
                return;
            }
            if !self.matches_all(original, s1, update, s2, path, keyword, true) {
                self.report(path, "COMBINED_TYPE_SUBSCHEMAS_CHANGED");
            }
        }
    }

    /// A matching (augmenting paths) that pairs every schema of the smaller side with a
    /// distinct, compatible schema of the other: originals are always the writer's side.
    #[allow(clippy::too_many_arguments)]
    fn matches_all(
        &mut self,
        original: Node<'_>,
        s1: &[Value],
        update: Node<'_>,
        s2: &[Value],
        path: &str,
        keyword: &str,
        update_side_first: bool,
    ) -> bool {
        let (left, right) = if update_side_first {
            (s2.len(), s1.len())
        } else {
            (s1.len(), s2.len())
        };
        let mut fits = vec![vec![false; right]; left];
        for (l, row) in fits.iter_mut().enumerate() {
            for (r, cell) in row.iter_mut().enumerate() {
                let (i, j) = if update_side_first { (r, l) } else { (l, r) };
                *cell = self.accepts(
                    at(original, &s1[i]),
                    at(update, &s2[j]),
                    &format!("{path}/{keyword}/{i}"),
                );
            }
        }
        let mut owner: Vec<Option<usize>> = vec![None; right];
        fn augment(
            l: usize,
            fits: &[Vec<bool>],
            seen: &mut [bool],
            owner: &mut [Option<usize>],
        ) -> bool {
            for r in 0..owner.len() {
                if fits[l][r] && !seen[r] {
                    seen[r] = true;
                    if owner[r].is_none_or(|other| augment(other, fits, seen, owner)) {
                        owner[r] = Some(l);
                        return true;
                    }
                }
            }
            false
        }
        (0..left).all(|l| augment(l, &fits, &mut vec![false; right], &mut owner))
    }
}

impl Kind<'_> {
    fn is_empty(&self) -> bool {
        matches!(self, Kind::Empty)
    }
}

fn criterion_keyword(c: Criterion) -> &'static str {
    match c {
        Criterion::All => "allOf",
        Criterion::Any => "anyOf",
        Criterion::One => "oneOf",
    }
}

fn at<'a>(node: Node<'a>, value: &'a Value) -> Node<'a> {
    Node {
        doc: node.doc,
        value,
    }
}

enum Model {
    /// Any value is allowed under names the object does not list.
    Open,
    /// Unlisted names are constrained by `patternProperties` or an `additionalProperties`
    /// schema.
    Partial,
}

/// What an object allows under a property name it does not list; `None` when closed.
fn unlisted_property<'a>(object: &'a Map<String, Value>, name: &str) -> Option<(Model, &'a Value)> {
    if let Some(Value::Object(patterns)) = object.get("patternProperties") {
        for (pattern, schema) in patterns {
            if regex::Regex::new(pattern).is_ok_and(|r| r.is_match(name)) {
                return Some((Model::Partial, schema));
            }
        }
    }
    match object.get("additionalProperties") {
        None | Some(Value::Bool(true)) => Some((Model::Open, &EMPTY)),
        Some(Value::Bool(false)) => None,
        Some(schema) => Some((Model::Partial, schema)),
    }
}

/// An array's positional items and what the positions after them allow (`None`: nothing).
fn items(array: &Map<String, Value>) -> (&[Value], Option<&Value>) {
    if let Some(Value::Array(prefix)) = array.get("prefixItems") {
        return (prefix, rest(array.get("items")));
    }
    match array.get("items") {
        Some(Value::Array(tuple)) => (tuple, rest(array.get("additionalItems"))),
        Some(single) => (&[], rest(Some(single))),
        None => (&[], Some(&EMPTY)),
    }
}

fn rest(schema: Option<&Value>) -> Option<&Value> {
    match schema {
        None => Some(&EMPTY),
        Some(Value::Bool(false)) => None,
        Some(schema) => Some(schema),
    }
}
