//! kcat (librdkafka's command-line client, Debian package `kcat`) against `brook serve`, with
//! Debian's own librdkafka as users run it: under `cargo test` the librdkafka that rdkafka-sys
//! builds is on LD_LIBRARY_PATH, which would silently replace it, so it is removed here.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::Server;

fn kcat_command(args: &[&str]) -> Command {
    let mut command = Command::new("kcat");
    command.args(args).env_remove("LD_LIBRARY_PATH");
    command
}

fn kcat(args: &[&str]) -> std::process::Output {
    kcat_command(args)
        .output()
        .expect("kcat is installed (./scripts/test installs the Debian package)")
}

fn stdout_of(output: std::process::Output) -> String {
    assert!(
        output.status.success(),
        "kcat failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Produces `lines` (one record each) with kcat -P.
fn produce(bootstrap: &str, topic: &str, lines: &[String]) {
    let mut child = kcat_command(&["-b", bootstrap, "-P", "-t", topic])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for line in lines {
        writeln!(stdin, "{line}").unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[test]
fn debian_kcat_consumes_from_beginning_end_an_offset_and_a_timestamp() {
    let version = stdout_of(kcat(&["-V"]));
    println!("{version}");
    let (_, bundled) = rdkafka::util::get_rdkafka_version();
    assert!(version.contains("librdkafka "), "{version}");
    assert!(
        !version.contains(&format!("librdkafka {bundled} ")),
        "kcat runs with the bundled librdkafka {bundled}, not the system's: {version}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"));
    let bootstrap = server.addr.to_string();
    let records: Vec<String> = (0..100_000).map(|i| format!("rec-{i}")).collect();
    produce(&bootstrap, "modes", &records[..50_000]);
    std::thread::sleep(Duration::from_millis(50));
    let middle = now_ms();
    std::thread::sleep(Duration::from_millis(50));
    produce(&bootstrap, "modes", &records[50_000..]);

    let consume = |offset: &str| {
        let args = [
            "-b", &bootstrap, "-C", "-t", "modes", "-o", offset, "-e", "-q",
        ];
        stdout_of(kcat(&args))
    };
    let all = consume("beginning");
    assert_eq!(all.lines().count(), 100_000);
    assert!(all.lines().eq(records.iter().map(String::as_str)));

    let last = consume("-100");
    assert!(
        last.lines()
            .eq(records[99_900..].iter().map(String::as_str))
    );

    let since = consume(&format!("s@{middle}"));
    assert_eq!(since.lines().count(), 50_000);
    assert!(
        since
            .lines()
            .eq(records[50_000..].iter().map(String::as_str))
    );

    // From the end: only what is produced after the consumer started.
    let mut tail = kcat_command(&[
        "-b", &bootstrap, "-C", "-t", "modes", "-o", "end", "-c", "10", "-q",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut round = 0;
    while tail.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "kcat -o end received nothing");
        let late: Vec<String> = (0..10).map(|i| format!("late-{round}-{i}")).collect();
        produce(&bootstrap, "modes", &late);
        round += 1;
        std::thread::sleep(Duration::from_millis(500));
    }
    let output = tail.wait_with_output().unwrap();
    let tailed = stdout_of(output);
    assert_eq!(tailed.lines().count(), 10, "{tailed}");
    assert!(tailed.lines().all(|l| l.starts_with("late-")), "{tailed}");
}

#[test]
fn list_produce_from_a_file_and_consume_the_same_count() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("data"));
    let bootstrap = server.addr.to_string();

    let lines = 5_000;
    let file = tmp.path().join("rides.csv");
    let mut out = std::fs::File::create(&file).unwrap();
    for i in 0..lines {
        writeln!(out, "{},2020-07-01 00:{:02}:00,2020-07-01 00:33:39,1,1.5,1,N,238,75,2,8,0.5,0.5,0,0,0.3,9.3,0", i % 2 + 1, i % 60).unwrap();
    }
    drop(out);

    let produced = kcat(&[
        "-b",
        &bootstrap,
        "-P",
        "-t",
        "rides",
        "-l",
        file.to_str().unwrap(),
    ]);
    assert!(
        produced.status.success(),
        "{}",
        String::from_utf8_lossy(&produced.stderr)
    );

    let listed = kcat(&["-b", &bootstrap, "-L", "-t", "rides"]);
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(listing.contains("1 brokers:"), "{listing}");
    assert!(
        listing.contains(&format!("broker 1 at {bootstrap}")),
        "{listing}"
    );
    assert!(
        listing.contains("topic \"rides\" with 1 partitions:"),
        "{listing}"
    );

    let consumed = kcat(&[
        "-b",
        &bootstrap,
        "-C",
        "-t",
        "rides",
        "-o",
        "beginning",
        "-e",
        "-q",
    ]);
    assert!(
        consumed.status.success(),
        "{}",
        String::from_utf8_lossy(&consumed.stderr)
    );
    let text = String::from_utf8(consumed.stdout).unwrap();
    assert_eq!(text.lines().count(), lines);
    assert_eq!(text, std::fs::read_to_string(&file).unwrap());
}
