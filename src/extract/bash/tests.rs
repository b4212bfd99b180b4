use super::*;
use crate::expr::HoleShape;
use crate::extract::FindSpec;
use crate::rules::models::Models;

/// The built-in models, parsed once for all tests (a fresh copy for tests that add rows).
fn models() -> Models {
    static MODELS: std::sync::OnceLock<Models> = std::sync::OnceLock::new();
    MODELS
        .get_or_init(|| Models::builtin().expect("built-in models load"))
        .clone()
}

fn facts(src: &str) -> FileFacts {
    extract("ops/x.sh", src, &models())
}

fn lit(text: &str) -> Expr {
    Expr::lit(text)
}

fn glob(text: &str) -> Expr {
    Expr::glob(text)
}

fn var(name: &str, line: u32) -> Expr {
    var_in(name, 0, line)
}

fn var_in(name: &str, scope: ScopeId, line: u32) -> Expr {
    Expr::Var {
        name: name.to_string().into(),
        scope,
        line,
        env_fallback: true,
        default: None,
    }
}

fn concat(parts: Vec<Expr>) -> Expr {
    Expr::Concat { parts }
}

fn path(access: &RawAccess) -> &PathTarget {
    (access.resource.as_path().expect("a path access")) as _
}

/// The path accesses (credentials and queues have helpers of their own).
fn path_accesses(f: &FileFacts) -> Vec<&RawAccess> {
    f.accesses
        .iter()
        .filter(|a| a.resource.as_path().is_some())
        .collect()
}

/// (mode, line, expr, reach) of every path access, for compact assertions.
fn summary(f: &FileFacts) -> Vec<(Mode, u32, Expr, Reach)> {
    path_accesses(f)
        .into_iter()
        .map(|a| (a.mode, a.line, path(a).expr.clone(), path(a).reach.clone()))
        .collect()
}

/// The path accesses with this mode.
fn with_mode(f: &FileFacts, mode: Mode) -> Vec<&RawAccess> {
    path_accesses(f)
        .into_iter()
        .filter(|a| a.mode == mode)
        .collect()
}

/// The one access with this mode.
fn only(f: &FileFacts, mode: Mode) -> &RawAccess {
    let found = with_mode(f, mode);
    assert_eq!(
        found.len(),
        1,
        "expected one {mode} access in {:#?}",
        summary(f)
    );
    found[0]
}

/// The expression of the one path access of a one-command script.
fn expr_of(src: &str) -> Expr {
    let f = facts(src);
    let paths = path_accesses(&f);
    assert_eq!(paths.len(), 1, "{:#?}", summary(&f));
    path(paths[0]).expr.clone()
}

fn binding<'f>(f: &'f FileFacts, name: &str) -> &'f Binding {
    f.bindings
        .iter()
        .find(|b| b.name == name)
        .unwrap_or_else(|| panic!("no binding of {name} in {:#?}", f.bindings))
}

fn run_paths(f: &FileFacts) -> Vec<(u32, Expr)> {
    f.runs
        .iter()
        .filter_map(|r| match &r.target {
            RunTarget::Path { expr } => Some((r.line, expr.clone())),
            RunTarget::PythonModule { .. }
            | RunTarget::Unit { .. }
            | RunTarget::Program { .. }
            | RunTarget::Image { .. } => None,
        })
        .collect()
}

