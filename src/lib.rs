//! knockon: given a change in one repository, what else needs a patch?
//!
//! The modules follow the pipeline of DESIGN.md, each stage taking the previous stage's plain data:
//! [`load`] -> [`extract`] -> [`resolve`] -> [`graph`] -> [`change`] -> [`impact`] -> [`report`].

pub mod app;
pub mod audit;
pub mod baseline;
pub mod change;
pub mod cli;
pub mod config;
pub mod digest;
pub mod error;
pub mod exit_codes;
pub mod expr;
pub mod extract;
pub mod finding;
pub mod graph;
pub mod impact;
pub mod index;
pub mod inventory;
pub mod load;
pub mod model;
pub mod pattern;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod scenario;
pub mod store;
pub mod suppress;
pub mod timings;
