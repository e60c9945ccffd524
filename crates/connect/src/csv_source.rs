//! A CSV source with the settings of the SpoolDir CSV connector
//! (`com.github.jcustenborder.kafka.connect.spooldir.SpoolDirCsvSourceConnector`): it reads
//! the files in `input.path` whose names match `input.file.pattern`, in name order, one
//! record per row, into `topic`. The header row names the fields
//! (`csv.first.row.as.header`, true by default); the types are inferred from the first
//! `csv.schema.inference.rows` rows — int64, float64, boolean, a Kafka Connect Timestamp for
//! `yyyy-MM-dd HH:mm:ss[.SSS]` (UTC), else string; a column with an empty cell is optional.
//! `schema.generation.key.fields` makes the key a struct of those fields (one field: the
//! bare value).
//!
//! The source offset is the number of rows done under `{"fileName": name}`, so a restart
//! resumes inside a file. A file whose records have all been written and committed is moved
//! to `finished.path` (`cleanup.policy=MOVE`, the default), deleted (`DELETE`) or left
//! (`NONE`); a file that cannot be read fails the task (`halt.on.error=true`, the default) or
//! moves to `error.path`.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Value as Json, json};

use crate::data::{Config, Field, Schema, Type, Value};
use crate::plugin::{
    ConfigKey, ConnectError, OffsetReader, Plugin, PluginKind, SourceRecord, SourceTask,
};
use crate::transforms::TIMESTAMP;

/// The CSV source plugin.
pub struct CsvSource;

const KEYS: &[ConfigKey] = &[
    ConfigKey {
        name: "topic",
        kind: "STRING",
        default: None,
        importance: "HIGH",
        documentation: "The Kafka topic to write the data to.",
        recommended: &[],
    },
    ConfigKey {
        name: "input.path",
        kind: "STRING",
        default: None,
        importance: "HIGH",
        documentation: "The directory to read files that will be processed.",
        recommended: &[],
    },
    ConfigKey {
        name: "input.file.pattern",
        kind: "STRING",
        default: Some("^.*\\.csv$"),
        importance: "HIGH",
        documentation: "Regular expression to check input file names against.",
        recommended: &[],
    },
    ConfigKey {
        name: "finished.path",
        kind: "STRING",
        default: Some(""),
        importance: "HIGH",
        documentation: "The directory to place files that have been successfully processed (cleanup.policy=MOVE).",
        recommended: &[],
    },
    ConfigKey {
        name: "error.path",
        kind: "STRING",
        default: Some(""),
        importance: "HIGH",
        documentation: "The directory to place files in which have error(s) (halt.on.error=false).",
        recommended: &[],
    },
    ConfigKey {
        name: "cleanup.policy",
        kind: "STRING",
        default: Some("MOVE"),
        importance: "MEDIUM",
        documentation: "What to do with a file once it is done: MOVE it to finished.path, DELETE it, or NONE.",
        recommended: &["MOVE", "DELETE", "NONE"],
    },
    ConfigKey {
        name: "halt.on.error",
        kind: "BOOLEAN",
        default: Some("true"),
        importance: "HIGH",
        documentation: "Whether a file that cannot be read fails the task; false moves it to error.path.",
        recommended: &[],
    },
    ConfigKey {
        name: "csv.first.row.as.header",
        kind: "BOOLEAN",
        default: Some("true"),
        importance: "MEDIUM",
        documentation: "Whether the first row names the columns (else they are column1, column2, …).",
        recommended: &[],
    },
    ConfigKey {
        name: "csv.separator.char",
        kind: "STRING",
        default: Some(","),
        importance: "LOW",
        documentation: "The column separator: a character, or its code (44 for a comma).",
        recommended: &[],
    },
    ConfigKey {
        name: "csv.schema.inference.rows",
        kind: "INT",
        default: Some("1000"),
        importance: "LOW",
        documentation: "How many rows of a file its column types are inferred from.",
        recommended: &[],
    },
    ConfigKey {
        name: "schema.generation.key.fields",
        kind: "LIST",
        default: Some(""),
        importance: "MEDIUM",
        documentation: "The fields that make the record key.",
        recommended: &[],
    },
    ConfigKey {
        name: "schema.generation.value.name",
        kind: "STRING",
        default: Some("com.github.jcustenborder.kafka.connect.model.Value"),
        importance: "LOW",
        documentation: "The name of the value schema.",
        recommended: &[],
    },
    ConfigKey {
        name: "batch.size",
        kind: "INT",
        default: Some("1000"),
        importance: "LOW",
        documentation: "The number of records returned by one poll.",
        recommended: &[],
    },
    ConfigKey {
        name: "file.minimum.age.ms",
        kind: "LONG",
        default: Some("0"),
        importance: "LOW",
        documentation: "How long after its last change a file is read.",
        recommended: &[],
    },
];

