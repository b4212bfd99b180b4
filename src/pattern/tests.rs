//! Unit tests: the cases that matter to the product, then each feature of the language.

use super::*;

fn g(text: &str) -> Pattern {
    Pattern::glob(text)
}

fn lit(text: &str) -> Piece {
    Piece::Lit(text.to_string().into())
}

fn glob_piece(text: &str) -> Piece {
    Piece::Glob {
        text: text.to_string().into(),
        star_matches_slash: false,
        case_insensitive: false,
    }
}

fn hole(label: &str) -> Piece {
    Piece::Hole {
        label: label.to_string().into(),
        shape: HoleShape::Segment,
    }
}

fn path_hole(label: &str) -> Piece {
    Piece::Hole {
        label: label.to_string().into(),
        shape: HoleShape::Path,
    }
}

fn strftime(format: &str) -> Piece {
    Piece::Hole {
        label: format.to_string().into(),
        shape: HoleShape::Strftime {
            format: format.to_string().into(),
        },
    }
}

fn sym(name: &str) -> Piece {
    Piece::Symbol(name.to_string().into())
}

fn p(pieces: &[Piece]) -> Pattern {
    Pattern::from_pieces(pieces, false)
}

fn subtree(pieces: &[Piece]) -> Pattern {
    Pattern::from_pieces(pieces, true)
}

fn find_path(text: &str) -> Pattern {
    p(&[Piece::Glob {
        text: text.to_string().into(),
        star_matches_slash: true,
        case_insensitive: false,
    }])
}

fn iglob(text: &str) -> Pattern {
    p(&[Piece::Glob {
        text: text.to_string().into(),
        star_matches_slash: false,
        case_insensitive: true,
    }])
}

fn rel(a: &Pattern, b: &Pattern) -> Relation {
    relation(a, b)
}

/// The loader's old output: `/data/ticker/ticker_{day}.csv`.
fn old_output() -> Pattern {
    p(&[lit("/data/ticker/ticker_"), hole("day"), lit(".csv")])
}

/// The loader's new output: `/data/ticker/{day}/{exchange}.csv`.
fn new_output() -> Pattern {
    p(&[
        lit("/data/ticker/"),
        hole("day"),
        lit("/"),
        hole("exchange"),
        lit(".csv"),
    ])
}

fn cleanup() -> Pattern {
    g("/data/ticker/ticker_*.csv")
}

// ----- the sharded ticker incident -------------------------------------------------------------

#[test]
fn cleanup_covers_old_output_with_a_hole() {
    assert!(covers(&[cleanup()], &old_output()));
    assert_eq!(rel(&cleanup(), &old_output()), Relation::Covers);
    assert_eq!(uncovered_witness(&[cleanup()], &old_output()), None);
}

#[test]
fn cleanup_covers_old_output_with_a_date_shape() {
    let dated = p(&[
        lit("/data/ticker/ticker_"),
        strftime("%Y-%m-%d"),
        lit(".csv"),
    ]);
    assert!(covers(&[cleanup()], &dated));
    assert_eq!(dated.display(), "/data/ticker/ticker_{%Y-%m-%d}.csv");
    assert!(dated.matches("/data/ticker/ticker_2026-03-19.csv"));
    assert!(!dated.matches("/data/ticker/ticker_2026-3-19.csv"));
}

#[test]
fn cleanup_and_sharded_output_are_disjoint() {
    assert_eq!(rel(&cleanup(), &new_output()), Relation::Disjoint);
    assert!(!overlaps(&cleanup(), &new_output()));
    assert_eq!(overlap_witness(&cleanup(), &new_output()), None);
    let w = uncovered_witness(&[cleanup()], &new_output());
    assert_eq!(w.as_deref(), Some("/data/ticker/x/x.csv"));
}

#[test]
fn recursive_and_subtree_cleanups_cover_sharded_output() {
    assert!(covers(&[g("/data/ticker/**")], &new_output()));
    assert!(covers(&[subtree(&[lit("/data/ticker")])], &new_output()));
    assert!(covers(&[subtree(&[lit("/data/ticker/")])], &new_output()));
    assert!(covers(&[g("/data/ticker/*/*.csv")], &new_output()));
    assert!(covers(&[g("/data/**/*.csv")], &new_output()));
    assert!(!covers(&[g("/data/ticker/*.csv")], &new_output()));
}