fn find_spec(access: &RawAccess) -> &FindSpec {
    match &path(access).reach {
        Reach::Find(spec) => spec,
        other => panic!("not a find reach: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The incident

#[test]
fn ticker_cleanup_find_delete_with_defaulted_dir() {
    let f = facts(
        "#!/bin/bash\n\
         TICKER_DIR=\"${TICKER_DIR:-/data/ticker}\"\n\
         find \"$TICKER_DIR\" -maxdepth 1 -name 'ticker_*.csv' -mtime +3 -delete\n",
    );
    let b = binding(&f, "TICKER_DIR");
    assert_eq!(b.line, 2);
    assert_eq!(
        b.value,
        Expr::Var {
            name: "TICKER_DIR".into(),
            scope: 0,
            line: 2,
            env_fallback: true,
            default: Some(Box::new(lit("/data/ticker"))),
        }
    );
    let access = only(&f, Mode::Delete);
    assert_eq!(access.line, 3);
    assert_eq!(access.scope, 0);
    assert_eq!(access.via, "find -delete");
    let target = path(access);
    assert_eq!(target.expr, var("TICKER_DIR", 3));
    assert_eq!(
        target.retention.as_deref(),
        Some("modified more than 3 days ago")
    );
    assert_eq!(
        target.reach,
        Reach::Find(FindSpec {
            names: vec![glob("ticker_*.csv")],
            max_depth: Some(1),
            ..FindSpec::default()
        })
    );
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
}

// ---------------------------------------------------------------------------------------------
// Words

#[test]
fn quoted_and_unquoted_words_are_literals() {
    assert_eq!(expr_of("rm /tmp/a.txt"), lit("/tmp/a.txt"));
    assert_eq!(expr_of("rm '/tmp/my file'"), lit("/tmp/my file"));
    assert_eq!(expr_of("rm \"/tmp/x y\""), lit("/tmp/x y"));
    assert_eq!(expr_of("rm /tmp/my\\ file"), lit("/tmp/my file"));
    assert_eq!(expr_of("rm $'/tmp/a\\tb'"), lit("/tmp/a\tb"));
}

#[test]
fn unquoted_glob_characters_make_a_glob_and_quoted_ones_do_not() {
    assert_eq!(expr_of("rm /data/*.csv"), glob("/data/*.csv"));
    assert_eq!(expr_of("rm /data/file?.csv"), glob("/data/file?.csv"));
    assert_eq!(expr_of("rm /data/[ab].csv"), glob("/data/[ab].csv"));
    assert_eq!(expr_of("rm '/data/*.csv'"), lit("/data/*.csv"));
    assert_eq!(expr_of("rm /data/\\*.csv"), lit("/data/*.csv"));
    assert_eq!(
        expr_of("rm '/data/my dir'/*.csv"),
        concat(vec![lit("/data/my dir"), glob("/*.csv")])
    );
}

#[test]
fn variables_braces_and_defaults() {
    assert_eq!(expr_of("rm $DIR/x"), concat(vec![var("DIR", 1), lit("/x")]));
    assert_eq!(
        expr_of("rm \"${DIR}/x\""),
        concat(vec![var("DIR", 1), lit("/x")])
    );
    let with_default = |name: &str, d: &str| Expr::Var {
        name: name.into(),
        scope: 0,
        line: 1,
        env_fallback: true,
        default: Some(Box::new(lit(d))),
    };
    assert_eq!(expr_of("rm \"${D:-/tmp}\""), with_default("D", "/tmp"));
    assert_eq!(expr_of("rm \"${D-/tmp}\""), with_default("D", "/tmp"));
    assert_eq!(expr_of("rm \"${D:=/tmp}\""), with_default("D", "/tmp"));
    assert_eq!(expr_of("rm \"${D:?unset}\""), var("D", 1));
    assert_eq!(
        expr_of("rm \"${F%/*}/done\""),
        concat(vec![
            Expr::Parent {
                of: Box::new(var("F", 1))
            },
            lit("/done")
        ])
    );
}

#[test]
fn positional_parameters_are_holes() {
    assert_eq!(expr_of("rm \"$1\""), Expr::hole("$1"));
    assert_eq!(expr_of("rm \"$@\""), Expr::hole("$@"));
    assert_eq!(
        expr_of("rm \"${2}\".bak"),
        concat(vec![Expr::hole("$2"), lit(".bak")])
    );
}

#[test]
fn command_substitutions_are_holes_named_after_the_command() {
    assert_eq!(
        expr_of("rm /tmp/$(hostname).lock"),
        concat(vec![lit("/tmp/"), Expr::hole("$(hostname)"), lit(".lock")])
    );
    let f = facts("rm \"$(cat /etc/target)\"");
    assert_eq!(path(only(&f, Mode::Delete)).expr, Expr::path_hole("$(cat)"));
    assert_eq!(path(only(&f, Mode::Read)).expr, lit("/etc/target"));
    assert_eq!(
        expr_of("rm \"$(dirname \"$F\")/x\""),
        concat(vec![
            Expr::Parent {
                of: Box::new(var("F", 1))
            },
            lit("/x")
        ])
    );
}

#[test]
fn date_substitutions_are_strftime_holes() {
    let date = |format: &str| Expr::Hole {
        label: "$(date)".into(),
        shape: HoleShape::Strftime {
            format: format.into(),
        },
    };
    assert_eq!(
        expr_of("rm /data/ticker_$(date +%Y-%m-%d).csv"),
        concat(vec![lit("/data/ticker_"), date("%Y-%m-%d"), lit(".csv")])
    );
    assert_eq!(
        expr_of("rm /data/x_$(date -d yesterday +%Y%m%d).csv"),
        concat(vec![lit("/data/x_"), date("%Y%m%d"), lit(".csv")])
    );
    assert_eq!(
        expr_of("rm \"/data/x_$(date --date='3 days ago' '+%F')\""),
        concat(vec![lit("/data/x_"), date("%F")])
    );
    assert_eq!(
        expr_of("rm /data/x_`date +%F`"),
        concat(vec![lit("/data/x_"), date("%F")])
    );
}

#[test]
fn tilde_is_home() {
    assert_eq!(
        expr_of("rm ~/x.log"),
        concat(vec![var("HOME", 1), lit("/x.log")])
    );
    assert_eq!(expr_of("rm ~"), var("HOME", 1));
    assert_eq!(expr_of("rm '~/x'"), lit("~/x"));
    assert_eq!(
        expr_of("rm ~bob/x"),
        concat(vec![Expr::path_hole("~bob"), lit("/x")])
    );
}

#[test]
fn brace_expansion_is_an_alternative() {
    let alt = |options: Vec<Expr>| Expr::Alt { options };
    assert_eq!(
        expr_of("rm /data/{a,b}.csv"),
        concat(vec![
            lit("/data/"),
            alt(vec![lit("a"), lit("b")]),
            lit(".csv")
        ])
    );
    assert_eq!(
        expr_of("rm /data/{in,out}/*.tmp"),
        concat(vec![
            lit("/data/"),
            alt(vec![lit("in"), lit("out")]),
            glob("/*.tmp")
        ])
    );
    assert_eq!(
        expr_of("rm /d/x{1..3}"),
        concat(vec![lit("/d/x"), alt(vec![lit("1"), lit("2"), lit("3")])])
    );
    assert_eq!(expr_of("rm '/d/{a,b}'"), lit("/d/{a,b}"));
}

#[test]
fn adjacent_parts_concatenate() {
    assert_eq!(
        expr_of("rm \"$BASE\"/logs/\"$NAME\".log"),
        concat(vec![
            var("BASE", 1),
            lit("/logs/"),
            var("NAME", 1),
            lit(".log")
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// Bindings

#[test]
fn assignments_export_readonly_declare_bind() {
    let f = facts("A=/a\nexport B=/b\nreadonly C=\"/c\"\ndeclare -r D=/d E=/e\nF+=/more\n");
    assert_eq!(binding(&f, "A").value, lit("/a"));
    assert_eq!(binding(&f, "B").value, lit("/b"));
    assert_eq!(binding(&f, "C").value, lit("/c"));
    assert_eq!(binding(&f, "D").value, lit("/d"));
    assert_eq!(binding(&f, "E").line, 4);
    assert_eq!(
        binding(&f, "F").value,
        concat(vec![var("F", 5), lit("/more")])
    );
}

#[test]
fn assignment_values_with_glob_characters_are_globs() {
    let f = facts("PATTERN='ticker_*.csv'\nOUT=/data/out\n");
    assert_eq!(binding(&f, "PATTERN").value, glob("ticker_*.csv"));
    assert_eq!(binding(&f, "OUT").value, lit("/data/out"));
}

#[test]
fn local_binds_in_the_function_scope() {
    let f = facts("cleanup() {\n  local dir=/tmp/work\n  rm -r \"$dir\"\n}\n");
    assert_eq!(f.scopes.len(), 2);
    assert_eq!(f.scopes[1].kind, ScopeKind::Function);
    assert_eq!(f.scopes[1].name, "cleanup");
    assert_eq!(f.scopes[1].parent, Some(0));
    let b = binding(&f, "dir");
    assert_eq!((b.scope, b.line), (1, 2));
    let access = only(&f, Mode::Delete);
    assert_eq!(access.scope, 1);
    assert_eq!(path(access).expr, var_in("dir", 1, 3));
    assert_eq!(path(access).reach, Reach::Tree);
}

#[test]
fn for_loop_binds_the_alternatives_of_its_words() {
    let f = facts("for d in /a /b \"/c d\"; do\n  rm -r \"$d\"\ndone\n");
    assert_eq!(
        binding(&f, "d").value,
        Expr::Alt {
            options: vec![lit("/a"), lit("/b"), lit("/c d")]
        }
    );
    assert_eq!(only(&f, Mode::Delete).line, 2);
}

#[test]
fn for_loop_over_a_glob_binds_the_glob() {
    let f = facts("for f in /data/*.csv; do gzip \"$f\"; done\n");
    assert_eq!(binding(&f, "f").value, glob("/data/*.csv"));
    assert_eq!(path(only(&f, Mode::MoveFrom)).expr, glob("/data/*.csv"));
}

#[test]
fn a_loop_variable_takes_its_values_from_its_own_loop() {
    let f = facts(
        "for f in /var/a /var/b; do chmod 600 \"$f\"; done\n\
         for f in $(cat /etc/list); do rm \"$f\"; done\n\
         while read -r f; do gzip \"$f\"; done < /etc/other\n\
         for f in /x /y; do f=\"$f.bak\"; touch \"$f\"; done\n\
         rm \"$f\"\n",
    );
    let deletes: Vec<(u32, Expr)> = with_mode(&f, Mode::Delete)
        .iter()
        .map(|a| (a.line, path(a).expr.clone()))
        .collect();
    assert_eq!(
        deletes,
        vec![(2, Expr::path_hole("$(cat)")), (5, var("f", 5))]
    );
    assert_eq!(
        path(only(&f, Mode::MoveFrom)).expr,
        Expr::path_hole("read f")
    );
    let alt = Expr::Alt {
        options: vec![lit("/x"), lit("/y")],
    };
    assert_eq!(
        path(only(&f, Mode::Write)).expr,
        concat(vec![alt, lit(".bak")])
    );
}

#[test]
fn after_its_loop_a_variable_is_found_by_its_last_binding() {
    let f = facts("for f in /var/a /var/b; do\n  :\ndone\nrm \"$f\"\n");
    assert_eq!(path(only(&f, Mode::Delete)).expr, var("f", 4));
}

#[test]
fn unquoted_lists_are_split_into_words() {
    let f = facts(
        "DIRS=\"/var/a /var/b\"\n\
         for d in $DIRS; do rm -r \"$d\"; done\n\
         LIST=\"/var/c   /var/d\"\n\
         rm $LIST ${LIST}\n\
         rm \"$LIST\"\n\
         BASE=/srv\n\
         SUBS=\"$BASE/x $BASE/y\"\n\
         for s in $SUBS; do touch \"$s\"; done\n",
    );
    let deletes: Vec<(u32, Expr)> = with_mode(&f, Mode::Delete)
        .iter()
        .map(|a| (a.line, path(a).expr.clone()))
        .collect();
    assert_eq!(
        deletes,
        vec![
            (
                2,
                Expr::Alt {
                    options: vec![lit("/var/a"), lit("/var/b")]
                }
            ),
            (4, lit("/var/c")),
            (4, lit("/var/d")),
            (4, lit("/var/c")),
            (4, lit("/var/d")),
            (5, var("LIST", 5)),
        ]
    );
    assert_eq!(
        binding(&f, "s").value,
        Expr::Alt {
            options: vec![
                concat(vec![var("BASE", 7), lit("/x")]),
                concat(vec![var("BASE", 7), lit("/y")]),
            ]
        }
    );
}

#[test]
fn read_binds_an_unknown_value() {
    let f = facts("read -r -p 'dir? ' target\nrm -r \"$target\"\n");
    assert_eq!(binding(&f, "target").value, Expr::path_hole("read target"));
    let f = facts("while read line; do echo \"$line\"; done < /etc/list\n");
    assert_eq!(binding(&f, "line").value, Expr::path_hole("read line"));
    assert_eq!(path(only(&f, Mode::Read)).expr, lit("/etc/list"));
}

// ---------------------------------------------------------------------------------------------
// cd

#[test]
fn cd_rebases_later_relative_paths() {
    let f = facts("cd /var/spool/out\nrm -f done/*.csv\nrm /abs/x\ncd sub\nrm y\ncd ..\nrm z\n");
    let deletes: Vec<Expr> = with_mode(&f, Mode::Delete)
        .iter()
        .map(|a| path(a).expr.clone())
        .collect();
    assert_eq!(
        deletes,
        vec![
            Expr::Join {
                parts: vec![lit("/var/spool/out"), glob("done/*.csv")]
            },
            lit("/abs/x"),
            Expr::Join {
                parts: vec![
                    Expr::Join {
                        parts: vec![lit("/var/spool/out"), lit("sub")]
                    },
                    lit("y")
                ]
            },
            Expr::Join {
                parts: vec![lit("/var/spool/out"), lit("z")]
            },
        ]
    );
}

#[test]
fn cd_to_a_variable_and_unknown_targets() {
    let f = facts("cd \"$WORK\" || exit 1\nrm ./tmp.txt\ncd -\nrm b\n");
    let deletes: Vec<Expr> = with_mode(&f, Mode::Delete)
        .iter()
        .map(|a| path(a).expr.clone())
        .collect();
    assert_eq!(
        deletes,
        vec![
            Expr::Join {
                parts: vec![var("WORK", 1), lit("tmp.txt")]
            },
            Expr::Join {
                parts: vec![Expr::path_hole("cd -"), lit("b")]
            },
        ]
    );
}

#[test]
fn cd_in_a_subshell_does_not_leak() {
    let f = facts("(cd /a && rm x)\nrm y\n");
    let deletes: Vec<Expr> = with_mode(&f, Mode::Delete)
        .iter()
        .map(|a| path(a).expr.clone())
        .collect();
    assert_eq!(
        deletes,
        vec![
            Expr::Join {
                parts: vec![lit("/a"), lit("x")]
            },
            lit("y")
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Commands from the models

#[test]
fn rm_deletes_and_recursive_flags_make_a_tree() {
    let f = facts("rm -f /a\nrm -rf /b\nrm -R /c\nrm --recursive --force /d\nrm -fr -- -x\n");
    let got: Vec<(u32, Reach)> = with_mode(&f, Mode::Delete)
        .iter()
        .map(|a| (a.line, path(a).reach.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, Reach::Exact),
            (2, Reach::Tree),
            (3, Reach::Tree),
            (4, Reach::Tree),
            (5, Reach::Tree)
        ]
    );
    assert_eq!(path(with_mode(&f, Mode::Delete)[4]).expr, lit("-x"));
}

#[test]
fn rmdir_and_unlink_delete() {
    let f = facts("rmdir -p /a/b\nunlink /c\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Delete, 1, lit("/a/b"), Reach::Exact),
            (Mode::Delete, 2, lit("/c"), Reach::Exact)
        ]
    );
}

#[test]
fn mv_moves_sources_to_the_destination() {
    let f = facts("mv /in/a.csv /in/b.csv /archive/\nmv -t /archive /in/c.csv\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::MoveFrom, 1, lit("/in/a.csv"), Reach::Tree),
            (Mode::MoveFrom, 1, lit("/in/b.csv"), Reach::Tree),
            (Mode::MoveTo, 1, lit("/archive/a.csv"), Reach::Tree),
            (Mode::MoveTo, 1, lit("/archive/b.csv"), Reach::Tree),
            (Mode::MoveFrom, 2, lit("/in/c.csv"), Reach::Tree),
            (Mode::MoveTo, 2, lit("/archive/c.csv"), Reach::Tree),
        ]
    );
}

#[test]
fn cp_copies_and_recursive_copies_trees() {
    let f = facts("cp /a /b\ncp -r /src/ /dst/\ncp -t /dst /x /y\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::CopyFrom, 1, lit("/a"), Reach::Exact),
            (Mode::MoveTo, 1, lit("/b"), Reach::Exact),
            (Mode::CopyFrom, 2, lit("/src/"), Reach::Tree),
            (Mode::MoveTo, 2, lit("/dst/src"), Reach::Tree),
            (Mode::CopyFrom, 3, lit("/x"), Reach::Exact),
            (Mode::CopyFrom, 3, lit("/y"), Reach::Exact),
            (Mode::MoveTo, 3, lit("/dst/x"), Reach::Exact),
            (Mode::MoveTo, 3, lit("/dst/y"), Reach::Exact),
        ]
    );
}

#[test]
fn rsync_copies_moves_and_deletes() {
    let f = facts(
        "rsync -az /data/out/ /backup/out/\n\
         rsync -a --remove-source-files /spool/ /archive/\n\
         rsync -a --delete /src/ /mirror/\n\
         rsync -az -e ssh /data/ backup@host:/srv/data/\n",
    );
    assert_eq!(
        summary(&f),
        vec![
            (Mode::CopyFrom, 1, lit("/data/out/"), Reach::Tree),
            (Mode::MoveTo, 1, lit("/backup/out/"), Reach::Tree),
            (Mode::MoveFrom, 2, lit("/spool/"), Reach::Tree),
            (Mode::MoveTo, 2, lit("/archive/"), Reach::Tree),
            (Mode::CopyFrom, 3, lit("/src/"), Reach::Tree),
            (Mode::MoveTo, 3, lit("/mirror/"), Reach::Tree),
            (Mode::Delete, 3, lit("/mirror/"), Reach::Tree),
            (Mode::CopyFrom, 4, lit("/data/"), Reach::Tree),
            (Mode::MoveTo, 4, lit("ssh://host/srv/data/"), Reach::Tree),
        ]
    );
}

#[test]
fn remote_operands_are_remote_patterns_never_local_paths() {
    let f = facts(
        "cd /srv
         rsync -a --password-file /etc/rsync.pass --log-file /var/log/rsync.log out/ backup::dumps/db/
         rsync -a /data/x host:rel/y
         scp app@db1:/etc/app.conf ./app.conf
         aws s3 sync /data/out s3://acme/reports/ --delete
         aws s3 rm s3://acme/tmp/ --recursive
         gsutil cp /data/x.csv gs://acme/in/
         rclone move /spool s3remote:bucket/spool
         curl -o /tmp/page https://example.com/page
",
    );
    assert_eq!(
        summary(&f),
        vec![
            (
                Mode::CopyFrom,
                2,
                Expr::Join {
                    parts: vec![lit("/srv"), lit("out/")]
                },
                Reach::Tree
            ),
            (
                Mode::MoveTo,
                2,
                lit("rsync://backup/dumps/db/"),
                Reach::Tree
            ),
            (Mode::Read, 2, lit("/etc/rsync.pass"), Reach::Exact),
            (Mode::Append, 2, lit("/var/log/rsync.log"), Reach::Exact),
            (Mode::CopyFrom, 3, lit("/data/x"), Reach::Tree),
            (Mode::MoveTo, 3, lit("ssh://host/~/rel/y"), Reach::Tree),
            (
                Mode::CopyFrom,
                4,
                lit("ssh://db1/etc/app.conf"),
                Reach::Exact
            ),
            (
                Mode::MoveTo,
                4,
                Expr::Join {
                    parts: vec![lit("/srv"), lit("app.conf")]
                },
                Reach::Exact
            ),
            (Mode::CopyFrom, 5, lit("/data/out"), Reach::Tree),
            (Mode::MoveTo, 5, lit("s3://acme/reports/"), Reach::Tree),
            (Mode::Delete, 5, lit("s3://acme/reports/"), Reach::Tree),
            (Mode::Delete, 6, lit("s3://acme/tmp/"), Reach::Tree),
            (Mode::CopyFrom, 7, lit("/data/x.csv"), Reach::Exact),
            (Mode::MoveTo, 7, lit("gs://acme/in/x.csv"), Reach::Exact),
            (Mode::MoveFrom, 8, lit("/spool"), Reach::Tree),
            (
                Mode::MoveTo,
                8,
                lit("rclone://s3remote/bucket/spool"),
                Reach::Tree
            ),
            (Mode::Write, 9, lit("/tmp/page"), Reach::Exact),
        ]
    );
    // Text that only looks remote stays local: a colon after a slash, a URL of no store.
    let f = facts(
        "cp /data/a:b /data/c
rsync -a ./x:y /backup/
wget -O /tmp/x ftp://mirror/x
",
    );
    assert!(
        summary(&f)
            .iter()
            .all(|(_, _, e, _)| !format!("{e:?}").contains("://")),
        "{:?}",
        summary(&f)
    );
}

#[test]
fn tar_create_reads_inputs_and_writes_the_archive() {
    let f = facts(
        "tar -czf /backup/t.tgz /data/ticker\n\
         tar czf /backup/u.tgz -C /data ticker\n\
         tar --create --file=/backup/v.tar --remove-files /spool/done\n",
    );
    assert_eq!(
        summary(&f),
        vec![
            (Mode::CopyFrom, 1, lit("/data/ticker"), Reach::Tree),
            (Mode::Write, 1, lit("/backup/t.tgz"), Reach::Exact),
            (
                Mode::CopyFrom,
                2,
                Expr::Join {
                    parts: vec![lit("/data"), lit("ticker")]
                },
                Reach::Tree
            ),
            (Mode::Write, 2, lit("/backup/u.tgz"), Reach::Exact),
            (Mode::MoveFrom, 3, lit("/spool/done"), Reach::Tree),
            (Mode::Write, 3, lit("/backup/v.tar"), Reach::Exact),
        ]
    );
}

#[test]
fn tar_extract_reads_the_archive_and_creates_the_directory() {
    let f = facts("tar -xzf /backup/t.tgz -C /restore\ntar tf /backup/t.tgz\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Read, 1, lit("/backup/t.tgz"), Reach::Exact),
            (Mode::Create, 1, lit("/restore"), Reach::Tree),
            (Mode::Read, 2, lit("/backup/t.tgz"), Reach::Exact),
        ]
    );
}

#[test]
fn mkdir_touch_ln() {
    let f = facts(
        "mkdir -p -m 755 /data/new\ntouch /data/new/.completed\nln -sf /data/new/x.csv /srv/latest.csv\n",
    );
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Create, 1, lit("/data/new"), Reach::Exact),
            (Mode::Write, 2, lit("/data/new/.completed"), Reach::Exact),
            (Mode::MoveTo, 3, lit("/srv/latest.csv"), Reach::Exact),
        ]
    );
}

#[test]
fn readers_read_their_operands() {
    let f = facts(
        "cat /a /b\nhead -n 5 /c\ntail -f /d\nwc -l /e\nsort -o /out /f\nmd5sum /g\nless /h\n",
    );
    let reads: Vec<Expr> = with_mode(&f, Mode::Read)
        .iter()
        .map(|a| path(a).expr.clone())
        .collect();
    assert_eq!(
        reads,
        vec![
            lit("/a"),
            lit("/b"),
            lit("/c"),
            lit("/d"),
            lit("/e"),
            lit("/f"),
            lit("/g"),
            lit("/h")
        ]
    );
    assert_eq!(path(only(&f, Mode::Write)).expr, lit("/out"));
}

#[test]
fn grep_awk_sed_skip_their_program() {
    let f = facts(
        "grep -v ERROR /var/log/a.log\n\
         grep -e foo -e bar /var/log/b.log\n\
         awk -F, '{print $1}' /data/c.csv\n\
         sed -n '1p' /data/d.csv\n\
         grep -r TODO /src\n",
    );
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Read, 1, lit("/var/log/a.log"), Reach::Exact),
            (Mode::Read, 2, lit("/var/log/b.log"), Reach::Exact),
            (Mode::Read, 3, lit("/data/c.csv"), Reach::Exact),
            (Mode::Read, 4, lit("/data/d.csv"), Reach::Exact),
            (Mode::Read, 5, lit("/src"), Reach::Tree),
        ]
    );
}

