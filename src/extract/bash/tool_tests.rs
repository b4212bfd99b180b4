//! Command-line models of the programs ops code runs: database dump and restore tools, backup
//! tools, `kubectl create secret|configmap`, and what such programs read from their
//! environment themselves (`[[env_reads]]`).

use super::extract;
use crate::extract::{FileFacts, RawResource};
use crate::rules::models::Models;

fn facts(src: &str) -> FileFacts {
    let models = Models::builtin().expect("built-in models load");
    extract("ops/backup.sh", src, &models)
}

#[test]
fn debug_borg() {
    let f = facts("borg create /srv/borg::'{hostname}-{now}' /etc\n");
    for a in &f.accesses {
        eprintln!("{a:?}");
    }
    panic!();
}