#[test]
fn find_path_star_crosses_directories() {
    assert!(covers(&[find_path("/data/*.csv")], &new_output()));
    assert!(covers(&[find_path("/data/*.csv")], &old_output()));
    assert!(!covers(&[g("/data/*.csv")], &new_output()));
    // `find -path 'a/**/b'` is fnmatch: two stars, not "zero or more directories".
    assert!(!find_path("a/**/b").matches("a/b"));
    assert!(find_path("a/**/b").matches("a/x/y/b"));
}

#[test]
fn date_prefix_glob_overlaps_but_does_not_cover_dates() {
    let dated = p(&[lit("ticker_"), strftime("%Y-%m-%d"), lit(".csv")]);
    let y2026 = g("ticker_2026*.csv");
    assert_eq!(rel(&y2026, &dated), Relation::Overlaps);
    let w = overlap_witness(&y2026, &dated).unwrap_or_default();
    assert!(w.starts_with("ticker_2026-") && dated.matches(&w) && y2026.matches(&w));
    let u = uncovered_witness(std::slice::from_ref(&y2026), &dated).unwrap_or_default();
    assert!(dated.matches(&u) && !y2026.matches(&u), "{u}");
}

#[test]
fn union_of_cleanups_covers_what_neither_covers_alone() {
    let a = g("/d/*.csv");
    let b = g("/d/*.tsv");
    let both = p(&[lit("/d/x."), glob_piece("[ct]sv")]);
    assert!(!covers(std::slice::from_ref(&a), &both));
    assert!(!covers(std::slice::from_ref(&b), &both));
    assert!(covers(&[a, b], &both));
}

// ----- symbols ----------------------------------------------------------------------------------

#[test]
fn symbols_equal_only_themselves() {
    let x = p(&[sym("DATA_DIR"), lit("/x")]);
    assert_eq!(rel(&x, &p(&[sym("DATA_DIR"), lit("/x")])), Relation::Equal);
    assert_eq!(rel(&x, &p(&[sym("OTHER"), lit("/x")])), Relation::Disjoint);
    assert_eq!(rel(&g("**/x"), &x), Relation::Covers);
    assert_eq!(rel(&g("/**/x"), &x), Relation::Covers);
    assert_eq!(rel(&g("/data/x"), &x), Relation::Disjoint);
    assert_eq!(
        rel(&p(&[path_hole("dir"), lit("/x")]), &x),
        Relation::Covers
    );
    // A symbol may span directories: one `*` does not claim it.
    assert!(!covers(&[g("/*/x")], &x));
    assert!(!covers(&[g("*/x")], &x));
}

#[test]
fn symbols_display_and_count_as_absolute() {
    let x = p(&[sym("DATA_DIR"), lit("/ticker/x.csv")]);
    assert_eq!(x.display(), "${DATA_DIR}/ticker/x.csv");
    assert!(x.is_absolute());
    assert_eq!(x.literal_prefix(), "");
    assert_eq!(
        overlap_witness(&x, &g("**/*.csv")).as_deref(),
        Some("${DATA_DIR}/ticker/x.csv")
    );
    assert!(!x.matches("${DATA_DIR}/ticker/x.csv"));
    let mid = p(&[lit("/base/"), sym("SUB"), lit("/x")]);
    assert_eq!(mid.display(), "/base/${SUB}/x");
    assert!(covers(&[g("/base/**")], &mid));
}

#[test]
fn symbol_in_a_name_is_not_a_literal() {
    let a = p(&[lit("/logs/app_"), sym("HOST"), lit(".log")]);
    assert_eq!(rel(&a, &g("/logs/app_x.log")), Relation::Disjoint);
    assert_eq!(rel(&a, &a.clone()), Relation::Equal);
}

// ----- normalisation ----------------------------------------------------------------------------