#[test]
fn sed_in_place_writes() {
    let f = facts("sed -i 's/a/b/' /etc/app.conf\nsed -i.bak -e 's/x/y/' /etc/other.conf\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Write, 1, lit("/etc/app.conf"), Reach::Exact),
            (Mode::Write, 2, lit("/etc/other.conf"), Reach::Exact),
        ]
    );
}

#[test]
fn ls_lists_directory_children_and_globs_exactly() {
    let f = facts("ls /data/ticker\nls -la /data/*.csv\nls -d /data\nls -R /data\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::List, 1, lit("/data/ticker"), Reach::Children),
            (Mode::List, 2, glob("/data/*.csv"), Reach::Exact),
            (Mode::List, 3, lit("/data"), Reach::Exact),
            (Mode::List, 4, lit("/data"), Reach::Tree),
        ]
    );
}

#[test]
fn tee_writes_and_appends_with_a() {
    let f = facts("echo x | tee /tmp/a\necho y | tee -a /tmp/b /tmp/c\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Write, 1, lit("/tmp/a"), Reach::Exact),
            (Mode::Append, 2, lit("/tmp/b"), Reach::Exact),
            (Mode::Append, 2, lit("/tmp/c"), Reach::Exact),
        ]
    );
}

#[test]
fn compressors_replace_their_input() {
    let f = facts(
        "gzip /logs/app.log\ngzip -k /logs/b.log\nxz -d /logs/c.xz\nzstd --rm /logs/d\nbzip2 -c /e > /e.bz2\n",
    );
    assert_eq!(
        summary(&f),
        vec![
            (Mode::MoveFrom, 1, lit("/logs/app.log"), Reach::Exact),
            (Mode::MoveTo, 1, lit("/logs/app.log.gz"), Reach::Exact),
            (Mode::CopyFrom, 2, lit("/logs/b.log"), Reach::Exact),
            (Mode::MoveTo, 2, lit("/logs/b.log.gz"), Reach::Exact),
            (Mode::MoveFrom, 3, lit("/logs/c.xz"), Reach::Exact),
            (Mode::MoveFrom, 4, lit("/logs/d"), Reach::Exact),
            (Mode::MoveTo, 4, lit("/logs/d.zst"), Reach::Exact),
            (Mode::Read, 5, lit("/e"), Reach::Exact),
            (Mode::Write, 5, lit("/e.bz2"), Reach::Exact),
        ]
    );
}

