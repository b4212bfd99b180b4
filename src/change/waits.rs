//! Waits, triggers and requirements the change adds.
//!
//! A wait is new when its unit did not wait on the same resource at base (a new call of an
//! existing `wait_for_*` helper is a new wait at the call site). A send is new when its unit did
//! not send the same signal or request at base. A requirement is new when the program reads an
//! environment variable without a default at head, did not require it at base, and does not set
//! it itself.

use crate::model::Mode;
use crate::resolve::{Access, Resource, Send};

pub fn new_waits(base: &[Access], head: &[Access]) -> Vec<Access> {
    let at_base: Vec<(&str, &str)> = base
        .iter()
        .filter(|a| a.mode == Mode::WaitFor)
        .map(|a| (a.unit.as_str(), a.resource.display()))
        .collect();
    head.iter()
        .filter(|a| a.mode == Mode::WaitFor)
        .filter(|a| !at_base.contains(&(a.unit.as_str(), a.resource.display())))
        .cloned()
        .collect()
}

pub fn new_sends(base: &[Send], head: &[Send]) -> Vec<Send> {
    let at_base: Vec<(&str, String)> = base
        .iter()
        .map(|s| (s.unit.as_str(), s.describe()))
        .collect();
    head.iter()
        .filter(|s| !at_base.contains(&(s.unit.as_str(), s.describe())))
        .cloned()
        .collect()
}

/// Reads that need a variable at head and did not at base. A program that sets the variable
/// itself (`os.environ.setdefault("X", d)`, `os.environ["X"] = v`) before or after reading it
/// does not need it from its launcher, so reads in a file that sets it are not requirements.
pub fn new_requirements(base: &[Access], head: &[Access]) -> Vec<Access> {
    let required_at_base: Vec<&str> = base
        .iter()
        .filter(|a| a.required && matches!(a.resource, Resource::Env(_)))
        .map(|a| a.resource.display())
        .collect();
    let set_in_file: Vec<(&str, &str, &str)> = head
        .iter()
        .filter(|a| a.mode == Mode::Set && matches!(a.resource, Resource::Env(_)))
        .map(|a| {
            (
                a.site.repo.as_str(),
                a.site.path.as_str(),
                a.resource.display(),
            )
        })
        .collect();
    head.iter()
        .filter(|a| a.required && matches!(a.resource, Resource::Env(_)))
        .filter(|a| !required_at_base.contains(&a.resource.display()))
        .filter(|a| {
            !set_in_file.contains(&(
                a.site.repo.as_str(),
                a.site.path.as_str(),
                a.resource.display(),
            ))
        })
        .cloned()
        .collect()
}
