//! The change stage on hand-built accesses: what makes a delta and what must not.

use super::*;
use crate::model::{ChangedLines, Mode, Origin, Site};
use crate::pattern::Pattern;
use crate::resolve::{PathSet, Resource};

fn write(path_glob: &str, file: &str, line: u32) -> Access {
    let pattern = Pattern::glob(path_glob);
    Access {
        resource: Resource::Path(PathSet {
            display: pattern.display(),
            patterns: vec![pattern],
            filters: Vec::new(),
        }),
        mode: Mode::Write,
        site: Site {
            repo: "builder".into(),
            path: file.into(),
            line,
        },
        unit: file.into(),
        via: "cp".into(),
        qualifiers: Vec::new(),
        notes: Vec::new(),
        jobs: Vec::new(),
        required: false,
        origin: None,
        launched_by: None,
        origins: Vec::new(),
    }
}

fn deltas(base: &[Access], head: &[Access], lines: &ChangedLines) -> Deltas {
    compute(&Sides {
        base,
        head,
        base_sends: &[],
        head_sends: &[],
        changed_lines: lines,
        tree: &TreeChange::default(),
    })
}

fn touched(path: &str, line: u32) -> ChangedLines {
    ChangedLines::one_line("builder", path, line)
}

/// Thousands of outputs beside a write to `/**` (`cp -r "$CACHEDIR"/{etc,usr} /`): with nothing
/// changed, nothing is removed, however large the union.
#[test]
fn unchanged_outputs_make_no_delta_in_a_large_repository() {
    let mut side: Vec<Access> = (0..3000)
        .map(|i| write(&format!("/srv/app{i}/*[a-z]*.log"), "logs.sh", i + 1))
        .collect();
    side.push(write("/**", "build.sh", 7));
    let d = deltas(&side, &side, &touched("README.sh", 1));
    assert!(d.outputs.is_empty(), "{:?}", d.outputs.len());
    assert!(d.undecided.is_empty());
}

/// When the algebra runs out of budget, the output is neither removed nor new: no delta, and
/// the report is told.
#[test]
fn an_undecided_comparison_makes_no_delta() {
    let spelled = format!("/x/{}", "*a".repeat(30));
    let evil = format!("/x/*a{}", "?".repeat(20));
    let base = [write(&spelled, "build.sh", 3)];
    let head = [write(&evil, "build.sh", 3)];
    let d = deltas(&base, &head, &touched("build.sh", 3));
    assert!(d.outputs.is_empty());
    assert_eq!(d.undecided.len(), 1);
}

#[test]
fn a_moved_output_is_a_delta_at_its_changed_line() {
    let base = [write("/data/ticker/ticker_*.csv", "load.py", 12)];
    let head = [write("/data/ticker/*/*.csv", "load.py", 12)];
    let d = deltas(&base, &head, &touched("load.py", 12));
    assert_eq!(d.outputs.len(), 1);
    assert_eq!(d.outputs[0].replacements.len(), 1);
}

/// The value moved because its assignment changed: the delta points at the assignment.
#[test]
fn a_delta_is_anchored_at_the_origin_the_change_touched() {
    let mut before = write("/data/etl/*.done", "run.sh", 40);
    let mut after = write("/data/etl2/*.done", "run.sh", 40);
    for a in [&mut before, &mut after] {
        a.origins.push(Origin {
            site: Site {
                repo: "builder".into(),
                path: "run.sh".into(),
                line: 3,
            },
            note: "sets ETL_DIR".into(),
        });
    }
    let d = deltas(&[before], &[after], &touched("run.sh", 3));
    assert_eq!(d.outputs.len(), 1);
    assert_eq!(d.outputs[0].removed.site.line, 3);
    assert_eq!(d.outputs[0].replacements[0].site.line, 3);
}

fn env_read(pieces: Vec<crate::pattern::Piece>, line: u32) -> Access {
    let pattern = Pattern::from_pieces(&pieces, false);
    Access {
        resource: Resource::Env(crate::resolve::NameSet {
            display: pattern.display(),
            patterns: vec![pattern],
        }),
        mode: Mode::Read,
        unit: "configuration".into(),
        via: "os.environ.get".into(),
        ..write("/unused", "configuration.py", line)
    }
}

fn named(name: &str, line: u32) -> Access {
    env_read(vec![crate::pattern::Piece::Lit(name.into())], line)
}

/// Reads moved into a helper whose name parameter has more callers than resolution follows
/// (`_environ_get_and_map(variable_name, ...)`): the file's names it stopped spelling may still
/// be read there, so they are undecided, not dropped.
#[test]
fn names_a_file_may_still_read_through_an_unresolved_name_are_undecided() {
    let base = [named("EMAIL_PORT", 8), named("REDIS_DATABASE", 9)];
    let unresolved = env_read(
        vec![crate::pattern::Piece::Hole {
            label: "variable_name".into(),
            shape: crate::expr::HoleShape::Segment,
        }],
        30,
    );
    let lines = touched("configuration.py", 30);
    let head = [named("CSRF_COOKIE_NAME", 31), unresolved];
    let d = deltas(&base, &head, &lines);
    assert!(d.names.is_empty(), "{:?}", d.names);
    assert_eq!(d.undecided.len(), 2);
    // Without the unresolved read, the names are dropped (and CSRF_COOKIE_NAME is the new one).
    let d = deltas(&base, &head[..1], &lines);
    assert_eq!(d.names.len(), 2);
}
