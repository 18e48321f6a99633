//! `hazardline demo`, the README's main job, end to end: the fictional
//! messages go all the way to the live channel.

use std::process::Command;

fn demo(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hazardline"))
        .arg("demo")
        .args(args)
        .output()
        .expect("run hazardline demo");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_demo_message_flows_through_to_delivery() {
    let (ok, stdout, stderr) = demo(&["--subscribers", "400", "--samples", "1"]);
    assert!(ok, "demo failed: {stderr}\n{stdout}");
    for id in [
        "DEMO-DF-0001",
        "DEMO-DF-0002",
        "DEMO-EQ-0001",
        "DEMO-TS-0001",
        "DEMO-EX-0001",
        "DEMO-DF-0003",
    ] {
        assert!(
            stdout.contains(&format!("accepted {id}")),
            "{id} not accepted:\n{stdout}"
        );
    }
    // The exercise is marked as one, the Update moves people in and out,
    // the Cancel tells the last recipients it is over.
    assert!(stdout.contains("new alert of office@demo.hazardline.invalid,DEMO-EX-0001"));
    assert!(stdout.contains("[EXERCISE]"));
    assert!(stdout.contains("update of debris@demo.hazardline.invalid,DEMO-DF-0002"));
    assert!(stdout.contains("cancel of debris@demo.hazardline.invalid,DEMO-DF-0003"));

    // Everything queued was sent, and nothing is left in force at the end.
    let last = stdout.lines().last().unwrap_or_default();
    let numbers: Vec<usize> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 3, "unexpected summary: {last}");
    assert!(numbers[0] > 0);
    assert_eq!(numbers[0], numbers[1], "queued vs sent: {last}");
    assert_eq!(numbers[2], 0, "alerts still in force: {last}");
}

#[test]
fn a_directory_of_foreign_senders_is_refused_not_delivered() {
    let dir = std::env::temp_dir().join(format!("hazardline-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let forged = include_str!("../demo/cap/01-debris-flow-yellow.xml").replace(
        "debris@demo.hazardline.invalid",
        "someone@elsewhere.invalid",
    );
    std::fs::write(dir.join("forged.xml"), forged).unwrap();
    let (ok, stdout, _) = demo(&["--cap", dir.to_str().unwrap(), "--subscribers", "50"]);
    std::fs::remove_dir_all(&dir).ok();
    assert!(stdout.contains("REJECTED (sender_not_allowed)"), "{stdout}");
    assert!(!ok, "a demo that delivered nothing must fail");
}
