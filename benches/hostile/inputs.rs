//! Generators of hostile input: the files of the hostile-input audit (issue 9, item 6) that once
//! stalled a check for minutes or aborted it, and more of the same family. Shared by the
//! `hostile_input` benchmark (which times them) and the integration tests (which check that
//! each one is read with bounded work), through `#[path]`, so both use the same inputs.
//!
//! Each generator takes a `count` (of arguments, lines, nesting levels...): `full()` uses the
//! audit's sizes, and a test may use a smaller count for a debug build.

// Not every user of this module calls every generator.
#![allow(dead_code)]

/// One generated file.
pub struct Input {
    /// A short name for reports: `py-fstring-180k`.
    pub name: &'static str,
    /// The file's path in the repository (its extension picks the extractor).
    pub path: &'static str,
    pub text: String,
}

/// A generator: the name, path and a function of the count.
pub struct Generator {
    pub name: &'static str,
    pub path: &'static str,
    /// The audit's size (or the largest that is still a plausible single file).
    pub count: usize,
    pub make: fn(usize) -> String,
}

impl Generator {
    pub fn generate(&self, count: usize) -> Input {
        Input {
            name: self.name,
            path: self.path,
            text: (self.make)(count),
        }
    }
}

/// Every generator, with the audit's sizes.
pub fn all() -> Vec<Generator> {
    vec![
        Generator {
            name: "py-fstring-180k",
            path: "gen/fstring.py",
            count: 180_000,
            make: py_fstring,
        },
        Generator {
            name: "py-join-50k-args",
            path: "gen/join.py",
            count: 50_000,
            make: py_join,
        },
        Generator {
            name: "sh-nested-defaults-1mib",
            path: "gen/nested.sh",
            count: 1 << 20,
            make: sh_nested_defaults,
        },
        Generator {
            name: "sh-chained-assignments-100k",
            path: "gen/chain.sh",
            count: 100_000,
            make: sh_chain,
        },
        Generator {
            name: "py-concat-20k",
            path: "gen/concat.py",
            count: 20_000,
            make: py_concat,
        },
        Generator {
            name: "py-parens-100k",
            path: "gen/parens.py",
            count: 100_000,
            make: py_parens,
        },
        Generator {
            name: "sh-parens-100k",
            path: "gen/parens.sh",
            count: 100_000,
            make: sh_parens,
        },
        Generator {
            name: "rs-parens-100k",
            path: "gen/parens.rs",
            count: 100_000,
            make: rs_parens,
        },
        Generator {
            name: "py-nested-calls-20k",
            path: "gen/calls.py",
            count: 20_000,
            make: py_nested_calls,
        },
        Generator {
            name: "py-one-line-1mib",
            path: "gen/oneline.py",
            count: 1 << 20,
            make: py_one_line,
        },
        Generator {
            name: "sh-one-line-1mib",
            path: "gen/oneline.sh",
            count: 1 << 20,
            make: sh_one_line,
        },
        Generator {
            name: "rs-one-line-1mib",
            path: "gen/oneline.rs",
            count: 1 << 20,
            make: rs_one_line,
        },
        Generator {
            name: "py-open-50k",
            path: "gen/opens.py",
            count: 50_000,
            make: py_opens,
        },
        Generator {
            name: "sh-rm-50k",
            path: "gen/opens.sh",
            count: 50_000,
            make: sh_removes,
        },
        Generator {
            name: "rs-fs-read-50k",
            path: "gen/opens.rs",
            count: 50_000,
            make: rs_reads,
        },
        Generator {
            name: "py-indented-600",
            path: "gen/indented.py",
            count: 600,
            make: py_indented,
        },
        Generator {
            name: "sh-doubling-40",
            path: "gen/doubling.sh",
            count: 40,
            make: sh_doubling,
        },
        Generator {
            name: "py-doubling-40",
            path: "gen/doubling.py",
            count: 40,
            make: py_doubling,
        },
        Generator {
            name: "rs-format-50k-args",
            path: "gen/format.rs",
            count: 50_000,
            make: rs_format,
        },
        Generator {
            name: "py-attribute-chain-100k",
            path: "gen/attributes.py",
            count: 100_000,
            make: py_attribute_chain,
        },
        Generator {
            name: "sh-rm-50k-words",
            path: "gen/words.sh",
            count: 50_000,
            make: sh_many_words,
        },
        Generator {
            name: "yaml-nested-1400",
            path: "gen/deep.yaml",
            count: 1_400,
            make: yaml_nested,
        },
        Generator {
            name: "crontab-50k-lines",
            path: "gen/jobs.cron",
            count: 50_000,
            make: crontab_lines,
        },
    ]
}

/// The generator of that name (a test's shorthand); panics on a name that does not exist.
pub fn all_named(name: &str) -> Generator {
    match all().into_iter().find(|g| g.name == name) {
        Some(generator) => generator,
        None => panic!("no generator named {name}"),
    }
}

