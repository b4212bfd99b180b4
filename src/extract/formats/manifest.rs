//! Package manifests: the programs a repository installs under a command name.
//!
//! An ops script runs `crm-sync --once` or `/opt/crm/venv/bin/crm-sync`; which code that is, only
//! the package's manifest says: a console script in `pyproject.toml` (`[project.scripts]`,
//! `[tool.poetry.scripts]`), `setup.cfg` (`[options.entry_points] console_scripts`) or `setup.py`
//! (`entry_points={"console_scripts": ["crm-sync = crm.sync:main"]}`), or a Cargo binary
//! (`[package] name`, `[[bin]] name/path`). Each becomes a [`ProgramFact`]; the resolver links a
//! launch by that name to the module or file, so that the launcher's environment reaches it.
//!
//! The manifests are read line by line (section headers and `key = "value"` lines), which is
//! what these files are in practice; an inline table or a computed `setup()` argument is simply
//! not found. Bounded by the file's lines.

use crate::extract::{FileFacts, ProgramFact, ProgramTarget, ScopeKind};

/// Whether a file name is a manifest read here (`setup.py` is Python and is read by
/// [`setup_py_programs`] on top of its Python facts).
pub fn is_manifest_name(lower_name: &str) -> bool {
    matches!(lower_name, "pyproject.toml" | "setup.cfg" | "cargo.toml")
}

/// The facts of a manifest: its programs, nothing else.
pub fn extract(path: &str, text: &str) -> FileFacts {
    let mut facts = FileFacts::new(path, ScopeKind::Module);
    let name = path.rsplit('/').next().unwrap_or(path);
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    facts.programs = match name {
        "pyproject.toml" => pyproject_programs(text),
        "setup.cfg" => setup_cfg_programs(text),
        "Cargo.toml" => cargo_programs(dir, text),
        _ => Vec::new(),
    };
    facts
}

/// `[section]` or `[[section]]` of a TOML/INI line, without the brackets.
fn section_of(line: &str) -> Option<&str> {
    let line = line.trim();
    let inner = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]"));
    inner.or_else(|| line.strip_prefix('[').and_then(|l| l.strip_suffix(']')))
}

/// `key = "value"` (TOML) or `key = value` (INI), with quotes around either side removed.
fn key_value(line: &str) -> Option<(&str, &str)> {
    fn unquote(s: &str) -> &str {
        let s = s.trim();
        s.strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
            .unwrap_or(s)
    }
    let (key, value) = line.split_once('=')?;
    let value = value.split(" #").next().unwrap_or(value);
    Some((unquote(key), unquote(value)))
}

/// `pkg.mod:func` (or `pkg.mod`, `pkg.mod:obj.method`, with `[extras]`): the module.
fn entry_point_module(value: &str) -> Option<String> {
    let value = value.split('[').next().unwrap_or(value).trim();
    let module = value.split(':').next().unwrap_or(value).trim();
    let valid = !module.is_empty()
        && module
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_'));
    valid.then(|| module.to_string())
}

fn is_program_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn python_program(name: &str, value: &str, line: usize) -> Option<ProgramFact> {
    if !is_program_name(name) {
        return None;
    }
    Some(ProgramFact {
        name: name.to_string(),
        line: u32::try_from(line + 1).unwrap_or(u32::MAX),
        target: ProgramTarget::PythonModule {
            module: entry_point_module(value)?,
        },
    })
}

fn pyproject_programs(text: &str) -> Vec<ProgramFact> {
    let mut out = Vec::new();
    let mut in_scripts = false;
    for (index, line) in text.lines().enumerate() {
        if let Some(section) = section_of(line) {
            in_scripts = matches!(
                section.trim(),
                "project.scripts" | "project.gui-scripts" | "tool.poetry.scripts"
            );
            continue;
        }
        if in_scripts
            && let Some((name, value)) = key_value(line)
            && let Some(program) = python_program(name, value, index)
        {
            out.push(program);
        }
    }
    out
}

fn setup_cfg_programs(text: &str) -> Vec<ProgramFact> {
    let mut out = Vec::new();
    let mut in_entry_points = false;
    let mut in_console_scripts = false;
    for (index, line) in text.lines().enumerate() {
        if let Some(section) = section_of(line) {
            in_entry_points = section.trim() == "options.entry_points";
            in_console_scripts = false;
            continue;
        }
        if !in_entry_points || line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        if !indented {
            let key = line.split('=').next().unwrap_or("").trim();
            in_console_scripts = matches!(key, "console_scripts" | "gui_scripts");
            // `console_scripts = name = mod:func` on the key's own line.
            if in_console_scripts
                && let Some((_, rest)) = line.split_once('=')
                && let Some((name, value)) = key_value(rest)
                && let Some(program) = python_program(name, value, index)
            {
                out.push(program);
            }
            continue;
        }
        if in_console_scripts
            && let Some((name, value)) = key_value(line)
            && let Some(program) = python_program(name, value, index)
        {
            out.push(program);
        }
    }
    out
}

/// The console scripts a `setup.py` declares: string literals `"name = module:function"` in a
/// file that mentions `console_scripts`.
pub fn setup_py_programs(text: &str) -> Vec<ProgramFact> {
    if !text.contains("console_scripts") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for quote in ['"', '\''] {
            let mut pieces = line.split(quote);
            // Odd pieces are inside quotes.
            pieces.next();
            while let Some(inside) = pieces.next() {
                if let Some((name, value)) = inside.split_once('=')
                    && value.contains(':')
                    && let Some(program) = python_program(name.trim(), value.trim(), index)
                {
                    out.push(program);
                }
                pieces.next();
            }
        }
    }
    out
}

