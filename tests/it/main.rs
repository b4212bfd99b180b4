//! One integration test binary (see STYLE.md): scenarios from `testdata/`, the rules' own
//! examples, the command line's contract (errors, exit codes, formats), every report format
//! (snapshots, the SARIF schema, injection) and the CI examples.

mod audit;
mod cache;
mod ci_examples;
mod cli;
mod config;
mod graph;
mod hostile;
mod index;
mod injection;
mod inventory;
mod load_input;
mod reports;
mod rule_examples;
mod scenarios;
mod support;
