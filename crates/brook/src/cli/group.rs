//! `brook group list|describe|reset-offsets|delete`.

use anyhow::Context as _;
use brook_client::groups::{self, GroupError, ResetTarget};
use rdkafka::consumer::Consumer as _;

use super::Fail;
use super::connect::{ConnectArgs, block_on};
use super::consume::parse_time;
use super::output::{self, Format};

/// `brook group …`.
#[derive(clap::Subcommand, Debug)]
pub enum GroupCommand {
    /// List consumer groups with their state and member count.
    ///
    /// Example: brook group list
    List,
    /// Show a group's members, and per partition its committed offset, the log end offset and
    /// the lag.
    ///
    /// Example: brook group describe rides-dashboard
    Describe {
        /// Group id.
        group: String,
    },
    /// Move a group's committed offsets. Prints the plan; --execute commits it. The group
    /// must have no active members.
    ///
    /// Example: brook group reset-offsets dashboards --topic rides --to-earliest --execute
    ResetOffsets {
        /// Group id.
        group: String,
        /// Topics to reset (repeatable; default: every topic the group has offsets for).
        #[arg(short, long = "topic")]
        topics: Vec<String>,
        /// Reset to the earliest offset.
        #[arg(long, group = "target")]
        to_earliest: bool,
        /// Reset to the log end offset.
        #[arg(long, group = "target")]
        to_latest: bool,
        /// Reset to the first offset at or after this time (RFC 3339 or epoch ms).
        #[arg(long, group = "target", value_name = "TIME")]
        to_datetime: Option<String>,
        /// Move every offset by this many records (negative: back).
        #[arg(long, group = "target", allow_negative_numbers = true)]
        shift_by: Option<i64>,
        /// Reset to this offset.
        #[arg(long, group = "target")]
        to_offset: Option<i64>,
        /// Commit the new offsets (without it nothing changes).
        #[arg(long)]
        execute: bool,
    },
    /// Delete groups (their committed offsets go too). Groups must have no members.
    ///
    /// Example: brook group delete old-dashboards
    Delete {
        /// Group ids.
        #[arg(required = true)]
        groups: Vec<String>,
    },
}

/// Runs a group subcommand.
pub fn run(command: &GroupCommand, connect: &ConnectArgs, format: Format) -> anyhow::Result<()> {
    match command {
        GroupCommand::List => list(connect, format),
        GroupCommand::Describe { group } => describe(connect, format, group),
        GroupCommand::ResetOffsets {
            group,
            topics,
            to_earliest,
            to_latest,
            to_datetime,
            shift_by,
            to_offset,
            execute,
        } => {
            let target = match (to_earliest, to_latest, to_datetime, shift_by, to_offset) {
                (true, ..) => ResetTarget::Earliest,
                (_, true, ..) => ResetTarget::Latest,
                (_, _, Some(time), ..) => ResetTarget::Time(parse_time(time)?),
                (_, _, _, Some(n), _) => ResetTarget::Shift(*n),
                (_, _, _, _, Some(o)) => ResetTarget::Offset(*o),
                _ => {
                    return Err(Fail::usage(
                        "say where to: --to-earliest, --to-latest, --to-datetime, --shift-by or \
                         --to-offset",
                    )
                    .into());
                }
            };
            reset(connect, format, group, topics, target, *execute)
        }
        GroupCommand::Delete { groups } => delete(connect, format, groups),
    }
}

/// A group error as the CLI's exit code and message.
fn fail(e: GroupError) -> anyhow::Error {
    match e {
        GroupError::NotFound(m) => Fail::not_found(m),
        GroupError::Failed(m) => Fail::failed(m),
        GroupError::Unreachable(m) => Fail::unreachable(m),
    }
    .into()
}

fn list(connect: &ConnectArgs, format: Format) -> anyhow::Result<()> {
    let consumer = connect.consumer(None)?;
    connect.metadata(consumer.client(), None)?;
    let rows = groups::list(&consumer, connect.timeout).map_err(fail)?;
    match format {
        Format::Json => output::print_json(&rows),
        Format::Table => {
            let mut table = output::table(&["GROUP", "STATE", "PROTOCOL-TYPE", "MEMBERS"]);
            for r in &rows {
                table.add_row(vec![
                    comfy_table::Cell::new(&r.group),
                    output::state_cell(&r.state),
                    comfy_table::Cell::new(&r.protocol_type),
                    comfy_table::Cell::new(r.members),
                ]);
            }
            output::print_table(&table);
        }
    }
    Ok(())
}