fn cargo_programs(dir: &str, text: &str) -> Vec<ProgramFact> {
    let join = |rel: &str| {
        let rel = rel.trim_start_matches("./");
        if dir.is_empty() {
            rel.to_string()
        } else {
            format!("{dir}/{rel}")
        }
    };
    let mut out = Vec::new();
    let mut section = String::new();
    // A `[[bin]]` table's name, line and path, emitted when the table ends.
    let mut bin: Option<(String, usize, Option<String>)> = None;
    let mut bin_name: Option<(String, usize)> = None;
    let flush = |bin: &mut Option<(String, usize, Option<String>)>, out: &mut Vec<ProgramFact>| {
        if let Some((name, line, path)) = bin.take()
            && is_program_name(&name)
        {
            let paths = match path {
                Some(path) => vec![join(&path)],
                None => vec![
                    join(&format!("src/bin/{name}.rs")),
                    join(&format!("src/bin/{name}/main.rs")),
                    join("src/main.rs"),
                ],
            };
            for path in paths {
                out.push(ProgramFact {
                    name: name.clone(),
                    line: u32::try_from(line + 1).unwrap_or(u32::MAX),
                    target: ProgramTarget::File { path },
                });
            }
        }
    };
    for (index, line) in text.lines().enumerate() {
        if let Some(name) = section_of(line) {
            flush(&mut bin, &mut out);
            section = name.trim().to_string();
            if section == "bin" && line.trim().starts_with("[[") {
                bin = Some((String::new(), index, None));
            }
            continue;
        }
        let Some((key, value)) = key_value(line) else {
            continue;
        };
        match (section.as_str(), key) {
            ("package", "name") if bin_name.is_none() => {
                bin_name = Some((value.to_string(), index));
            }
            ("bin", "name") => {
                if let Some(b) = bin.as_mut() {
                    b.0 = value.to_string();
                    b.1 = index;
                }
            }
            ("bin", "path") => {
                if let Some(b) = bin.as_mut() {
                    b.2 = Some(value.to_string());
                }
            }
            _ => {}
        }
    }
    flush(&mut bin, &mut out);
    if let Some((name, line)) = bin_name
        && is_program_name(&name)
        && !out.iter().any(|p| p.name == name)
    {
        out.push(ProgramFact {
            name,
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            target: ProgramTarget::File {
                path: join("src/main.rs"),
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(facts: &FileFacts) -> Vec<(String, u32, String)> {
        facts
            .programs
            .iter()
            .map(|p| {
                let target = match &p.target {
                    ProgramTarget::PythonModule { module } => format!("module {module}"),
                    ProgramTarget::File { path } => format!("file {path}"),
                };
                (p.name.clone(), p.line, target)
            })
            .collect()
    }

    #[test]
    fn pyproject_scripts_and_poetry_scripts() {
        let text = "[project]\nname = \"crm\"\n\n[project.scripts]\ncrm-sync = \"crm.sync:main\"\n\"crm-gc\" = 'crm.gc:run'\n\n[project.urls]\nhome = \"https://x:1\"\n\n[tool.poetry.scripts]\ncrm-old = \"crm.legacy.cli:main\"\n";
        assert_eq!(
            listed(&extract("svc/pyproject.toml", text)),
            vec![
                ("crm-sync".into(), 5, "module crm.sync".into()),
                ("crm-gc".into(), 6, "module crm.gc".into()),
                ("crm-old".into(), 12, "module crm.legacy.cli".into()),
            ]
        );
        // Dependencies and URLs are not programs.
        let text = "[project]\ndependencies = [\"a:b\"]\n[project.urls]\ndocs = \"x.y:z\"\n";
        assert!(extract("pyproject.toml", text).programs.is_empty());
    }

    #[test]
    fn setup_cfg_console_scripts() {
        let text = "[metadata]\nname = crm\n\n[options.entry_points]\nconsole_scripts =\n    crm-sync = crm.sync:main\n    crm-gc = crm.gc:run [extra]\nflake8.extension =\n    X1 = plugin.mod:Check\n";
        assert_eq!(
            listed(&extract("setup.cfg", text)),
            vec![
                ("crm-sync".into(), 6, "module crm.sync".into()),
                ("crm-gc".into(), 7, "module crm.gc".into()),
            ]
        );
    }

    #[test]
    fn setup_py_console_scripts() {
        let text = "from setuptools import setup\nsetup(\n    name='crm',\n    entry_points={\n        'console_scripts': ['crm-sync = crm.sync:main', \"crm-gc=crm.gc:run\"],\n    },\n)\n";
        let mut names: Vec<(String, u32)> = setup_py_programs(text)
            .into_iter()
            .map(|p| (p.name, p.line))
            .collect();
        names.sort();
        assert_eq!(names, vec![("crm-gc".into(), 5), ("crm-sync".into(), 5)]);
        // Without console_scripts, a `key = a:b` string is not a program.
        assert!(setup_py_programs("x = 'a = b:c'\n").is_empty());
    }

    #[test]
    fn cargo_package_and_bins() {
        let text = "[package]\nname = \"spooler\"\nversion = \"0.1.0\"\n\n[[bin]]\nname = \"spool-gc\"\npath = \"src/gc.rs\"\n\n[dependencies]\nname = \"not-a-bin\"\n";
        assert_eq!(
            listed(&extract("daemon/Cargo.toml", text)),
            vec![
                ("spool-gc".into(), 6, "file daemon/src/gc.rs".into()),
                ("spooler".into(), 2, "file daemon/src/main.rs".into()),
            ]
        );
        // A workspace root declares no binary of its own.
        let text = "[workspace]\nmembers = [\"a\", \"b\"]\n";
        assert!(extract("Cargo.toml", text).programs.is_empty());
    }
}