#[test]
fn chmod_and_chown_are_not_accesses() {
    let f = facts("chmod 600 /etc/creds\nchown -R app:app /data\n");
    assert!(f.accesses.is_empty(), "{:#?}", summary(&f));
}

#[test]
fn test_and_brackets_check() {
    let f = facts(
        "test -f /a\n[ -e \"$MARKER\" ] && echo\nif [[ -d /c && ! -s /d ]]; then :; fi\n[ /x -nt /y ]\ntest -f /e -a -d /f\n",
    );
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Check, 1, lit("/a"), Reach::Exact),
            (Mode::Check, 2, var("MARKER", 2), Reach::Exact),
            (Mode::Check, 3, lit("/c"), Reach::Exact),
            (Mode::Check, 3, lit("/d"), Reach::Exact),
            (Mode::Check, 4, lit("/x"), Reach::Exact),
            (Mode::Check, 4, lit("/y"), Reach::Exact),
            (Mode::Check, 5, lit("/e"), Reach::Exact),
            (Mode::Check, 5, lit("/f"), Reach::Exact),
        ]
    );
}

#[test]
fn source_reads_and_runs() {
    let f = facts("source /etc/ops/env.sh\n. \"$HOME/.profile\"\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Read, 1, lit("/etc/ops/env.sh"), Reach::Exact),
            (
                Mode::Read,
                2,
                concat(vec![var("HOME", 2), lit("/.profile")]),
                Reach::Exact
            ),
        ]
    );
    assert_eq!(run_paths(&f).len(), 2);
}

#[test]
fn redirections_write_append_and_read() {
    let f = facts(
        "echo a > /tmp/w\necho b >> /tmp/ap\nsort < /tmp/r\ncmd &> /tmp/both\ncmd 2>/dev/null >/dev/null\n\
         cmd >&2\ncmd 2>&1 >| /tmp/clobber\n{ echo x; } > /tmp/group\n",
    );
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Write, 1, lit("/tmp/w"), Reach::Exact),
            (Mode::Append, 2, lit("/tmp/ap"), Reach::Exact),
            (Mode::Read, 3, lit("/tmp/r"), Reach::Exact),
            (Mode::Write, 4, lit("/tmp/both"), Reach::Exact),
            (Mode::Write, 7, lit("/tmp/clobber"), Reach::Exact),
            (Mode::Write, 8, lit("/tmp/group"), Reach::Exact),
        ]
    );
    assert!(f.accesses.iter().all(|a| a.via.starts_with("redirect ")));
}

#[test]
fn wrappers_are_seen_through() {
    let f = facts(
        "sudo -u app rm /a\nnohup rm /b &\ntimeout 30 rm /c\nnice -n 10 ionice -c2 -n7 rm /d\n\
         env -i A=1 B=2 rm /e\nexec rm /f\ncommand rm /g\ntime rm /h\ncommand -v rm\n",
    );
    assert_eq!(deletes(&f), one_per_line("abcdefgh"));
}

/// `(line, path)` of every delete.
fn deletes(f: &FileFacts) -> Vec<(u32, Expr)> {
    with_mode(f, Mode::Delete)
        .iter()
        .map(|a| (a.line, path(a).expr.clone()))
        .collect()
}

/// `(1, "/a")`, `(2, "/b")`, …: one delete of `/<letter>` per line.
fn one_per_line(letters: &str) -> Vec<(u32, Expr)> {
    (1..)
        .zip(letters.chars())
        .map(|(line, c)| (line, lit(&format!("/{c}"))))
        .collect()
}

/// Container entry points and supervisors drop privileges or reap children, then run the
/// command: `gosu app touch /x` creates `/x`.
#[test]
fn container_and_supervisor_wrappers_are_seen_through() {
    let f = facts(
        "gosu app rm /a\nsu-exec app:app rm /b\ns6-setuidgid app rm /c\nchpst -u app -n 5 rm /d\n\
         setpriv --reuid 1000 --regid 1000 --init-groups rm /e\ntini -- rm /f\ndumb-init rm /g\n",
    );
    assert_eq!(deletes(&f), one_per_line("abcdefg"));
    // Not a wrapper's user: `gosu app` alone runs nothing.
    assert!(with_mode(&facts("gosu app\n"), Mode::Delete).is_empty());
}

/// `bash -c`, `sh -c`, `su -s SHELL USER -c`, `runuser -u USER -- cmd`, `env -i`, `xargs`,
/// `stdbuf`, `ionice -c3`, `timeout`, `time`: each runs the command it is given.
#[test]
fn shell_strings_and_privilege_wrappers_run_their_command() {
    let f = facts(
        "bash -c 'rm /a'\nsh -c \"rm /b\"\nsu -s /bin/sh app -c 'rm /c'\nrunuser -u app -- rm /d\n\
         env -i A=b rm /e\nstdbuf -oL rm /f\nionice -c3 rm /g\ntimeout -s KILL 5m rm /h\n\
         time rm /i\nrunuser app -c 'rm /j'\nrunuser -u app rm /k\n",
    );
    assert_eq!(deletes(&f), one_per_line("abcdefghijk"));
    // `su app` and `runuser app` (a login shell) run no command of their own.
    assert!(with_mode(&facts("su app\nrunuser app\n"), Mode::Delete).is_empty());
}

