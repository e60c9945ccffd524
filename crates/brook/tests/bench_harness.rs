//! `bench/run`, the end-to-end benchmark harness, on a tiny workload: it starts `brook serve`,
//! runs `brook bench produce`, `consume` and `e2e` and `kcat -P`, idempotent against
//! transactional produce (librdkafka and the Java client), and writes its JSON report
//! and markdown summary. (The figures themselves belong to real runs, not to tests.)

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_harness_measures_brook_and_writes_its_report() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tempfile::tempdir().unwrap();
    let output = Command::new("python3")
        .arg(root.join("bench/run"))
        .args(["--brook", env!("CARGO_BIN_EXE_brook")])
        .args(["--records", "3000", "--record-size", "100"])
        .args(["--e2e-records", "500", "--e2e-rate", "2000"])
        .args([
            "--rounds",
            "1",
            "--registry-duration",
            "1s",
            "--registry-schemas",
            "20",
        ])
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "bench/run failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut reports: Vec<PathBuf> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    reports.sort();
    assert_eq!(reports.len(), 2, "{reports:?}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&reports[0]).unwrap()).unwrap();
    let brook = &json["results"][0];
    assert_eq!(brook["name"], "brook");
    assert_eq!(brook["produce"]["records"], 3000);
    assert_eq!(brook["consume"]["records"], 3000);
    assert_eq!(brook["e2e"]["records"], 500);
    assert!(brook["e2e"]["latency_ms"]["p99"].as_f64().unwrap() > 0.0);
    assert!(brook["produce"]["mb_per_sec"].as_f64().unwrap() > 0.0);
    assert!(brook["kcat_produce"]["wall_mb_per_sec"].as_f64().unwrap() > 0.0);
    assert!(brook["produce"]["wall_mb_per_sec"].as_f64().unwrap() > 0.0);
    assert!(brook["registry"]["requests_per_sec"].as_f64().unwrap() > 0.0);
    assert_eq!(brook["registry"]["registrations"]["schemas"], 20);
    assert!(
        brook["registry"]["registrations"]["per_sec"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    // Transactions: librdkafka (and the Java client, which ./scripts/test installs) each
    // measured idempotent and transactional, with the ratio.
    for client in ["librdkafka", "java"] {
        let t = &brook["transactions"][client];
        assert_eq!(t["transactional"]["records"], 3000, "{client}: {t}");
        assert!(t["idempotent"]["mb_per_sec"].as_f64().unwrap() > 0.0, "{t}");
        assert!(t["ratio"].as_f64().unwrap() > 0.0, "{t}");
    }
    let summary = std::fs::read_to_string(&reports[1]).unwrap();
    assert!(summary.contains("| brook |"), "{summary}");
    assert!(summary.contains("transactional ÷ idempotent"), "{summary}");
    assert!(summary.contains("registrations/s"), "{summary}");
}