/// `p = f"/data/lit0/{x0}lit1/{x1}..."` of about `bytes` bytes, then `open(p, "w")`.
pub fn py_fstring(bytes: usize) -> String {
    let mut body = String::new();
    let mut i = 0;
    while body.len() < bytes {
        body.push_str(&format!("lit{i}/{{x{}}}", i % 50));
        i += 1;
    }
    format!("p = f\"/data/{body}\"\nopen(p, \"w\")\n")
}

/// `os.path.join("d1", v2, "d3", ...)` with `args` arguments.
pub fn py_join(args: usize) -> String {
    let list: Vec<String> = (0..args)
        .map(|i| {
            if i % 2 == 1 {
                format!("\"d{i}\"")
            } else {
                format!("v{i}")
            }
        })
        .collect();
    format!(
        "import os\np = os.path.join(\"/data\", {})\nopen(p)\n",
        list.join(", ")
    )
}

/// `rm ${v0:-${v1:-${v2:-...}}}` of about `bytes` bytes.
pub fn sh_nested_defaults(bytes: usize) -> String {
    let levels = bytes / 12;
    let mut text = String::from("#!/bin/bash\nrm ");
    for i in 0..levels {
        text.push_str(&format!("${{v{i}:-"));
    }
    text.push_str("/x");
    text.push_str(&"}".repeat(levels));
    text.push('\n');
    text
}

/// `X0=/data`, `X1=$X0/s`, ... `rm -rf "$X<lines-1>"`.
pub fn sh_chain(lines: usize) -> String {
    let mut text = String::from("#!/bin/bash\nX0=/data\n");
    for i in 1..lines {
        text.push_str(&format!("X{i}=$X{}/s\n", i - 1));
    }
    text.push_str(&format!("rm -rf \"$X{}\"\n", lines.saturating_sub(1)));
    text
}

/// `p = a + "x0" + b0 + "x1" + b1 ...` with `operands` string operands.
pub fn py_concat(operands: usize) -> String {
    let mut text = String::from("p = a");
    for i in 0..operands {
        text.push_str(&format!(" + \"x{i}\" + b{i}"));
    }
    text.push_str("\nopen(p, 'w')\n");
    text
}

pub fn py_parens(depth: usize) -> String {
    format!(
        "p = {}'/x'{}\nopen(p)\n",
        "(".repeat(depth),
        ")".repeat(depth)
    )
}

pub fn sh_parens(depth: usize) -> String {
    format!(
        "#!/bin/bash\n{}rm /x{}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    )
}

pub fn rs_parens(depth: usize) -> String {
    format!(
        "fn main() {{ let p = {}\"/x\"{}; std::fs::remove_file(p); }}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    )
}

/// `open(os.path.join(open(os.path.join(...` nested `depth` calls deep.
pub fn py_nested_calls(depth: usize) -> String {
    let mut text = String::from("import os\n");
    for _ in 0..depth {
        text.push_str("open(os.path.join(");
    }
    text.push_str("'/x'");
    text.push_str(&"))".repeat(depth));
    text.push('\n');
    text
}

/// One line of about `bytes` bytes: a list of paths.
pub fn py_one_line(bytes: usize) -> String {
    let mut text = String::from("x = [");
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&format!("'/p/{i}',"));
        i += 1;
    }
    text.push_str("]\n");
    text
}

pub fn sh_one_line(bytes: usize) -> String {
    let mut text = String::from("#!/bin/bash\necho");
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&format!(" /p/{i}"));
        i += 1;
    }
    text.push('\n');
    text
}

pub fn rs_one_line(bytes: usize) -> String {
    let mut text = String::from("const X: &[&str] = &[");
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&format!("\"/p/{i}\","));
        i += 1;
    }
    text.push_str("];\n");
    text
}

pub fn py_opens(calls: usize) -> String {
    (0..calls).map(|i| format!("open('/d{i}','w')\n")).collect()
}

pub fn sh_removes(commands: usize) -> String {
    let mut text = String::from("#!/bin/bash\n");
    text.extend((0..commands).map(|i| format!("rm /d{i}\n")));
    text
}

pub fn rs_reads(calls: usize) -> String {
    let mut text = String::from("use std::fs;\nfn main() {\n");
    text.extend((0..calls).map(|i| format!("fs::read(\"/d{i}\");\n")));
    text.push_str("}\n");
    text
}

/// `levels` nested `if` blocks, each indented one more space, and an `open` in a string at the
/// bottom: the indentation stack that once overflowed the grammar's scanner state.
pub fn py_indented(levels: usize) -> String {
    let mut text = String::new();
    for i in 0..levels {
        text.push_str(&" ".repeat(i));
        text.push_str("if x:\n");
    }
    text.push_str(&" ".repeat(levels));
    text.push_str("open(f\"/x/{f'{y}'}\")\n");
    text
}

/// `a1="$a0$a0"`, `a2="$a1$a1"`, ...: a value that doubles with every name.
pub fn sh_doubling(names: usize) -> String {
    let mut text = String::from("#!/bin/bash\na0=/x\n");
    for i in 1..names {
        text.push_str(&format!("a{i}=\"$a{}$a{}\"\n", i - 1, i - 1));
    }
    text.push_str(&format!("rm \"$a{}\"\n", names.saturating_sub(1)));
    text
}

