//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`: curated seeds and every crash
//! the fuzzers found) and libcloud's recorded answers in ../shared through the fuzz targets'
//! own entry points (`skydeck_core::parsers`), on stable Rust: each input must give a value or
//! a typed error, quickly, and never panic. `./dev fuzz` finds new inputs; this keeps them fixed.

use skydeck_core::parsers::{feed_on_worker_stack, Family};
use skydeck_tests::{repo_root, shared_dir};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Generous for a debug build on a busy machine; a parser that loops or backtracks
/// exponentially blows far past it.
const PER_INPUT: Duration = Duration::from_secs(10);

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} unreadable: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Feeds every file to `family`'s parsers; returns how many at least one parser accepted, and
/// the failures (a panic or a slow input), each naming its file.
fn replay(family: Family, inputs: &[PathBuf]) -> (usize, Vec<String>) {
    let mut accepted = 0;
    let mut failures = Vec::new();
    for path in inputs {
        let data = std::fs::read(path).unwrap();
        let started = Instant::now();
        match std::panic::catch_unwind(|| feed_on_worker_stack(family, &data)) {
            Ok(n) => accepted += usize::from(n > 0),
            Err(e) => {
                let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
                failures.push(format!("{}: panicked: {}", path.display(), msg.unwrap_or_default()));
            }
        }
        if started.elapsed() > PER_INPUT {
            failures.push(format!("{}: took {:?}", path.display(), started.elapsed()));
        }
    }
    (accepted, failures)
}

#[test]
fn every_family_has_a_fuzz_target_and_a_corpus() {
    for &family in Family::ALL {
        assert_eq!(Family::from_name(family.name()), Some(family));
        let target = repo_root().join("fuzz/fuzz_targets").join(format!("{}.rs", family.name()));
        let source = std::fs::read_to_string(&target).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        assert!(source.contains(&format!("Family::{family:?}")), "{} must feed Family::{family:?}", target.display());
        let manifest = std::fs::read_to_string(repo_root().join("fuzz/Cargo.toml")).unwrap();
        assert!(manifest.contains(&format!("name = \"{}\"", family.name())), "fuzz/Cargo.toml lacks {}", family.name());
    }
}

#[test]
fn committed_corpus_replays_without_panics() {
    let mut failures = Vec::new();
    for &family in Family::ALL {
        let inputs = files(&repo_root().join("fuzz/corpus").join(family.name()));
        assert!(!inputs.is_empty(), "fuzz/corpus/{} is empty", family.name());
        let (accepted, mut failed) = replay(family, &inputs);
        failures.append(&mut failed);
        // Seeds that only ever hit the error path would fuzz nothing but the error path.
        assert!(accepted > 0, "no seed of fuzz/corpus/{} is accepted by any of its parsers", family.name());
    }
    assert!(failures.is_empty(), "{} corpus inputs failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn shared_fixtures_replay_without_panics() {
    let libcloud = shared_dir().join("fixtures/libcloud");
    let mut failures = Vec::new();
    // How many files of each folder Skydeck reads today (the others are answers of calls it
    // never makes, e.g. volumes): fewer means a parser started rejecting a real answer.
    for (dir, family, at_least) in [
        ("digitalocean_v2", Family::DigitalOcean, 9),
        ("linode_v4", Family::Linode, 18),
        ("vultr_v2", Family::Vultr, 13),
        ("hostvirtual", Family::HostVirtual, 12),
        ("ec2", Family::Ec2Xml, 84),
        ("fcu", Family::Ec2Xml, 5),
    ] {
        let inputs = files(&libcloud.join(dir));
        let (accepted, mut failed) = replay(family, &inputs);
        failures.append(&mut failed);
        assert!(accepted >= at_least, "only {accepted} of {} files in {dir} parsed (expected {at_least})", inputs.len());
    }
    assert!(failures.is_empty(), "{} fixtures failed:\n{}", failures.len(), failures.join("\n"));
}