/// `docker exec`, `docker compose exec`, `kubectl exec ... --`: the command runs in the
/// container, and its accesses say so.
#[test]
fn container_exec_runs_its_command_inside_the_named_container() {
    let f = facts(
        "docker exec -u app web rm /a\ndocker compose exec -T worker rm /b\n\
         kubectl -n prod exec -it deploy/api -c api -- rm /c\ndocker-compose exec worker rm /d\n\
         kubectl exec api-0 -n prod -- rm /e\npodman exec -e A=1 web rm /f\n",
    );
    assert_eq!(deletes(&f), one_per_line("abcdef"));
    let vias: Vec<&str> = with_mode(&f, Mode::Delete)
        .iter()
        .map(|a| a.via.as_str())
        .collect();
    assert_eq!(
        vias,
        vec![
            "rm (in docker exec web)",
            "rm (in docker compose exec worker)",
            "rm (in kubectl exec deploy/api)",
            "rm (in docker-compose exec worker)",
            "rm (in kubectl exec api-0)",
            "rm (in podman exec web)",
        ]
    );
    // A container name alone runs nothing; `docker run IMAGE cmd` touches no host path outside
    // a bound volume.
    let none = facts("docker exec web\nkubectl exec api-0\ndocker run --rm alpine rm /x\n");
    assert!(
        with_mode(&none, Mode::Delete).is_empty(),
        "{:?}",
        none.accesses
    );
}

/// Init scripts start daemons through `start-stop-daemon`; what runs is `--exec`/`--startas`
/// with the words after `--`, a shell's `-c` string included.
#[test]
fn start_stop_daemon_runs_its_program() {
    let f = facts(
        "start-stop-daemon --start --background --exec /bin/bash -- -c \"/usr/bin/api >> /var/log/api.log 2>&1\"\n\
         start-stop-daemon --stop --exec /bin/rm -- /should-not\n",
    );
    let appends: Vec<(u32, Expr)> = with_mode(&f, Mode::Append)
        .iter()
        .map(|a| (a.line, path(a).expr.clone()))
        .collect();
    assert_eq!(appends, vec![(1, lit("/var/log/api.log"))]);
    assert!(
        with_mode(&f, Mode::Delete).is_empty(),
        "--stop runs nothing"
    );
}

#[test]
fn system_paths_of_known_commands_use_the_model() {
    let f = facts("/bin/rm -f /a\n/usr/bin/find /b -delete\n");
    assert_eq!(with_mode(&f, Mode::Delete).len(), 2);
    assert!(f.runs.is_empty());
}

#[test]
fn computed_command_names() {
    let f = facts("${RM:-rm} /a\n$SUDO rm /b\n\"$BIN_DIR/cleanup.sh\" --now\n");
    assert_eq!(with_mode(&f, Mode::Delete).len(), 2);
    assert_eq!(
        run_paths(&f),
        vec![(3, concat(vec![var("BIN_DIR", 3), lit("/cleanup.sh")]))]
    );
}

// ---------------------------------------------------------------------------------------------
// Pipelines into xargs and read loops

#[test]
fn find_piped_to_xargs_rm_deletes_the_found_paths() {
    let f = facts(
        "find /var/log/app -name '*.log' -mtime +7 | xargs rm\n\
         find /tmp/x -type f -print0 | xargs -0 rm -f\n\
         find /tmp/y -type d -print0 | xargs -0 -r rm -rf --\n",
    );
    let deletes = with_mode(&f, Mode::Delete);
    assert_eq!(deletes.len(), 3, "{:#?}", summary(&f));
    assert_eq!(deletes[0].via, "find | xargs rm");
    assert_eq!(path(deletes[0]).expr, lit("/var/log/app"));
    assert_eq!(find_spec(deletes[0]).names, vec![glob("*.log")]);
    assert_eq!(
        path(deletes[0]).retention.as_deref(),
        Some("modified more than 7 days ago")
    );
    assert_eq!(find_spec(deletes[1]).file_type, Some('f'));
    assert!(!find_spec(deletes[1]).tree);
    assert!(find_spec(deletes[2]).tree);
    assert!(with_mode(&f, Mode::List).is_empty());
}

#[test]
fn xargs_with_a_replace_string_and_destination() {
    let f = facts("find /in -name '*.csv' | xargs -I{} mv {} /archive/\n");
    let from = only(&f, Mode::MoveFrom);
    assert_eq!((path(from).expr.clone(), from.line), (lit("/in"), 1));
    assert_eq!(find_spec(from).names, vec![glob("*.csv")]);
    assert_eq!(
        path(only(&f, Mode::MoveTo)).expr,
        concat(vec![lit("/archive/"), Expr::hole("name of each item")])
    );
}

#[test]
fn ls_piped_through_tail_to_xargs_rm_deletes_the_listing() {
    let f = facts("ls -1t /backups/*.tgz | tail -n +8 | xargs -r rm -f\n");
    assert_eq!(
        summary(&f),
        vec![(Mode::Delete, 1, glob("/backups/*.tgz"), Reach::Exact)]
    );
}

#[test]
fn a_producer_in_a_substitution_feeds_the_command() {
    let f = facts(
        "rm -f $(find /tmp/cache -name '*.tmp')\n\
         rm -f \"$(ls -1t /backups/*.tgz | tail -n +8)\"\n\
         cd /spool && ls -t | tail -n +100 | xargs rm --\n",
    );
    assert_eq!(
        summary(&f)
            .into_iter()
            .map(|(m, l, e, _)| (m, l, e))
            .collect::<Vec<_>>(),
        vec![
            (Mode::Delete, 1, lit("/tmp/cache")),
            (Mode::Delete, 2, glob("/backups/*.tgz")),
            (Mode::Delete, 3, lit("/spool")),
        ]
    );
    assert_eq!(find_spec(&f.accesses[0]).names, vec![glob("*.tmp")]);
    assert_eq!(path(&f.accesses[2]).reach, Reach::Children);
}

#[test]
fn object_store_commands_touch_both_sides() {
    let f = facts(
        "aws s3 cp /data/out/report.csv s3://bucket/reports/\n\
         aws s3 sync s3://bucket/in /data/in --delete\n\
         gsutil cp gs://b/x.csv /data/x.csv\n",
    );
    assert_eq!(
        summary(&f),
        vec![
            (Mode::CopyFrom, 1, lit("/data/out/report.csv"), Reach::Exact),
            (
                Mode::MoveTo,
                1,
                lit("s3://bucket/reports/report.csv"),
                Reach::Exact
            ),
            (Mode::CopyFrom, 2, lit("s3://bucket/in"), Reach::Tree),
            (Mode::MoveTo, 2, lit("/data/in"), Reach::Tree),
            (Mode::Delete, 2, lit("/data/in"), Reach::Tree),
            (Mode::CopyFrom, 3, lit("gs://b/x.csv"), Reach::Exact),
            (Mode::MoveTo, 3, lit("/data/x.csv"), Reach::Exact),
        ]
    );
}

#[test]
fn tmpreaper_deletes_old_files_under_its_directories() {
    let f = facts("tmpreaper --protect '*.keep' 24h /tmp /var/tmp\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Delete, 1, lit("/tmp"), Reach::Tree),
            (Mode::Delete, 1, lit("/var/tmp"), Reach::Tree)
        ]
    );
}

#[test]
fn xargs_without_a_producer_touches_nothing() {
    let f = facts("cat /etc/list | xargs rm\n");
    assert_eq!(
        summary(&f),
        vec![(Mode::Read, 1, lit("/etc/list"), Reach::Exact)]
    );
}

#[test]
fn find_piped_to_a_while_read_loop() {
    let f = facts(
        "find \"$DIR\" -name '*.tmp' -print | while IFS= read -r f; do\n  rm -f \"$f\"\ndone\n\
         while read -r g; do gzip \"$g\"; done < <(find /logs -name '*.log')\n\
         for h in $(find /old -mtime +30); do rm -rf \"$h\"; done\n",
    );
    let deletes = with_mode(&f, Mode::Delete);
    assert_eq!(deletes.len(), 2, "{:#?}", summary(&f));
    assert_eq!(
        (path(deletes[0]).expr.clone(), deletes[0].line),
        (var("DIR", 1), 1)
    );
    assert_eq!(find_spec(deletes[0]).names, vec![glob("*.tmp")]);
    assert_eq!(
        (path(deletes[1]).expr.clone(), deletes[1].line),
        (lit("/old"), 5)
    );
    assert!(find_spec(deletes[1]).tree);
    let moved = only(&f, Mode::MoveFrom);
    assert_eq!((path(moved).expr.clone(), moved.line), (lit("/logs"), 4));
}

// ---------------------------------------------------------------------------------------------
// find

#[test]
fn find_with_several_starts_and_alternative_names() {
    let f =
        facts("find /a /b \\( -name '*.csv' -o -iname '*.TSV' \\) -type f -mindepth 1 -delete\n");
    let deletes = with_mode(&f, Mode::Delete);
    let starts: Vec<Expr> = deletes.iter().map(|a| path(a).expr.clone()).collect();
    assert_eq!(starts, vec![lit("/a"), lit("/b")]);
    let spec = find_spec(deletes[0]);
    assert_eq!(spec.names, vec![glob("*.csv"), glob("*.TSV")]);
    assert!(spec.case_insensitive);
    assert_eq!(spec.file_type, Some('f'));
    assert_eq!(spec.min_depth, 1);
    assert_eq!(spec.max_depth, None);
}