#[test]
fn literal_paths_are_normalised() {
    assert_eq!(
        normalize_literal_path("/data//ticker/./x/../y.csv"),
        "/data/ticker/y.csv"
    );
    assert_eq!(normalize_literal_path("./a/b/"), "a/b");
    assert_eq!(normalize_literal_path("/"), "/");
    assert_eq!(normalize_literal_path("//"), "/");
    assert_eq!(normalize_literal_path("/.."), "/");
    assert_eq!(normalize_literal_path("a/.."), ".");
    assert_eq!(normalize_literal_path("../a/../../b"), "../../b");
    assert_eq!(normalize_literal_path("."), ".");
    assert_eq!(normalize_literal_path(""), "");
    assert_eq!(normalize_literal_path("a/./b/./"), "a/b");
    assert_eq!(normalize_literal_path(".hidden/..x"), ".hidden/..x");
}

#[test]
fn patterns_are_normalised_across_pieces() {
    let a = p(&[lit("/data//ticker/./x/../"), glob_piece("y*.csv")]);
    assert_eq!(a.display(), "/data/ticker/y*.csv");
    assert_eq!(rel(&a, &g("/data/ticker/y*.csv")), Relation::Equal);
    let b = p(&[lit("/data/"), lit("/ticker/"), hole("day"), lit("/")]);
    assert_eq!(b.display(), "/data/ticker/{day}");
    // A hole is unknown: `{day}/..` is not folded.
    let c = p(&[lit("/d/"), hole("x"), lit("/../y")]);
    assert_eq!(c.display(), "/d/{x}/../y");
    assert!(!c.matches("/d/y"));
    assert!(c.matches("/d/q/../y"));
}

#[test]
fn strftime_slashes_stay_inside_the_hole_display() {
    let a = p(&[lit("/logs/"), strftime("/%Y/%m")]);
    assert_eq!(a.display(), "/logs/{/%Y/%m}");
    assert!(a.matches("/logs/2026/03"));
    assert_eq!(a.literal_prefix(), "/logs/");
}

// ----- globs ------------------------------------------------------------------------------------

#[test]
fn classes_question_marks_and_escapes() {
    let a = g("/d/[a-c]?[!x].txt");
    assert!(a.matches("/d/bzq.txt"));
    assert!(!a.matches("/d/dzq.txt"));
    assert!(!a.matches("/d/bzx.txt"));
    assert!(!a.matches("/d/b/q.txt"));
    assert!(g("/d/[^x]").matches("/d/y"));
    assert!(g("a\\*b").matches("a*b"));
    assert!(!g("a\\*b").matches("axb"));
    assert!(g("a[*]b").matches("a*b"));
    assert!(g("a[]]b").matches("a]b"));
    assert!(g("a[!]]b").matches("a-b"));
    assert!(g("a[[:digit:]]").matches("a7"));
    assert!(!g("a[[:digit:]]").matches("ax"));
    // An unclosed `[` is a literal.
    assert!(g("a[b").matches("a[b"));
    assert!(g("a[-x]").matches("a-"));
    // Bracket expressions never match `/`.
    assert!(!g("a[/]b").matches("a/b"));
    assert!(!g("a[!x]b").matches("a/b"));
    assert!(g("trail\\").matches("trail\\"));
}

#[test]
fn case_insensitive_globs() {
    let a = iglob("/d/Ticker_*.CSV");
    assert!(a.matches("/d/ticker_1.csv"));
    assert!(a.matches("/d/TICKER_1.Csv"));
    assert!(iglob("[a-c]x").matches("Bx"));
    assert!(!iglob("[!a]x").matches("Ax"));
    assert!(iglob("é").matches("É"));
    assert!(covers(&[iglob("*.csv")], &g("*.CSV")));
    assert!(!covers(&[g("*.csv")], &iglob("*.csv")));
}

#[test]
fn double_star_segments() {
    let a = g("a/**/b");
    for yes in ["a/b", "a/x/b", "a/x/y/b"] {
        assert!(a.matches(yes), "{yes}");
    }
    for no in ["a//b", "ab", "a/xb", "a/b/c"] {
        assert!(!a.matches(no), "{no}");
    }
    let t = g("a/**");
    assert!(t.matches("a/x") && t.matches("a/x/y"));
    assert!(!t.matches("a") && !t.matches("a/"));
    assert!(g("**").matches("/any/thing"));
    assert!(g("**/x").matches("x") && g("**/x").matches("/a/x"));
    // Not a whole segment: just a star.
    assert!(!g("a**/b").matches("ax/y/b"));
    assert!(g("a**/b").matches("axy/b"));
}