pub fn py_doubling(names: usize) -> String {
    let mut text = String::from("a0 = '/x'\n");
    for i in 1..names {
        text.push_str(&format!("a{i} = a{} + a{}\n", i - 1, i - 1));
    }
    text.push_str(&format!("open(a{}, 'w')\n", names.saturating_sub(1)));
    text
}

/// `std::fs::write(format!("/data/{}/{}...", a0, a1, ...), b"")` with `args` arguments.
pub fn rs_format(args: usize) -> String {
    let template = "{}/".repeat(args);
    let list: Vec<String> = (0..args).map(|i| format!("a{i}")).collect();
    format!(
        "fn main() {{\n    std::fs::write(format!(\"/data/{template}\", {}), b\"\");\n}}\n",
        list.join(", ")
    )
}

/// `open(a.b0.b1.b2...)` with a chain of `links` attributes.
pub fn py_attribute_chain(links: usize) -> String {
    let mut text = String::from("open(a");
    for i in 0..links {
        text.push_str(&format!(".b{i}"));
    }
    text.push_str(")\n");
    text
}

/// One `rm` with `words` operands.
pub fn sh_many_words(words: usize) -> String {
    let mut text = String::from("#!/bin/bash\nrm");
    for i in 0..words {
        text.push_str(&format!(" /d/{i}"));
    }
    text.push('\n');
    text
}

/// A mapping nested `levels` deep.
pub fn yaml_nested(levels: usize) -> String {
    let mut text = String::new();
    for i in 0..levels {
        text.push_str(&" ".repeat(i));
        text.push_str("a:\n");
    }
    text.push_str(&" ".repeat(levels));
    text.push_str("path: /x\n");
    text
}

pub fn crontab_lines(lines: usize) -> String {
    (0..lines)
        .map(|i| {
            format!(
                "{} {} * * * /opt/bin/job_{i}.sh > /var/log/job_{i}.log\n",
                i % 60,
                i % 24
            )
        })
        .collect()
}

// ---- rule and model files -------------------------------------------------------------------

/// An impact rule file of `count` rules.
pub fn impact_rules(count: usize) -> String {
    let mut text = String::from("schema = 1\n");
    for i in 0..count {
        text.push_str(&format!(
            "\n[[rule]]\nid = \"gen.rule-{i}\"\nkind = \"path\"\nseverity = \"info\"\nwhen = \"output-replaced\"\ncounterpart_modes = [\"delete\"]\nbefore = \"intersects\"\nafter = \"misses-replacement\"\ntitle = \"generated {i}\"\nmessage = \"{{counterpart}} generated {i}\"\ndoc = \"generated\"\n"
        ));
    }
    text
}

/// A Python model file of `count` rows, functions and methods.
pub fn python_rows(count: usize) -> String {
    let mut text = String::from("schema = 1\nlanguage = \"python\"\n");
    for i in 0..count {
        if i % 2 == 1 {
            text.push_str(&format!(
                "\n[[function]]\nname = \"genmod{i}.write_{i}\"\naccess = [{{ arg = 0, mode = \"write\" }}]\n"
            ));
        } else {
            text.push_str(&format!(
                "\n[[method]]\nname = \"Gen{i}.m{i}\"\naccess = [{{ arg = 0, mode = \"read\" }}]\n"
            ));
        }
    }
    text
}

/// A shell model file of `count` command rows.
pub fn bash_rows(count: usize) -> String {
    let mut text = String::from("schema = 1\nlanguage = \"bash\"\n");
    for i in 0..count {
        text.push_str(&format!(
            "\n[[command]]\nnames = [\"gencmd{i}\"]\noperands = [{{ select = \"all\", mode = \"delete\" }}]\n"
        ));
    }
    text
}

/// A Rust model file of `count` function rows.
pub fn rust_rows(count: usize) -> String {
    let mut text = String::from("schema = 1\nlanguage = \"rust\"\n");
    for i in 0..count {
        text.push_str(&format!(
            "\n[[function]]\npath = \"gen{i}::fs::write_{i}\"\nargs = [{{ arg = 0, mode = \"write\" }}]\n"
        ));
    }
    text
}

/// A configuration model file of `count` key rows: exact names, `*` globs, some limited to
/// files.
pub fn config_rows(count: usize) -> String {
    let mut text = String::from("schema = 1\nlanguage = \"config\"\n");
    for i in 0..count {
        let name = if i % 2 == 1 {
            format!("*_gen{i}")
        } else {
            format!("genkey{i}")
        };
        let files = if i % 3 == 0 {
            format!("files = [\"*gen{i}*\"]\n")
        } else {
            String::new()
        };
        text.push_str(&format!(
            "\n[[key]]\nnames = [\"{name}\"]\nmode = \"read\"\n{files}"
        ));
    }
    text
}