#[test]
fn find_path_tests_and_depth_anywhere() {
    let f = facts("find . -path '*/cache/*' -delete -maxdepth 4\n");
    let spec = find_spec(only(&f, Mode::Delete));
    assert_eq!(spec.paths, vec![glob("*/cache/*")]);
    assert_eq!(spec.max_depth, Some(4));
    assert_eq!(path(only(&f, Mode::Delete)).expr, lit("."));
}

#[test]
fn find_negation_drops_the_test() {
    let f = facts("find /data ! -name '*.keep' -not -type d -delete\n");
    let spec = find_spec(only(&f, Mode::Delete));
    assert!(spec.names.is_empty());
    assert_eq!(spec.file_type, None);
}

#[test]
fn find_prune_branch_does_not_narrow_the_action() {
    let f = facts("find /srv -path /srv/keep -prune -o -name '*.old' -delete\n");
    let spec = find_spec(only(&f, Mode::Delete));
    assert!(spec.paths.is_empty());
    assert_eq!(spec.names, vec![glob("*.old")]);
}

#[test]
fn find_exec_rm_deletes_and_rm_r_makes_a_tree() {
    let f = facts(
        "find /tmp -name 'sess_*' -exec rm -f {} \\;\n\
         find /builds -maxdepth 1 -type d -mtime +14 -exec rm -rf {} +\n\
         find /x -name y -execdir rm {} ';'\n",
    );
    let deletes = with_mode(&f, Mode::Delete);
    assert_eq!(deletes.len(), 3, "{:#?}", summary(&f));
    assert_eq!(deletes[0].via, "find -exec rm");
    assert!(!find_spec(deletes[0]).tree);
    assert!(find_spec(deletes[1]).tree);
    assert_eq!(find_spec(deletes[1]).max_depth, Some(1));
    assert_eq!(deletes[2].via, "find -execdir rm");
}

#[test]
fn find_exec_mv_moves_to_the_destination() {
    let f = facts("find /in -name '*.done' -exec mv {} /archive/ \\;\n");
    let from = only(&f, Mode::MoveFrom);
    assert_eq!(path(from).expr, lit("/in"));
    assert_eq!(find_spec(from).names, vec![glob("*.done")]);
    assert_eq!(
        path(only(&f, Mode::MoveTo)).expr,
        concat(vec![lit("/archive/"), Expr::hole("name of each item")])
    );
}

#[test]
fn find_exec_gzip_moves_the_matches_away() {
    let f = facts("find /logs -name '*.log' -mtime +1 -exec gzip {} \\;\n");
    let from = only(&f, Mode::MoveFrom);
    assert_eq!(
        path(from).retention.as_deref(),
        Some("modified more than 1 day ago")
    );
}

#[test]
fn find_without_an_action_lists() {
    let f = facts("find /data -name '*.csv'\nfind /data -name '*.gz' -print0\nfind /x -ls\n");
    assert_eq!(with_mode(&f, Mode::List).len(), 3);
    assert_eq!(
        find_spec(with_mode(&f, Mode::List)[1]).names,
        vec![glob("*.gz")]
    );
}

#[test]
fn find_newer_checks_the_marker_and_describes_ages() {
    let f = facts("find /out -newer /var/run/last.stamp -mmin -30 -delete\n");
    let delete = only(&f, Mode::Delete);
    assert_eq!(
        path(delete).retention.as_deref(),
        Some(
            "modified more recently than /var/run/last.stamp and modified less than 30 minutes ago"
        )
    );
    assert_eq!(path(only(&f, Mode::Check)).expr, lit("/var/run/last.stamp"));
    let f = facts("find /out -atime 2 -delete\nfind /out -ctime +$DAYS -delete\n");
    let retention: Vec<Option<String>> = path_accesses(&f)
        .into_iter()
        .map(|a| path(a).retention.clone())
        .collect();
    assert_eq!(
        retention,
        vec![
            Some("accessed 2 days ago".to_string()),
            Some("changed more than $DAYS days ago".to_string())
        ]
    );
}

#[test]
fn find_name_with_a_variable_keeps_the_variable() {
    let f = facts("find /data -name \"${PREFIX}_*.csv\" -delete\n");
    assert_eq!(
        find_spec(only(&f, Mode::Delete)).names,
        vec![concat(vec![var("PREFIX", 1), glob("_*.csv")])]
    );
}

// ---------------------------------------------------------------------------------------------
// Runs

#[test]
fn scripts_run_by_path_are_run_references() {
    let f = facts(
        "/opt/ops/bin/cleanup.sh\n./run.sh --fast\nbash /opt/x.sh\nsh -e ./y.sh\npython3 /opt/app/main.py --day 1\n\
         python -m loader.main\n/usr/bin/python3 -u /opt/z.py\ncleanup_ticker.sh\n",
    );
    assert_eq!(
        run_paths(&f),
        vec![
            (1, lit("/opt/ops/bin/cleanup.sh")),
            (2, lit("./run.sh")),
            (3, lit("/opt/x.sh")),
            (4, lit("./y.sh")),
            (5, lit("/opt/app/main.py")),
            (7, lit("/opt/z.py")),
            (8, lit("cleanup_ticker.sh")),
        ]
    );
    let modules: Vec<&RunTarget> = f
        .runs
        .iter()
        .map(|r| &r.target)
        .filter(|t| matches!(t, RunTarget::PythonModule { .. }))
        .collect();
    assert_eq!(
        modules,
        vec![&RunTarget::PythonModule {
            module: "loader.main".into()
        }]
    );
}

#[test]
fn sh_c_strings_are_analysed() {
    let f = facts(
        "sudo sh -c 'rm -f /tmp/a; /opt/b.sh'\nbash -lc \"find /c -delete\"\nsu -c 'rm /d' app\n",
    );
    assert_eq!(
        summary(&f)
            .into_iter()
            .map(|(m, l, e, _)| (m, l, e))
            .collect::<Vec<_>>(),
        vec![
            (Mode::Delete, 1, lit("/tmp/a")),
            (Mode::Delete, 2, lit("/c")),
            (Mode::Delete, 3, lit("/d"))
        ]
    );
    assert_eq!(run_paths(&f), vec![(1, lit("/opt/b.sh"))]);
}

// ---------------------------------------------------------------------------------------------
// Loops that wait

#[test]
fn checks_in_a_sleeping_loop_are_waits() {
    let f = facts(
        "until [ -f /data/ready ]; do\n  sleep 10\ndone\nwhile [ ! -e \"$LOCK\" ]; do sleep 1; done\n",
    );
    let waits: Vec<(u32, Expr)> = with_mode(&f, Mode::WaitFor)
        .iter()
        .map(|a| (a.line, path(a).expr.clone()))
        .collect();
    assert_eq!(waits, vec![(1, lit("/data/ready")), (4, var("LOCK", 4))]);
    assert!(with_mode(&f, Mode::Check).is_empty());
}

#[test]
fn checks_in_the_body_of_a_polling_loop_with_a_timeout_are_waits() {
    let f = facts(
        "for i in $(seq 1 30); do\n  [ \"$CRED\" -nt \"$STAMP\" ] && break\n  sleep 2\ndone\n\
         for ((i = 0; i < 10; i++)); do test -s /run/token && break; sleep 1; done\n\
         [ -f /etc/once ] && echo\n",
    );
    let waits: Vec<(u32, Expr)> = with_mode(&f, Mode::WaitFor)
        .iter()
        .map(|a| (a.line, path(a).expr.clone()))
        .collect();
    assert_eq!(
        waits,
        vec![
            (2, var("CRED", 2)),
            (2, var("STAMP", 2)),
            (5, lit("/run/token"))
        ]
    );
    assert_eq!(path(only(&f, Mode::Check)).expr, lit("/etc/once"));
}

#[test]
fn a_destination_needs_a_source() {
    let f = facts("ln -s /opt/app/current\nrsync -a /src/\n");
    assert!(with_mode(&f, Mode::MoveTo).is_empty(), "{:#?}", summary(&f));
}

// ---------------------------------------------------------------------------------------------
// Snippets

#[test]
fn extract_into_offsets_lines_and_uses_the_scope() {
    let models = models();
    let mut f = FileFacts::new("crontab", ScopeKind::Script);
    let scope = f.push_scope(Scope {
        parent: Some(0),
        kind: ScopeKind::CronEntry,
        name: "cron:7".into(),
        class: None,
        job: Some(0),
        line: 7,
    });
    extract_into("X=/a\nrm \"$X\"", &mut f, scope, 7, &models);
    let access = only(&f, Mode::Delete);
    assert_eq!((access.line, access.scope), (8, scope));
    assert_eq!(path(access).expr, var_in("X", scope, 8));
    assert_eq!(binding(&f, "X").line, 7);
}

// ---------------------------------------------------------------------------------------------
// Robustness

#[test]
fn unterminated_quote_warns_and_keeps_what_came_before() {
    let f = facts("rm /before\necho \"unterminated\nrm /inside\n");
    assert_eq!(path(&f.accesses[0]).expr, lit("/before"));
    assert!(!f.warnings.is_empty());
}