fn get(config: &Config, key: &str) -> String {
    config.get(key).cloned().unwrap_or_else(|| {
        KEYS.iter()
            .find(|k| k.name == key)
            .and_then(|k| k.default)
            .unwrap_or_default()
            .to_string()
    })
}

fn separator(text: &str) -> Result<u8, String> {
    let t = text.trim_matches(|c| c == '\n' || c == '\r');
    if let Ok(code) = t.trim().parse::<u8>() {
        if t.trim().len() > 1 {
            return Ok(code);
        }
    }
    match t.as_bytes() {
        [b] => Ok(*b),
        _ => Err(format!(
            "csv.separator.char must be one character or its code: '{text}'"
        )),
    }
}

impl Plugin for CsvSource {
    fn class(&self) -> &'static str {
        "com.github.jcustenborder.kafka.connect.spooldir.SpoolDirCsvSourceConnector"
    }

    fn kind(&self) -> PluginKind {
        PluginKind::Source
    }

    fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    fn config_def(&self) -> Vec<ConfigKey> {
        KEYS.to_vec()
    }

    fn validate(&self, config: &Config) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        if let Err(e) = regex::Regex::new(&get(config, "input.file.pattern")) {
            errors.push(("input.file.pattern".to_string(), e.to_string()));
        }
        if let Err(e) = separator(&get(config, "csv.separator.char")) {
            errors.push(("csv.separator.char".to_string(), e));
        }
        let dir = |key: &str| get(config, key).trim().to_string();
        if let Some(input) = config.get("input.path") {
            if !Path::new(input.trim()).is_dir() {
                errors.push((
                    "input.path".to_string(),
                    format!("Directory {input} does not exist or is not a directory"),
                ));
            }
        }
        if get(config, "cleanup.policy").eq_ignore_ascii_case("MOVE")
            && dir("finished.path").is_empty()
        {
            errors.push((
                "finished.path".to_string(),
                "finished.path is required with cleanup.policy=MOVE".to_string(),
            ));
        }
        if get(config, "halt.on.error") == "false" && dir("error.path").is_empty() {
            errors.push((
                "error.path".to_string(),
                "error.path is required with halt.on.error=false".to_string(),
            ));
        }
        errors
    }

    fn task_configs(&self, config: &Config, _: usize) -> Result<Vec<Config>, ConnectError> {
        // One directory, one task: files are read in order.
        Ok(vec![config.clone()])
    }

    fn source_task(&self, config: &Config) -> Result<Box<dyn SourceTask>, ConnectError> {
        let number = |k: &str| -> Result<usize, ConnectError> {
            get(config, k)
                .trim()
                .parse()
                .map_err(|_| ConnectError::new(format!("{k} must be a number")))
        };
        let pattern = regex::Regex::new(&get(config, "input.file.pattern"))
            .map_err(|e| ConnectError::new(format!("input.file.pattern: {e}")))?;
        let key_fields = get(config, "schema.generation.key.fields")
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect();
        Ok(Box::new(CsvTask {
            topic: get(config, "topic"),
            input: PathBuf::from(get(config, "input.path").trim()),
            pattern,
            finished: PathBuf::from(get(config, "finished.path").trim()),
            errors: PathBuf::from(get(config, "error.path").trim()),
            cleanup: get(config, "cleanup.policy").to_ascii_uppercase(),
            halt: get(config, "halt.on.error") != "false",
            header: get(config, "csv.first.row.as.header") != "false",
            separator: separator(&get(config, "csv.separator.char")).map_err(ConnectError::new)?,
            inference_rows: number("csv.schema.inference.rows")?.max(1),
            key_fields,
            value_name: get(config, "schema.generation.value.name"),
            batch_size: number("batch.size")?.max(1),
            minimum_age: Duration::from_millis(number("file.minimum.age.ms")? as u64),
            offsets: Json::Null,
            current: None,
            done: Vec::new(),
        }))
    }
}

/// A file being read.
struct OpenFile {
    path: PathBuf,
    name: String,
    reader: ::csv::Reader<BufReader<File>>,
    schema: Schema,
    key_schema: Option<Schema>,
    /// Rows done (the source offset).
    rows: u64,
}