#[test]
fn subtree_includes_the_directory_and_everything_below() {
    let d = subtree(&[lit("/data/ticker")]);
    assert!(d.matches("/data/ticker"));
    assert!(d.matches("/data/ticker/a/b"));
    assert!(!d.matches("/data/tickers"));
    assert_eq!(rel(&d, &g("/data/ticker/**")), Relation::Covers);
    let root = subtree(&[lit("/")]);
    assert!(root.matches("/") && root.matches("/a/b"));
    assert!(covers(&[root], &g("/**")));
    assert!(subtree(&[glob_piece("/*")]).matches("/a/b/c"));
}

#[test]
fn relations_of_holes() {
    let seg = p(&[lit("/d/"), hole("x")]);
    let deep = p(&[lit("/d/"), path_hole("x")]);
    assert_eq!(rel(&deep, &seg), Relation::Covers);
    assert_eq!(rel(&g("/d/*"), &seg), Relation::Equal);
    assert_eq!(rel(&g("/d/**"), &deep), Relation::Equal);
    assert_eq!(rel(&seg, &g("/e/*")), Relation::Disjoint);
    assert_eq!(rel(&g("/d/*.csv"), &seg), Relation::CoveredBy);
}

#[test]
fn strftime_shapes() {
    let shape = |f: &str| p(&[strftime(f)]);
    assert!(shape("%F").matches("2026-03-19"));
    assert!(shape("%T").matches("23:59:01"));
    assert!(shape("%j").matches("001"));
    assert!(shape("%s").matches("1700000000"));
    assert!(shape("100%%").matches("100%"));
    assert!(shape("%d-%b").matches("19-Mar"));
    assert!(!shape("%d-%b").matches("19-"));
    assert!(shape("%-d").matches("9") && shape("%-d").matches("19"));
    assert!(shape("%e").matches(" 9"));
    assert!(!shape("%b").matches("a/b"));
    assert!(shape("%").matches("%"));
    assert_eq!(rel(&shape("%Y%m%d"), &g("[0-9]*")), Relation::CoveredBy);
}

// ----- display and accessors --------------------------------------------------------------------

#[test]
fn display_strings() {
    assert_eq!(cleanup().display(), "/data/ticker/ticker_*.csv");
    assert_eq!(new_output().display(), "/data/ticker/{day}/{exchange}.csv");
    assert_eq!(subtree(&[lit("/data/ticker")]).display(), "/data/ticker/**");
    assert_eq!(
        subtree(&[lit("/data/ticker")]).base_display(),
        "/data/ticker"
    );
    assert_eq!(subtree(&[lit("/")]).display(), "/**");
    assert_eq!(
        Pattern::from_pieces(&[glob_piece("a/**")], true).display(),
        "a/**"
    );
    assert_eq!(g("a/\\*[!x]?").display(), "a/\\*[!x]?");
    assert_eq!(
        p(&[sym("HOME"), lit("/.cache")]).display(),
        "${HOME}/.cache"
    );
}

#[test]
fn literal_prefixes_and_absoluteness() {
    assert_eq!(cleanup().literal_prefix(), "/data/ticker/");
    assert_eq!(g("/data/ticker").literal_prefix(), "/data/");
    assert_eq!(p(&[hole("x"), lit("/a")]).literal_prefix(), "");
    assert_eq!(g("*.csv").literal_prefix(), "");
    assert_eq!(g("rel/dir/*.csv").literal_prefix(), "rel/dir/");
    assert_eq!(iglob("/Data/x").literal_prefix(), "/");
    assert!(cleanup().is_absolute());
    assert!(!g("x/y").is_absolute());
    assert!(!p(&[hole("x"), lit("/a")]).is_absolute());
}

#[test]
fn structural_equality_sees_through_display() {
    assert_ne!(p(&[lit("a*")]), g("a*"));
    assert_ne!(p(&[lit("{day}")]), p(&[hole("day")]));
    assert_eq!(p(&[lit("/a//b")]), p(&[lit("/a/b")]));
    assert_ne!(p(&[lit("/a")]), subtree(&[lit("/a")]));
}

#[test]
fn empty_patterns_match_nothing() {
    let e = p(&[]);
    assert!(!e.matches(""));
    assert_eq!(rel(&e, &e.clone()), Relation::Equal);
    assert!(covers(&[], &e));
    assert!(!covers(&[], &cleanup()));
    assert!(!overlaps(&e, &g("**")));
}

