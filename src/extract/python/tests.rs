use super::*;

#[test]
fn dbg_dump() {
    let src = std::fs::read_to_string("/tmp/dbg.py").unwrap_or_default();
    let models = Models::builtin().unwrap();
    let facts = extract("loader/write.py", &src, &models);
    println!("{}", serde_json::to_string_pretty(&facts).unwrap());
}
