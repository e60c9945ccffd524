//! kcat (librdkafka's command-line client, Debian package `kcat`) against `brook serve`.

mod common;

use std::io::Write;
use std::process::Command;

use common::Server;

fn kcat(args: &[&str]) -> std::process::Output {
    Command::new("kcat")
        .args(args)
        .output()
        .expect("kcat is installed (./scripts/test installs the Debian package)")
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
