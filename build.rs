//! Compiles `src/extract/children.c` against the private headers of the tree-sitter sources
//! that are built into the same binary (the `tree-sitter` crate exports its include directory;
//! its sources lie beside it), so that the structures it reads are those the parser writes.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/extract/children.c");
    let Some(include) = std::env::var_os("DEP_TREE_SITTER_INCLUDE").map(PathBuf::from) else {
        panic!("the tree-sitter crate did not say where its headers are (DEP_TREE_SITTER_INCLUDE)");
    };
    let sources = include
        .parent()
        .map(|root| root.join("src"))
        .unwrap_or_default();
    if !sources.join("subtree.h").is_file() {
        panic!(
            "tree-sitter's private headers are not in {}: the children helper cannot be built",
            sources.display()
        );
    }
    cc::Build::new()
        .file("src/extract/children.c")
        .include(&sources)
        .include(&include)
        .std("c11")
        .define("_POSIX_C_SOURCE", "200112L")
        .define("_DEFAULT_SOURCE", None)
        .warnings(false)
        .compile("knockon_children");
}