#[test]
fn parse_errors_are_one_warning_per_region_and_lines_are_recovered() {
    let f = facts(
        "rm /a\nif [ -f x ]; then\n  rm /b\ncase $x in\n  a) rm /c ;;\n  *)\nfi\nrm /d\nx=$(( 1 + \nrm /e\n",
    );
    let deletes: Vec<Expr> = with_mode(&f, Mode::Delete)
        .iter()
        .map(|a| path(a).expr.clone())
        .collect();
    for expected in ["/a", "/b", "/c", "/d", "/e"] {
        assert!(
            deletes.contains(&lit(expected)),
            "{expected} missing from {deletes:?}"
        );
    }
    assert!(
        !f.warnings.is_empty() && f.warnings.len() <= 3,
        "{:?}",
        f.warnings
    );
}

#[test]
fn parse_error_warnings_are_capped() {
    let src = "rm /ok\n".to_string() + &"fi )\n".repeat(500);
    let f = facts(&src);
    assert!(f.warnings.len() <= 21, "{}", f.warnings.len());
    assert_eq!(path(&f.accesses[0]).expr, lit("/ok"));
}

#[test]
fn binary_garbage_does_not_panic() {
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let text = String::from_utf8_lossy(&bytes);
    let _ = facts(&text);
    let _ = facts("\0\0\0rm /x\0`$((${{");
    let _ = facts("\u{fffd}\u{fffd} rm -rf \u{fffd}/x");
}

#[test]
fn malformed_fragments_do_not_panic() {
    for src in [
        "rm \"",
        "rm '",
        "find",
        "find -exec",
        "find / -exec rm {}",
        "find / \\( \\( -name",
        "tar",
        "tar -f",
        "xargs",
        "| xargs rm",
        "cd",
        "cd ..\nrm x",
        "${",
        "$(",
        "`",
        "for in; do done",
        "while read; do",
        "f() {",
        "cat <<EOF",
        "x=(",
        "[[ -f",
        "sh -c",
        "sudo",
        "timeout",
        "rm -",
        "rm --=x",
        "mv -t",
        "echo {a,{b,c}",
        "echo {1..99999999999999999999}",
        "dd if=",
        "\\",
    ] {
        let _ = facts(src);
    }
}

#[test]
fn deep_nesting_is_bounded() {
    let mut src = String::new();
    for _ in 0..3000 {
        src.push_str("$(echo ");
    }
    src.push_str("rm /x");
    for _ in 0..3000 {
        src.push(')');
    }
    let _ = facts(&src);
    let mut src = String::new();
    for _ in 0..2000 {
        src.push_str("if true; then\n");
    }
    src.push_str("rm /deep\n");
    for _ in 0..2000 {
        src.push_str("fi\n");
    }
    let f = facts(&src);
    assert!(f.warnings.iter().any(|w| w.message.contains("nested")));
}

#[test]
fn a_ten_thousand_line_script_is_read() {
    let mut src = String::from("#!/bin/bash\n");
    for i in 0..10_000 {
        src.push_str(&format!("rm -f /tmp/file_{i}.tmp # {i}\n"));
    }
    let f = facts(&src);
    assert_eq!(f.accesses.len(), 10_000);
    assert_eq!(f.accesses[9_999].line, 10_001);
}

#[test]
fn non_utf8_input_decoded_lossily_is_read() {
    let bytes = b"rm /data/caf\xe9.csv\nrm /ok\n";
    let text = String::from_utf8_lossy(bytes);
    let f = facts(&text);
    assert_eq!(f.accesses.len(), 2);
    assert_eq!(path(&f.accesses[1]).expr, lit("/ok"));
}

#[test]
fn a_command_that_tree_sitter_runs_past_its_line_is_split() {
    let f = facts("sort /a |\n\tgrep -v '^$'\n\nrc=$?\n[ \"$rc\" -eq 1 ] && rm /b\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Read, 1, lit("/a"), Reach::Exact),
            (Mode::Delete, 5, lit("/b"), Reach::Exact)
        ]
    );
    assert_eq!(binding(&f, "rc").line, 4);
}

