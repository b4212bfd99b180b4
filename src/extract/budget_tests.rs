//! The per-file work budget: a file whose extraction runs out of steps keeps the facts found
//! before, and says where reading stopped.

use super::{Budget, FileFacts, bash, python, rust};
use crate::rules::models::Models;

fn models() -> Models {
    match Models::builtin() {
        Ok(m) => m,
        Err(e) => panic!("built-in models must load: {e}"),
    }
}

/// The lines of the accesses found, and the one budget warning.
fn outcome(facts: &FileFacts) -> (Vec<u32>, Vec<(u32, String)>) {
    let lines = facts.accesses.iter().map(|a| a.line).collect();
    let warnings = facts
        .warnings
        .iter()
        .filter(|w| w.message.starts_with("analysis stopped after"))
        .map(|w| (w.line, w.message.clone()))
        .collect();
    (lines, warnings)
}

fn assert_stopped_early(facts: &FileFacts, calls: u32) {
    let (lines, warnings) = outcome(facts);
    let [(line, message)] = warnings.as_slice() else {
        panic!("one budget warning expected: {:?}", facts.warnings);
    };
    assert!(message.contains("per-file budget"), "{message}");
    assert!(
        message.contains(&format!("from line {line} on")),
        "{message}"
    );
    assert!(!lines.is_empty(), "the facts before the stop are kept");
    assert!(lines.len() < calls as usize, "{} accesses", lines.len());
    assert!(
        lines.iter().all(|l| l <= line),
        "{lines:?} after line {line}"
    );
    assert!(*line < calls, "stopped at line {line}");
}

#[test]
fn python_extraction_stops_at_its_budget_with_a_warning() {
    let text: String = (0..1000).map(|i| format!("open('/d{i}', 'w')\n")).collect();
    let facts = python::extract_within("a.py", &text, &models(), Budget::new(2000));
    assert_stopped_early(&facts, 1000);
    let whole = python::extract_within("a.py", &text, &models(), Budget::default());
    assert_eq!(outcome(&whole).0.len(), 1000);
    assert!(outcome(&whole).1.is_empty());
}

#[test]
fn shell_extraction_stops_at_its_budget_with_a_warning() {
    let mut text = String::from("#!/bin/sh\n");
    text.extend((2..1002).map(|i| format!("rm /d{i}\n")));
    let facts = bash::extract_within("a.sh", &text, &models(), Budget::new(2000));
    assert_stopped_early(&facts, 1002);
    let whole = bash::extract_within("a.sh", &text, &models(), Budget::default());
    assert_eq!(outcome(&whole).0.len(), 1000);
}

#[test]
fn rust_extraction_stops_at_its_budget_with_a_warning() {
    let mut text = String::from("fn main() {\n");
    text.extend((2..1002).map(|i| format!("    std::fs::remove_file(\"/d{i}\");\n")));
    text.push_str("}\n");
    let facts = rust::extract_within("src/a.rs", &text, &models(), Budget::new(2000));
    assert_stopped_early(&facts, 1002);
    let whole = rust::extract_within("src/a.rs", &text, &models(), Budget::default());
    assert_eq!(outcome(&whole).0.len(), 1000);
}

#[test]
fn a_budget_refuses_every_step_after_the_last() {
    let mut budget = Budget::new(2);
    assert!(budget.spend(|| 1) && budget.spend(|| 2));
    assert!(!budget.is_spent() && budget.warning().is_none());
    assert!(!budget.spend(|| 3));
    assert!(!budget.spend(|| 4));
    assert_eq!(budget.used(), 2);
    assert_eq!(budget.warning().map(|w| w.line), Some(3));
}
