//! One integration test binary (see STYLE.md): scenarios from `testdata/`, the rules' own
//! examples, and the command line's contract (errors, exit codes, formats).

mod cli;
mod config;
mod rule_examples;
mod scenarios;
mod support;