struct CsvTask {
    topic: String,
    input: PathBuf,
    pattern: regex::Regex,
    finished: PathBuf,
    errors: PathBuf,
    cleanup: String,
    halt: bool,
    header: bool,
    separator: u8,
    inference_rows: usize,
    key_fields: Vec<String>,
    value_name: String,
    batch_size: usize,
    minimum_age: Duration,
    /// The committed offsets read at start, by file name.
    offsets: Json,
    current: Option<OpenFile>,
    /// Files read to their end, to clean up once their records are committed.
    done: Vec<PathBuf>,
}

/// A column's inferred type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Int,
    Float,
    Boolean,
    Timestamp,
    Text,
}

fn timestamp_millis(text: &str) -> Option<i64> {
    let t = text.trim();
    let b = t.as_bytes();
    let shaped = b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b' ' || b[10] == b'T')
        && b[13] == b':'
        && b[16] == b':';
    if !shaped {
        return None;
    }
    brook_time::parse_timestamp_text(&t.replace('T', " "))
}

fn fits(column: Column, text: &str) -> bool {
    match column {
        Column::Int => text.trim().parse::<i64>().is_ok(),
        Column::Float => text.trim().parse::<f64>().is_ok(),
        Column::Boolean => matches!(text.trim(), "true" | "false" | "TRUE" | "FALSE"),
        Column::Timestamp => timestamp_millis(text).is_some(),
        Column::Text => true,
    }
}

/// A cell as a value of its column.
fn cell(column: Column, text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    let bad = || format!("'{text}' is not a {column:?}");
    Ok(match column {
        Column::Int => Value::Int(text.trim().parse().map_err(|_| bad())?),
        Column::Float => Value::Float(text.trim().parse().map_err(|_| bad())?),
        Column::Boolean => Value::Boolean(text.trim().eq_ignore_ascii_case("true")),
        Column::Timestamp => Value::Int(timestamp_millis(text).ok_or_else(bad)?),
        Column::Text => Value::String(text.to_string()),
    })
}

fn column_schema(column: Column, optional: bool) -> Schema {
    let s = match column {
        Column::Int => Schema::of(Type::Int64),
        Column::Float => Schema::of(Type::Float64),
        Column::Boolean => Schema::of(Type::Boolean),
        Column::Timestamp => Schema::of(Type::Int64).named(TIMESTAMP),
        Column::Text => Schema::of(Type::String),
    };
    if optional { s.optional() } else { s }
}

/// The column types of some rows: the narrowest type every non-empty cell fits.
fn infer(columns: usize, rows: &[::csv::StringRecord]) -> Vec<(Column, bool)> {
    (0..columns)
        .map(|i| {
            let cells: Vec<&str> = rows.iter().map(|r| r.get(i).unwrap_or("")).collect();
            let optional = cells.iter().any(|c| c.is_empty());
            let present: Vec<&&str> = cells.iter().filter(|c| !c.is_empty()).collect();
            let column = [
                Column::Int,
                Column::Float,
                Column::Boolean,
                Column::Timestamp,
            ]
            .into_iter()
            .find(|t| !present.is_empty() && present.iter().all(|c| fits(*t, c)))
            .unwrap_or(Column::Text);
            (column, optional || present.is_empty())
        })
        .collect()
}