fn describe(connect: &ConnectArgs, format: Format, group: &str) -> anyhow::Result<()> {
    let consumer = connect.consumer(None)?;
    let metadata = connect.metadata(consumer.client(), None)?;
    let view = groups::describe(&consumer, &metadata, group, connect.timeout)
        .map_err(fail)?
        .ok_or_else(|| Fail::not_found(format!("group '{group}' does not exist")))?;
    match format {
        Format::Json => output::print_json(&view),
        Format::Table => {
            output::print_fields(&[
                ("GROUP", view.group.clone()),
                ("STATE", view.state.clone()),
                (
                    "PROTOCOL",
                    Some(view.protocol.clone())
                        .filter(|p| !p.is_empty())
                        .unwrap_or_else(|| "-".to_string()),
                ),
                ("MEMBERS", view.members.len().to_string()),
                (
                    "TOTAL-LAG",
                    output::thousands(view.total_lag().max(0) as u64),
                ),
            ]);
            println!();
            let mut table = output::table(&[
                "TOPIC",
                "PARTITION",
                "CURRENT-OFFSET",
                "LOG-END-OFFSET",
                "LAG",
                "MEMBER-ID",
                "HOST",
                "CLIENT-ID",
            ]);
            let dash = || "-".to_string();
            for p in &view.partitions {
                let lag = match p.lag {
                    Some(0) => output::colored("0", comfy_table::Color::Green),
                    Some(l) => output::colored(l.to_string(), comfy_table::Color::Yellow),
                    None => comfy_table::Cell::new("-"),
                };
                table.add_row(vec![
                    comfy_table::Cell::new(&p.topic),
                    comfy_table::Cell::new(p.partition),
                    comfy_table::Cell::new(p.committed_offset.map_or_else(dash, |o| o.to_string())),
                    comfy_table::Cell::new(p.log_end_offset),
                    lag,
                    comfy_table::Cell::new(p.member_id.clone().unwrap_or_else(dash)),
                    comfy_table::Cell::new(p.host.clone().unwrap_or_else(dash)),
                    comfy_table::Cell::new(p.client_id.clone().unwrap_or_else(dash)),
                ]);
            }
            output::print_table(&table);
            if !view.members.is_empty() {
                println!();
                let mut members = output::table(&["MEMBER-ID", "CLIENT-ID", "HOST", "PARTITIONS"]);
                for m in &view.members {
                    members.add_row(vec![
                        m.member_id.clone(),
                        m.client_id.clone(),
                        m.host.clone(),
                        m.partitions.len().to_string(),
                    ]);
                }
                output::print_table(&members);
            }
        }
    }
    Ok(())
}

fn reset(
    connect: &ConnectArgs,
    format: Format,
    group: &str,
    topics: &[String],
    target: ResetTarget,
    execute: bool,
) -> anyhow::Result<()> {
    let consumer = connect.consumer(Some(group))?;
    let metadata = connect.metadata(consumer.client(), None)?;
    let rows = groups::plan_reset(&consumer, &metadata, group, topics, target, connect.timeout)
        .map_err(fail)?;
    if execute {
        groups::commit_reset(&consumer, &rows).map_err(fail)?;
    }
    match format {
        Format::Json => output::print_json(&serde_json::json!({
            "group": group,
            "executed": execute,
            "partitions": rows,
        })),
        Format::Table => {
            let mut table = output::table(&["TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"]);
            for r in &rows {
                table.add_row(vec![
                    r.topic.clone(),
                    r.partition.to_string(),
                    r.current_offset
                        .map_or_else(|| "-".to_string(), |o| o.to_string()),
                    r.new_offset.to_string(),
                ]);
            }
            output::print_table(&table);
            if !execute {
                eprintln!("Dry run: nothing was committed. Add --execute to apply this plan.");
            }
        }
    }
    Ok(())
}

fn delete(connect: &ConnectArgs, format: Format, groups: &[String]) -> anyhow::Result<()> {
    let admin = connect.admin()?;
    connect.metadata(admin.inner(), None)?;
    let names: Vec<&str> = groups.iter().map(String::as_str).collect();
    let results = block_on(admin.delete_groups(&names, &connect.admin_options()))
        .context("DeleteGroups failed")?;
    let mut rows = Vec::new();
    let mut missing = 0;
    let mut failed = 0;
    for r in results {
        match r {
            Ok(group) => rows.push((group, None)),
            Err((group, code)) => {
                let text = match code {
                    rdkafka::types::RDKafkaErrorCode::GroupIdNotFound => {
                        missing += 1;
                        format!("group '{group}' does not exist")
                    }
                    rdkafka::types::RDKafkaErrorCode::NonEmptyGroup => {
                        failed += 1;
                        format!("group '{group}' still has members")
                    }
                    other => {
                        failed += 1;
                        other.to_string()
                    }
                };
                rows.push((group, Some(text)));
            }
        }
    }
    match format {
        Format::Json => output::print_json(
            &rows
                .iter()
                .map(|(g, e)| serde_json::json!({"group": g, "error": e}))
                .collect::<Vec<_>>(),
        ),
        Format::Table => {
            let mut table = output::table(&["GROUP", "STATUS"]);
            for (g, e) in &rows {
                table.add_row(vec![
                    g.clone(),
                    e.clone().unwrap_or_else(|| "deleted".into()),
                ]);
            }
            output::print_table(&table);
        }
    }
    let errors: Vec<&String> = rows.iter().filter_map(|(_, e)| e.as_ref()).collect();
    match (failed, missing) {
        (0, 0) => Ok(()),
        (0, 1) => Err(Fail::not_found(errors[0].clone()).into()),
        (1, 0) => Err(Fail::failed(errors[0].clone()).into()),
        (0, n) => Err(Fail::not_found(format!("{n} group(s) not found")).into()),
        (n, _) => Err(Fail::failed(format!("{n} group(s) could not be deleted")).into()),
    }
}