#[test]
fn relative_and_absolute_paths_are_disjoint() {
    assert_eq!(rel(&g("a/*"), &g("/a/*")), Relation::Disjoint);
    assert!(!g("a/b").matches("/a/b"));
}

#[test]
fn adversarial_patterns_stay_bounded() {
    let time = |f: &dyn Fn()| {
        let t = std::time::Instant::now();
        f();
        t.elapsed()
    };
    // Determinising `*a?????...` needs a state set per window of the last characters.
    let evil = g(&format!("*a{}", "?".repeat(20)));
    let spelled = g(&"*a".repeat(30));
    let took = time(&|| {
        assert_eq!(try_covers(std::slice::from_ref(&evil), &spelled), None);
        let _ = try_covers(std::slice::from_ref(&spelled), &evil);
    });
    assert!(took.as_secs() < 10, "{took:?}");
    let wide: String = ('\u{100}'..'\u{300}').collect();
    let many = g(&format!("*{wide}*"));
    let took = time(&|| {
        let _ = relation(&many, &g(&format!("*{wide}")));
    });
    assert!(took.as_secs() < 10, "{took:?}");
    let long = "/x".repeat(2000);
    let a = p(&[lit(&long)]);
    assert!(a.matches(&long));
    assert_eq!(rel(&a, &a.clone()), Relation::Equal);
}

#[test]
fn hostile_text_never_panics() {
    for text in [
        "[", "[!", "[]", "[!]", "\\", "[[:", "[[:x", "[z-a]", "**/**/", "/../..", "%",
    ] {
        let a = g(text);
        let _ = (a.display(), a.literal_prefix(), a.matches(text));
        let _ = relation(&a, &g("**"));
        let s = p(&[strftime(text), Piece::Symbol(text.to_string().into())]);
        let _ = relation(&s, &a);
    }
}

#[test]
fn holes_name_concrete_paths_so_unions_stay_monotone() {
    let b = p(&[lit("a/"), path_hole("p")]);
    let split = [g("a/*"), g("a/*/**")];
    assert!(covers(&[g("**/*")], &b));
    assert!(covers(&split, &b));
    let mut more = split.to_vec();
    more.push(p(&[sym("X")]));
    assert!(covers(&more, &b), "adding a pattern can only cover more");
    let name = p(&[lit("/data/"), path_hole("base"), lit(".csv")]);
    assert!(covers(&[g("/data/**/*.csv")], &name));
}

#[test]
fn subtree_of_a_nullable_relative_glob_stays_relative() {
    let star = Pattern::from_pieces(&[glob_piece("*")], true);
    assert!(star.matches("a") && star.matches("a/b"));
    assert!(!star.matches("/a"));
}

/// Rough timings of typical queries (`cargo test --release --lib pattern -- --ignored`).
#[test]
#[ignore]
fn timing_of_typical_queries() {
    let cleanups: Vec<Pattern> = (0..20)
        .map(|i| g(&format!("/data/feed{i}/*/part-*.parquet")))
        .chain([cleanup(), g("/data/ticker/**"), find_path("/var/log/*.gz")])
        .collect();
    let outputs = [
        old_output(),
        new_output(),
        p(&[sym("DATA_DIR"), lit("/x.csv")]),
    ];
    let n = 2000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        for o in &outputs {
            std::hint::black_box(relation(&cleanup(), o));
        }
    }
    eprintln!("build + relation: {:?} per call", t.elapsed() / (3 * n));
    let (c, o) = (cleanup(), new_output());
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(relation(&c, &o));
        std::hint::black_box(relation(&c, &old_output()));
    }
    eprintln!("relation: {:?} per call", t.elapsed() / (2 * n));
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(covers(&cleanups, &o));
    }
    eprintln!("covers by a union of 23: {:?} per call", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(c.matches("/data/ticker/ticker_2026-03-19.csv"));
    }
    eprintln!("matches: {:?} per call", t.elapsed() / n);
}

#[test]
fn emptiness() {
    assert!(p(&[]).is_empty());
    assert!(!cleanup().is_empty());
    assert!(g("a[/]b").is_empty(), "a bracket never matches `/`");
    assert!(
        !p(&[strftime("%Y/"), lit("/x")]).is_empty(),
        "a hole's `/` joins like a literal"
    );
    assert!(!p(&[lit("/"), sym("X")]).is_empty());
}