impl CsvTask {
    /// The next file to read: the first matching name, old enough.
    fn next_file(&self) -> Result<Option<PathBuf>, ConnectError> {
        let entries = std::fs::read_dir(&self.input)
            .map_err(|e| ConnectError::new(format!("cannot list {}: {e}", self.input.display())))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| self.pattern.is_match(&e.file_name().to_string_lossy()))
            .filter(|e| !self.done.contains(&e.path()))
            .filter(|e| {
                e.metadata()
                    .and_then(|m| m.modified())
                    .map(|m| {
                        SystemTime::now().duration_since(m).unwrap_or_default() >= self.minimum_age
                    })
                    .unwrap_or(false)
            })
            .map(|e| e.path())
            .collect();
        files.sort();
        Ok(files.into_iter().next())
    }

    /// Opens `path`: reads its header, infers its columns, skips the rows already done.
    fn open(&self, path: &Path) -> Result<OpenFile, String> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let reader = |path: &Path| -> Result<::csv::Reader<BufReader<File>>, String> {
            let f = File::open(path).map_err(|e| e.to_string())?;
            Ok(::csv::ReaderBuilder::new()
                .has_headers(self.header)
                .delimiter(self.separator)
                .flexible(true)
                .from_reader(BufReader::new(f)))
        };
        // A first pass over the inference rows.
        let mut sample = reader(path)?;
        let header: Vec<String> = if self.header {
            sample
                .headers()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|h| h.trim().to_string())
                .collect()
        } else {
            Vec::new()
        };
        let mut rows = Vec::new();
        for r in sample.records().take(self.inference_rows) {
            rows.push(r.map_err(|e| e.to_string())?);
        }
        let width = header
            .len()
            .max(rows.iter().map(::csv::StringRecord::len).max().unwrap_or(0));
        let columns: Vec<String> = (0..width)
            .map(|i| {
                header
                    .get(i)
                    .filter(|h| !h.is_empty())
                    .cloned()
                    .unwrap_or_else(|| format!("column{}", i + 1))
            })
            .collect();
        let types = infer(width, &rows);
        let fields: Vec<Field> = columns
            .iter()
            .zip(&types)
            .map(|(n, (c, optional))| Field {
                name: n.clone(),
                schema: column_schema(*c, *optional),
            })
            .collect();
        for k in &self.key_fields {
            if !columns.contains(k) {
                return Err(format!(
                    "schema.generation.key.fields names {k}, which is not a column of {name}"
                ));
            }
        }
        let key_schema = match self.key_fields.as_slice() {
            [] => None,
            [one] => fields
                .iter()
                .find(|f| f.name == *one)
                .map(|f| f.schema.clone()),
            many => Some(
                Schema::of(Type::Struct(
                    fields
                        .iter()
                        .filter(|f| many.contains(&f.name))
                        .cloned()
                        .collect(),
                ))
                .named("com.github.jcustenborder.kafka.connect.model.Key"),
            ),
        };
        let schema = Schema::of(Type::Struct(fields)).named(&self.value_name);
        let done = self.offsets[&name]["offset"].as_u64().unwrap_or(0);
        let mut reader = reader(path)?;
        let mut skipped = 0;
        let mut record = ::csv::StringRecord::new();
        while skipped < done && reader.read_record(&mut record).map_err(|e| e.to_string())? {
            skipped += 1;
        }
        Ok(OpenFile {
            path: path.to_path_buf(),
            name,
            reader,
            schema,
            key_schema,
            rows: skipped,
        })
    }

    /// Moves, deletes or keeps a finished file.
    fn clean_up(&self, path: &Path) -> Result<(), ConnectError> {
        let fail = |e: std::io::Error| {
            ConnectError::new(format!("cannot clean up {}: {e}", path.display()))
        };
        match self.cleanup.as_str() {
            "DELETE" => std::fs::remove_file(path).map_err(fail),
            "NONE" => Ok(()),
            _ => move_into(path, &self.finished).map_err(fail),
        }
    }

    /// A file that cannot be read: the task fails, or it moves to `error.path`.
    fn bad_file(&mut self, path: &Path, error: String) -> Result<(), ConnectError> {
        let message = format!("cannot read {}: {error}", path.display());
        if self.halt {
            return Err(ConnectError::new(message));
        }
        tracing::warn!("{message}; moving it to {}", self.errors.display());
        move_into(path, &self.errors).map_err(|e| {
            ConnectError::new(format!("cannot move {} to error.path: {e}", path.display()))
        })
    }
}

fn move_into(path: &Path, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let target = dir.join(path.file_name().unwrap_or_default());
    std::fs::rename(path, &target).or_else(|_| {
        std::fs::copy(path, &target)?;
        std::fs::remove_file(path)
    })
}

impl SourceTask for CsvTask {
    fn start(&mut self, offsets: &dyn OffsetReader) -> Result<(), ConnectError> {
        // The offsets of the files there now.
        let mut known = serde_json::Map::new();
        if let Ok(entries) = std::fs::read_dir(&self.input) {
            for e in entries.filter_map(Result::ok) {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(o) = offsets.offset(&json!({ "fileName": name })) {
                    known.insert(name, o);
                }
            }
        }
        self.offsets = Json::Object(known);
        Ok(())
    }

