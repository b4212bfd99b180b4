use super::*;
use crate::rules::models::Models;

fn facts(src: &str) -> FileFacts {
    let models = Models::builtin().expect("built-in models load");
    extract("ops/x.sh", src, &models)
}

#[test]
fn debug_dump() {
    let Ok(src) = std::env::var("KNOCKON_BASH_DUMP") else {
        return;
    };
    let f = facts(&std::fs::read_to_string(src).unwrap());
    println!("{}", serde_json::to_string_pretty(&f).unwrap());
}