#[test]
fn debug_output_is_the_display() {
    assert_eq!(
        format!("{:?}", subtree(&[lit("/data/ticker")])),
        r#"Pattern("/data/ticker/**")"#
    );
}

#[test]
fn open_values_and_what_is_spelled() {
    let open = Pattern::from_pieces(
        &[
            Piece::Lit("/etc/systemd/system/".into()),
            Piece::Hole {
                label: "name".into(),
                shape: crate::expr::HoleShape::Segment,
            },
        ],
        false,
    );
    let unit = Pattern::glob("/etc/systemd/system/app.service");
    assert!(open.has_open_value());
    assert!(overlaps(&open, &unit));
    let spelled = open.spelled_only().expect("an open value");
    assert!(!overlaps(&spelled, &unit));
    // What it spells still meets what it spells.
    assert!(overlaps(&spelled, &Pattern::glob("/etc/systemd/system/*")));
    // A symbol is not an open value, and a literal has none.
    let symbol = Pattern::from_pieces(
        &[Piece::Symbol("DATA_DIR".into()), Piece::Lit("/x".into())],
        false,
    );
    assert!(!symbol.has_open_value());
    assert!(unit.spelled_only().is_none());
}

#[test]
fn remote_roots_are_their_own_namespace() {
    let object = p(&[lit("s3://my-bucket/reports/"), hole("day"), lit(".csv")]);
    assert!(object.is_remote() && object.is_absolute());
    assert_eq!(object.display(), "s3://my-bucket/reports/{day}.csv");
    assert!(object.matches("s3://my-bucket/reports/2024-01-01.csv"));
    // A synced prefix covers the object; a local path with the same tail, a whole local tree,
    // a leading `**/` and another bucket do not meet it.
    let synced = subtree(&[lit("s3://my-bucket/reports")]);
    assert_eq!(rel(&synced, &object), Relation::Covers);
    for local in [
        "/my-bucket/reports/*.csv",
        "/**",
        "**/*.csv",
        "s3://other/reports/*",
    ] {
        assert_eq!(rel(&g(local), &object), Relation::Disjoint, "{local}");
    }
    assert!(!object.matches("/my-bucket/reports/x.csv"));
    // `host:path` spelled as a URL, and plain text that only looks like one, are not remote.
    assert!(p(&[lit("rsync://backup/module/db")]).is_remote());
    for plain in ["s3:/b/k", "s3://", "/data/s3://x", "S3://b/k", "data:x"] {
        assert!(!p(&[lit(plain)]).is_remote(), "{plain}");
    }
}

/// Patterns build their automata from their tokens when first compared: for every kind of
/// piece, that automaton is the one compiled from the normal form.
#[test]
fn automata_built_on_first_use_are_those_of_the_normal_form() {
    let cases: Vec<Vec<Piece>> = vec![
        vec![],
        vec![lit("/")],
        vec![lit(".")],
        vec![lit("/data/ticker/"), glob_piece("ticker_*.csv")],
        vec![glob_piece("/srv/**/x/**")],
        vec![glob_piece("**/cache/**/*.tmp")],
        vec![lit("/var/log/"), hole("app"), lit("/"), path_hole("rest")],
        vec![lit("/backups/db-"), strftime("%Y-%m-%d"), lit(".sql.gz")],
        vec![sym("DATA_DIR"), lit("/out/"), glob_piece("*.parquet")],
        vec![lit("s3://bucket/"), glob_piece("**"), lit("/part-*")],
        vec![lit("rsync://host/module/"), hole("day")],
        vec![Piece::Glob {
            text: "/etc/*.[Cc]onf".into(),
            star_matches_slash: true,
            case_insensitive: true,
        }],
        vec![lit("/a/./b/../c//d/")],
    ];
    for pieces in &cases {
        for subtree in [false, true] {
            let pattern = Pattern::from_pieces(pieces, subtree);
            assert_eq!(
                crate::store::codec::pack(pattern.nfa()),
                crate::store::codec::pack(&build::compile_eagerly(pieces, subtree)),
                "{pattern:?} (subtree {subtree})"
            );
        }
    }
}