    fn poll(&mut self) -> Result<Option<Vec<SourceRecord>>, ConnectError> {
        if self.current.is_none() {
            let Some(path) = self.next_file()? else {
                std::thread::sleep(Duration::from_millis(500));
                return Ok(Some(Vec::new()));
            };
            match self.open(&path) {
                Ok(f) => self.current = Some(f),
                Err(e) => {
                    self.bad_file(&path, e)?;
                    return Ok(Some(Vec::new()));
                }
            }
        }
        let mut records = Vec::new();
        let mut failed = None;
        let mut finished = false;
        if let Some(file) = self.current.as_mut() {
            let Type::Struct(fields) = &file.schema.kind else {
                unreachable!("a CSV value schema is a struct")
            };
            let mut row = ::csv::StringRecord::new();
            while records.len() < self.batch_size {
                match file.reader.read_record(&mut row) {
                    Ok(true) => {}
                    Ok(false) => {
                        finished = true;
                        break;
                    }
                    Err(e) => {
                        failed = Some(format!("row {}: {e}", file.rows + 1));
                        break;
                    }
                }
                let mut values = Vec::with_capacity(fields.len());
                for (i, field) in fields.iter().enumerate() {
                    let text = row.get(i).unwrap_or("");
                    let column = match (&field.schema.kind, field.schema.name.as_deref()) {
                        (Type::Int64, Some(TIMESTAMP)) => Column::Timestamp,
                        (Type::Int64, _) => Column::Int,
                        (Type::Float64, _) => Column::Float,
                        (Type::Boolean, _) => Column::Boolean,
                        _ => Column::Text,
                    };
                    let v = cell(column, text).and_then(|v| {
                        if v == Value::Null && !field.schema.optional {
                            Err(
                                "an empty cell in a column without empty cells in the first rows"
                                    .to_string(),
                            )
                        } else {
                            Ok(v)
                        }
                    });
                    match v {
                        Ok(v) => values.push((field.name.clone(), v)),
                        Err(e) => {
                            failed = Some(format!(
                                "row {}, column {}: {e} (the column's type was inferred from the first rows)",
                                file.rows + 1,
                                field.name
                            ));
                            break;
                        }
                    }
                }
                if failed.is_some() {
                    break;
                }
                file.rows += 1;
                let key = match self.key_fields.as_slice() {
                    [] => Value::Null,
                    [one] => values
                        .iter()
                        .find(|(n, _)| n == one)
                        .map_or(Value::Null, |(_, v)| v.clone()),
                    many => Value::Struct(
                        values
                            .iter()
                            .filter(|(n, _)| many.contains(n))
                            .cloned()
                            .collect(),
                    ),
                };
                records.push(SourceRecord {
                    source_partition: json!({ "fileName": file.name }),
                    source_offset: json!({ "offset": file.rows }),
                    topic: self.topic.clone(),
                    partition: None,
                    key_schema: file.key_schema.clone(),
                    key,
                    value_schema: Some(file.schema.clone()),
                    value: Value::Struct(values),
                    timestamp: None,
                    headers: Vec::new(),
                });
            }
        }
        if let Some(error) = failed {
            let file = self.current.take().expect("a file is open");
            if self.halt {
                return Err(ConnectError::new(format!(
                    "cannot read {}: {error}",
                    file.path.display()
                )));
            }
            // Rows before the bad one are written; the file goes to error.path.
            self.bad_file(&file.path, error)?;
            return Ok(Some(records));
        }
        if finished {
            let file = self.current.take().expect("a file is open");
            self.done.push(file.path);
        }
        Ok(Some(records))
    }

    fn commit(&mut self) -> Result<(), ConnectError> {
        // Everything read is written and its offsets committed: finished files go.
        for path in std::mem::take(&mut self.done) {
            self.clean_up(&path)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_typed_from_their_cells() {
        let rows: Vec<::csv::StringRecord> = [
            ["2", "2020-07-01 00:00:00", "1", "3.11", "N", "true"],
            ["1", "2020-07-01 00:11:05", "", "1.69", "Y", "false"],
            ["2", "2020-07-01 01:00:00", "3", "2", "N", "true"],
        ]
        .iter()
        .map(|r| ::csv::StringRecord::from(r.to_vec()))
        .collect();
        assert_eq!(
            infer(6, &rows),
            vec![
                (Column::Int, false),
                (Column::Timestamp, false),
                (Column::Int, true),
                (Column::Float, false),
                (Column::Text, false),
                (Column::Boolean, false),
            ]
        );
        assert_eq!(
            cell(Column::Timestamp, "2020-07-01 00:00:00"),
            Ok(Value::Int(1_593_561_600_000))
        );
        assert_eq!(cell(Column::Int, ""), Ok(Value::Null));
        assert!(cell(Column::Int, "x").is_err());
        assert_eq!(separator("44"), Ok(b','));
        assert_eq!(separator(";"), Ok(b';'));
        assert_eq!(separator("\t"), Ok(b'\t'));
    }
}