#[test]
fn test_operators_are_not_operands() {
    let f = facts("[ \"$a\" -a -n \"$b\" ]\ntest -f -n\n[ -f /x -o -d /y ]\n");
    assert_eq!(
        summary(&f),
        vec![
            (Mode::Check, 3, lit("/x"), Reach::Exact),
            (Mode::Check, 3, lit("/y"), Reach::Exact)
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Models

#[test]
fn builtin_bash_models_load() {
    let models = models();
    assert!(matches!(
        models.bash.command("find"),
        Some(crate::rules::models::bash::CommandModel::Find)
    ));
    assert_eq!(models.bash.redirect_mode(">>"), Some(Mode::Append));
    assert!(models.bash.is_ignored_path("/dev/null"));
    assert!(models.bash.is_ignored_path("/dev/fd/3"));
}

#[test]
fn model_file_with_an_unknown_key_fails_with_file_and_line() {
    let text =
        "schema = 1\nlanguage = \"bash\"\n\n[[command]]\nnames = [\"rm\"]\nmodes = \"delete\"\n";
    let err = Models::default()
        .load_file("my/models.toml", text)
        .expect_err("unknown key is an error");
    assert_eq!((err.file.as_str(), err.line), ("my/models.toml", 6));
    assert!(err.to_string().starts_with("my/models.toml:6: "), "{err}");
    assert!(err.message.contains("modes"), "{err}");
}

#[test]
fn model_file_errors_point_at_the_bad_value() {
    let bad_mode = "schema = 1\nlanguage = \"bash\"\n[[command]]\nnames = [\"rm\"]\noperands = [\n  { select = \"all\", mode = \"destroy\" },\n]\n";
    let err = Models::default()
        .load_file("m.toml", bad_mode)
        .expect_err("bad mode");
    assert_eq!(err.line, 6, "{err}");
    assert!(err.message.contains("unknown mode `destroy`"), "{err}");
    let bad_flag =
        "schema = 1\nlanguage = \"bash\"\n[[command]]\nnames = [\"rm\"]\ntree_flags = [\"r\"]\n";
    let err = Models::default()
        .load_file("m.toml", bad_flag)
        .expect_err("bad flag");
    assert_eq!(err.line, 5, "{err}");
    let wrong_kind = "schema = 1\nlanguage = \"bash\"\n\n[[command]]\nnames = [\"find\"]\nkind = \"find\"\ntree_flags = [\"-r\"]\n";
    let err = Models::default()
        .load_file("m.toml", wrong_kind)
        .expect_err("key of another kind");
    assert_eq!(err.line, 4, "{err}");
    assert!(err.message.contains("`tree_flags` does not apply"), "{err}");
}

#[test]
fn a_user_row_replaces_the_builtin_row_of_the_same_name() {
    let mut models = models();
    let user = "schema = 1\nlanguage = \"bash\"\n[[command]]\nnames = [\"safe-rm\", \"rm\"]\noperands = [{ select = \"all\", mode = \"move-to\" }]\n";
    models
        .load_file("user.toml", user)
        .expect("user model loads");
    let f = extract("x.sh", "rm /a\nsafe-rm /b\n", &models);
    assert_eq!(with_mode(&f, Mode::MoveTo).len(), 2);
    assert!(with_mode(&f, Mode::Delete).is_empty());
}

#[test]
fn long_brace_words_are_not_expanded() {
    let f = facts(&format!("rm /x{}", "{a,".repeat(3000)));
    assert_eq!(f.accesses.len(), 1);
}

#[test]
fn copy_and_install_destinations_name_the_files_written() {
    let f = facts(
        "install -m 644 -t /etc/app a.conf files/b.conf\n\
         install -D build/app.conf /etc/app/app.conf\n\
         install -d /var/lib/app\n\
         CONF=/opt/app/main.conf\n\
         install -m 644 \"$CONF\" /etc/app/\n\
         cp \"$UNKNOWN\" /srv/drop/\n\
         cp single /srv/maybe\n\
         cp -T src /srv/dst\n\
         ln -s /opt/app/bin/app /usr/local/bin/\n\
         cp -r /opt/site /var/www/\n\
         mv \"$DATA\"/*.{crt,key} /run/certs/\n",
    );
    let written: Vec<(u32, Expr)> = path_accesses(&f)
        .into_iter()
        .filter(|a| matches!(a.mode, Mode::MoveTo | Mode::Create))
        .map(|a| (a.line, path(a).expr.clone()))
        .collect();
    assert_eq!(
        written,
        vec![
            (1, lit("/etc/app/a.conf")),
            (1, lit("/etc/app/b.conf")),
            (2, lit("/etc/app/app.conf")),
            (3, lit("/var/lib/app")),
            (5, lit("/etc/app/main.conf")),
            (
                6,
                concat(vec![lit("/srv/drop/"), Expr::hole("name of $UNKNOWN")])
            ),
            (7, lit("/srv/maybe")),
            (8, lit("/srv/dst")),
            (9, lit("/usr/local/bin/app")),
            (10, lit("/var/www/site")),
            (
                11,
                concat(vec![
                    lit("/run/certs/"),
                    glob("*."),
                    Expr::Alt {
                        options: vec![lit("crt"), lit("key")]
                    }
                ])
            ),
        ]
    );
}

/// `$1`…`$9` of a function are its parameters, bound at its calls; `shift` moves them.
#[test]
fn function_parameters_and_call_arguments() {
    let f = facts(
        "dump() {\n  local name=\"$1\"\n  pg_dump > \"${2:-/srv}/$name.sql\"\n}\nup() {\n  shift\n  cp \"$1\" /mnt/\n}\ndump shop /data\n",
    );
    let dump = f
        .scopes
        .iter()
        .position(|s| s.name == "dump")
        .expect("dump's scope");
    let params = f.params_of(dump).expect("dump takes parameters");
    assert!(params.positional_only);
    assert_eq!(params.names[0], "1");
    let up = f
        .scopes
        .iter()
        .position(|s| s.name == "up")
        .expect("up's scope");
    // After `shift`, `$1` is the call's second argument.
    assert!(f.params_of(up).is_some());
    let copied = only(&f, Mode::CopyFrom);
    assert!(
        matches!(&path(copied).expr, Expr::Var { name, scope, .. } if name == "2" && *scope == up)
    );
    let name = f
        .bindings
        .iter()
        .find(|b| b.name == "name")
        .expect("local name");
    assert!(matches!(&*name.value, Expr::Var { name, scope, .. } if name == "1" && *scope == dump));
    let call = f
        .calls
        .iter()
        .find(|c| c.callee == "dump")
        .expect("the call");
    let args: Vec<Option<&str>> = call.args.iter().map(|a| a.value.as_lit()).collect();
    assert_eq!(args, vec![Some("shop"), Some("/data")]);
}

/// What a function prints is what `$(function ...)` gives; messages to stderr or into a pipe
/// are not part of it.
#[test]
fn a_function_prints_its_value_for_command_substitutions() {
    let f = facts(
        "conf() {\n  echo \"missing\" >&2\n  echo \"$1\" | tr a b\n  echo \"$2\"\n}\nLOG=\"$(conf LOGFILE /var/log/x.log)\"\nOTHER=\"$(cat /etc/x)\"\n",
    );
    let printed: Vec<&Binding> = f.bindings.iter().filter(|b| b.name == "conf()").collect();
    assert_eq!(printed.len(), 1);
    assert_eq!(printed[0].scope, 0);
    assert!(matches!(&*printed[0].value, Expr::Var { name, .. } if name == "2"));
    let log = f.bindings.iter().find(|b| b.name == "LOG").expect("LOG");
    assert!(matches!(&*log.value, Expr::Var { name, .. } if name == "conf()"));
    let other = f
        .bindings
        .iter()
        .find(|b| b.name == "OTHER")
        .expect("OTHER");
    assert!(
        matches!(&*other.value, Expr::Hole { .. }),
        "{:?}",
        other.value
    );
}

/// `source F`: how the sourced file is found from what is written.
#[test]
fn sourced_files_are_star_imports() {
    let f = facts(
        ". \"$(dirname \"$0\")/../lib/config.sh\"\nsource /opt/app/lib/env.sh\n. \"$LIB/common.sh\"\n. \"$X\"\n",
    );
    let modules: Vec<(u32, &str)> = f
        .imports
        .iter()
        .filter(|i| i.local == "*")
        .map(|i| (i.line, i.module.as_str()))
        .collect();
    assert_eq!(
        modules,
        vec![
            (1, "@script/../lib/config.sh"),
            (2, "/opt/app/lib/env.sh"),
            (3, "*/common.sh"),
        ]
    );
}

/// The parameter a positional use names, in the function's scope: `Some(n)` for `$n` of the
/// call, `None` for anything else (a hole).
fn parameter_of(value: &Expr) -> Option<String> {
    match value {
        Expr::Var {
            name,
            env_fallback: false,
            ..
        } if name.len() == 1 && name.chars().all(|c| c.is_ascii_digit()) => Some(name.to_string()),
        _ => None,
    }
}

/// `shift` and `shift N` in straight-line code move the positions: `local x="$1"` after
/// them binds the right argument.
#[test]
fn shift_in_straight_line_code_moves_the_positions() {
    let f = facts(
        "deploy() {\n  local env=\"$1\"\n  shift\n  local app=\"$1\"\n  shift 2\n  local out=\"${1:-/srv/out}\"\n  shift 7\n  local far=\"$1\"\n}\n",
    );
    let of = |name: &str| parameter_of(&binding(&f, name).value);
    assert_eq!(of("env").as_deref(), Some("1"));
    assert_eq!(of("app").as_deref(), Some("2"));
    assert_eq!(of("out").as_deref(), Some("4"));
    // Shifted past `$9`: unknown, never a wrong parameter.
    assert_eq!(of("far"), None);
}

/// `set -- a b` gives `$1`, `$2` the words' values.
#[test]
fn set_dash_dash_gives_the_positions_its_words() {
    let f = facts(
        "run() {\n  set -- /srv/in \"$OUT\"\n  cp \"$1\" \"$2/\"\n  shift\n  rm -f \"$1\"/*.tmp\n}\n",
    );
    assert_eq!(path(only(&f, Mode::CopyFrom)).expr, lit("/srv/in"));
    let deleted = &path(only(&f, Mode::Delete)).expr;
    assert_eq!(*deleted, concat(vec![var_in("OUT", 1, 2), glob("/*.tmp")]));
}

/// A `shift` in a loop or a branch leaves the positions unknown, in it and after it: a hole,
/// never the wrong argument.
#[test]
fn shift_in_a_loop_or_branch_leaves_a_hole() {
    for src in [
        "parse() {\n  while [ $# -gt 0 ]; do\n    case \"$1\" in\n      -o) out=\"$2\"; shift ;;\n    esac\n    shift\n  done\n  x=\"$1\"\n}\n",
        "f() {\n  [ \"$1\" = -v ] && shift\n  x=\"$1\"\n}\n",
        "f() {\n  if [ -n \"$2\" ]; then\n    shift\n  fi\n  x=\"$1\"\n}\n",
        "f() {\n  shift \"$n\"\n  x=\"$1\"\n}\n",
        "f() {\n  set -- \"$@\" extra\n  x=\"$1\"\n}\n",
        "f() {\n  for a in 1 2; do\n    x=\"$1\"\n    shift\n  done\n}\n",
    ] {
        let f = facts(src);
        for b in f
            .bindings
            .iter()
            .filter(|b| b.name == "x" || b.name == "out")
        {
            assert_eq!(parameter_of(&b.value), None, "{src}: {:?}", b.value);
        }
        assert!(f.bindings.iter().any(|b| b.name == "x"), "{src}");
    }
}

/// In a script that sources a library, a command that is no known program and no builtin is
/// a call of the library's function: its arguments are recorded, and `$(name ...)` is what
/// the function prints. Without a `source`, or for a known program, nothing changes.
#[test]
fn commands_of_a_sourcing_script_may_be_library_functions() {
    let f = facts(
        ". \"$(dirname \"$0\")/../lib/conf.sh\"\nAPP_LOG=\"$(get_conf_value LOGFILE \"$LOG_DIR/app.log\")\"\nOTHER=\"$(cat /etc/x)\"\nlog_info started\n",
    );
    let value = &binding(&f, "APP_LOG").value;
    assert!(
        matches!(&**value, Expr::Var { name, .. } if name == "get_conf_value()"),
        "{value:?}"
    );
    let callees: Vec<&str> = f.calls.iter().map(|c| c.callee.as_str()).collect();
    assert_eq!(callees, vec!["get_conf_value", "log_info"]);
    assert_eq!(f.calls[0].args.len(), 2);
    assert!(matches!(&*binding(&f, "OTHER").value, Expr::Hole { .. }));
    // No library sourced: an unknown command is no call, its output a hole.
    let alone = facts("APP_LOG=\"$(get_conf_value LOGFILE /var/log/app.log)\"\n");
    assert!(alone.calls.is_empty());
    assert!(matches!(
        &*binding(&alone, "APP_LOG").value,
        Expr::Hole { .. }
    ));
}

#[test]
fn copying_dev_null_creates_an_empty_file() {
    let f = facts(
        "install -m 640 -o app /dev/null /var/log/app/app.log\n\
         cp /dev/null /srv/state/empty\n\
         install -m 640 /opt/app/default.log /var/log/app/seed.log\n",
    );
    let modes: Vec<(u32, Mode)> = path_accesses(&f)
        .into_iter()
        .filter(|a| a.line > 0)
        .map(|a| (a.line, a.mode))
        .collect();
    assert!(modes.contains(&(1, Mode::Create)), "{modes:?}");
    assert!(modes.contains(&(2, Mode::Create)), "{modes:?}");
    assert!(!modes.contains(&(1, Mode::MoveTo)), "{modes:?}");
    // A real source gives its content: still a move-to.
    assert!(modes.contains(&(3, Mode::MoveTo)), "{modes:?}");
}
