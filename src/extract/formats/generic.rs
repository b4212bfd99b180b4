//! The generic fallback: other text files -> low-confidence mentions of paths and environment
//! variables.
//!
//! Input: source and configuration files in languages knockon does not parse (PHP, Ruby, Go,
//! JavaScript/TypeScript, Java, Puppet, JSON, Makefiles, ...); documentation, lock files and
//! minified files are not read. Output:
//! - string literals (and, in Makefiles and Procfiles, bare words) that look like absolute file
//!   paths — `/var/log/app/*.log`, `/data/x/y.csv`: at least two segments, no spaces, not a URL,
//!   under a well-known root or ending in a file name with an extension — as accesses with mode
//!   `unknown`; `%s`, `{x}`, `${x}` and `#{x}` inside them are holes;
//! - `UPPER_SNAKE` environment variables read through a recognisable call (the `[generic]`
//!   `env_readers` of `rules/models/config.toml`: `getenv("X")`, `process.env.X`,
//!   `ENV["X"]`, ...) as `Env` reads whose default is unknown (a hole), so they never count as
//!   requiring the variable.
//!
//! Every access has `via = "generic: <language guess>"`, so the report can rank them below
//! parsed facts. Invariants: one pass over the lines, no regular expressions; lines longer than
//! [`MAX_LINE`] are skipped; at most [`MAX_ACCESSES`] accesses per file.

use super::common::path_access;
use crate::expr::Expr;
use crate::extract::{EnvTarget, FileFacts, RawAccess, RawResource, Reach, ScopeKind};
use crate::model::Mode;
use crate::rules::models::Models;

const MAX_LINE: usize = 4096;
const MAX_ACCESSES: usize = 200;

/// Extensions read by the fallback, with the language named in `via`.
const LANGUAGES: &[(&str, &str)] = &[
    ("php", "php"),
    ("rb", "ruby"),
    ("rake", "ruby"),
    ("go", "go"),
    ("js", "javascript"),
    ("mjs", "javascript"),
    ("cjs", "javascript"),
    ("jsx", "javascript"),
    ("ts", "typescript"),
    ("tsx", "typescript"),
    ("java", "java"),
    ("kt", "kotlin"),
    ("kts", "kotlin"),
    ("scala", "scala"),
    ("groovy", "groovy"),
    ("gradle", "groovy"),
    ("cs", "c#"),
    ("c", "c"),
    ("h", "c"),
    ("cc", "c++"),
    ("cpp", "c++"),
    ("hpp", "c++"),
    ("swift", "swift"),
    ("pl", "perl"),
    ("pm", "perl"),
    ("lua", "lua"),
    ("ex", "elixir"),
    ("exs", "elixir"),
    ("erl", "erlang"),
    ("clj", "clojure"),
    ("r", "r"),
    ("pp", "puppet"),
    ("json", "json"),
    ("xml", "xml"),
    ("tf", "terraform"),
    ("hcl", "hcl"),
    ("sql", "sql"),
    ("ps1", "powershell"),
    ("bat", "batch"),
    ("cmd", "batch"),
    ("mk", "make"),
    ("nix", "nix"),
];

/// Files without an extension read by the fallback.
const NAMES: &[(&str, &str)] = &[
    ("makefile", "make"),
    ("gnumakefile", "make"),
    ("jenkinsfile", "groovy"),
    ("rakefile", "ruby"),
    ("vagrantfile", "ruby"),
    ("procfile", "procfile"),
    ("justfile", "just"),
];

/// First path segments that are file system roots (so `/var/x` is a file, `/api/x` a route).
const ROOTS: &[&str] = &[
    "var",
    "etc",
    "opt",
    "srv",
    "data",
    "home",
    "tmp",
    "usr",
    "mnt",
    "run",
    "root",
    "backup",
    "backups",
    "logs",
    "log",
    "app",
    "storage",
    "media",
    "nfs",
    "export",
    "exports",
    "shared",
    "scratch",
    "archive",
    "archives",
    "spool",
    "dev",
    "proc",
    "sys",
    "lib",
    "bin",
    "sbin",
    "Users",
    "Volumes",
    "workspace",
    "work",
    "volumes",
    "secrets",
    "certs",
    "config",
    "cache",
];

/// Whether the fallback reads a file.
pub(crate) fn is_generic_path(lower_name: &str, ext: Option<&str>, _dirs: &[&str]) -> bool {
    if lower_name.contains(".min.") || lower_name.ends_with(".lock") {
        return false;
    }
    const SKIPPED: &[&str] = &[
        "package-lock.json",
        "composer.lock",
        "go.sum",
        "tsconfig.json",
    ];
    if SKIPPED.contains(&lower_name) {
        return false;
    }
    language(lower_name, ext).is_some()
}

fn language(lower_name: &str, ext: Option<&str>) -> Option<&'static str> {
    if let Some((_, lang)) = NAMES.iter().find(|(n, _)| *n == lower_name) {
        return Some(lang);
    }
    let ext = ext?;
    LANGUAGES.iter().find(|(e, _)| *e == ext).map(|(_, l)| *l)
}

/// Extracts the low-confidence facts of a file.
pub fn extract(path: &str, text: &str, models: &Models) -> FileFacts {
    let mut facts = FileFacts::new(path, ScopeKind::Module);
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let ext = name.rsplit_once('.').map(|(_, e)| e);
    let lang = language(&name, ext).unwrap_or("text");
    let via = format!("generic: {lang}");
    let bare_words = matches!(lang, "make" | "procfile" | "just");
    let mut count = 0;
    for (index, line) in text.split('\n').enumerate() {
        if count >= MAX_ACCESSES {
            break;
        }
        if line.len() > MAX_LINE || is_comment(line.trim_start()) {
            continue;
        }
        let line_no = super::common::line_of(index);
        for candidate in candidates(line, bare_words) {
            if count >= MAX_ACCESSES {
                break;
            }
            if let Some(expr) = path_candidate(candidate) {
                path_access(
                    &mut facts,
                    0,
                    expr,
                    Mode::Unknown,
                    Reach::Exact,
                    line_no,
                    &via,
                );
                count += 1;
            }
        }
        for name in env_reads(line, models.config.env_readers()) {
            if count >= MAX_ACCESSES {
                break;
            }
            facts.accesses.push(RawAccess {
                resource: RawResource::Env(EnvTarget {
                    name: Expr::lit(name),
                    value: Some(Expr::hole("default unknown")),
                }),
                mode: Mode::Read,
                line: line_no,
                scope: 0,
                via: via.clone().into(),
            });
            count += 1;
        }
    }
    facts
}

fn is_comment(line: &str) -> bool {
    ["//", "#", "/*", "* ", "<!--", "--", ";"]
        .iter()
        .any(|p| line.starts_with(p))
        || line == "*"
}

/// The contents of quoted strings on a line (and its bare words, for Makefiles).
fn candidates(line: &str, bare_words: bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote: Option<(char, usize)> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match quote {
            Some(_) if c == '\\' => escaped = true,
            Some((q, start)) if c == q => {
                let literal = &line[start..i];
                if literal.contains(char::is_whitespace) {
                    // A command in a string (`sh 'rm -rf /var/x'`): its words.
                    out.extend(
                        literal
                            .split_whitespace()
                            .map(|w| w.trim_end_matches([';', ',', ')']))
                            .filter(|w| w.starts_with('/')),
                    );
                } else {
                    out.push(literal);
                }
                quote = None;
            }
            Some(_) => {}
            None if matches!(c, '"' | '\'' | '`') => quote = Some((c, i + c.len_utf8())),
            None => {}
        }
    }
    if bare_words {
        out.extend(
            line.split(|c: char| {
                c.is_whitespace() || matches!(c, ';' | '(' | ')' | '=' | '"' | '\'')
            })
            .filter(|w| w.starts_with('/')),
        );
    }
    out
}

/// A literal that looks like an absolute file path, as an expression.
fn path_candidate(text: &str) -> Option<Expr> {
    let text = text.trim();
    if !text.starts_with('/')
        || text.starts_with("//")
        || text.len() > 512
        || text.contains(char::is_whitespace)
        || text.contains("://")
    {
        return None;
    }
    let allowed = |c: char| c.is_alphanumeric() || "/._-*?{}$@+%=~,:[]#".contains(c);
    if !text.chars().all(allowed) {
        return None;
    }
    let segments: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
    let (first, last) = (segments.first()?, segments.last()?);
    if segments.len() < 2 {
        return None;
    }
    let named_file = last.contains('.') && !last.starts_with('.') || last.contains('*');
    if !ROOTS.contains(first) && !named_file {
        return None;
    }
    Some(with_holes(text))
}

/// `%s`, `%d`, `{x}`, `${x}`, `#{x}` inside a literal are holes; `*` and `?` make it a glob.
fn with_holes(text: &str) -> Expr {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = text.char_indices().peekable();
    let push_literal = |literal: &mut String, parts: &mut Vec<Expr>| {
        if !literal.is_empty() {
            parts.push(super::common::path_expr(&std::mem::take(literal)));
        }
    };
    while let Some((i, c)) = chars.next() {
        let rest = &text[i..];
        let hole_len = if c == '%' && rest.len() > 1 && rest[1..].starts_with(['s', 'd', 'v']) {
            Some(2)
        } else if (c == '$' || c == '#') && rest[1..].starts_with('{') {
            rest.find('}').map(|e| e + 1)
        } else if c == '{' {
            rest.find('}').map(|e| e + 1)
        } else {
            None
        };
        match hole_len {
            Some(len) => {
                push_literal(&mut literal, &mut parts);
                parts.push(Expr::hole(&text[i..i + len]));
                while chars.peek().is_some_and(|(j, _)| *j < i + len) {
                    chars.next();
                }
            }
            None => literal.push(c),
        }
    }
    push_literal(&mut literal, &mut parts);
    Expr::concat(parts)
}

/// Environment variable names read on a line through one of the reader prefixes.
fn env_reads(line: &str, readers: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for reader in readers {
        let mut search = 0;
        while let Some(found) = line[search..].find(reader.as_str()) {
            let start = search + found + reader.len();
            search = start;
            let rest = line[start..].trim_start();
            let (quoted, rest) = match rest.chars().next() {
                Some(q @ ('"' | '\'' | '`')) => (Some(q), &rest[1..]),
                _ => (None, rest),
            };
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..end];
            let closed = match quoted {
                Some(q) => rest[end..].starts_with(q),
                None => true,
            };
            let upper_snake = name.len() >= 2
                && name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if closed && upper_snake && !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models() -> Models {
        Models::builtin().expect("models")
    }

    fn summary(f: &FileFacts) -> Vec<String> {
        f.accesses
            .iter()
            .map(|a| {
                let what = match &a.resource {
                    RawResource::Path(p) => format!("{:?}", p.expr),
                    RawResource::Env(e) => format!("env {:?}", e.name.as_lit()),
                    _ => "other".to_string(),
                };
                format!("L{} {} {} {}", a.line, a.mode, what, a.via)
            })
            .collect()
    }

    #[test]
    fn paths_and_env_reads_in_unparsed_languages() {
        let php = "<?php\n$log = '/var/log/app/worker.log';\n$q = getenv('QUEUE_NAME');\n// '/var/log/old.log'\n$u = \"/api/users\";\n$d = sprintf('/data/ticker/%s.csv', $day);\n";
        let f = extract("src/worker.php", php, &models());
        assert_eq!(
            summary(&f),
            vec![
                "L2 unknown Lit { text: \"/var/log/app/worker.log\" } generic: php",
                "L3 read env Some(\"QUEUE_NAME\") generic: php",
                "L6 unknown Concat { parts: [Lit { text: \"/data/ticker/\" }, Hole { label: \"%s\", shape: Segment }, Lit { text: \".csv\" }] } generic: php",
            ]
        );
        let js = "const dir = process.env.DATA_DIR || `/data/${day}/x.csv`;\nconst s = System.getenv(\"lower\");\n";
        let f = extract("app/index.js", js, &models());
        let got = summary(&f);
        assert!(
            got.iter().any(|s| s.contains("env Some(\"DATA_DIR\")")),
            "{got:?}"
        );
        assert!(
            got.iter().any(|s| s.contains("Hole { label: \"${day}\"")),
            "{got:?}"
        );
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn commands_inside_strings() {
        let groovy =
            "stage('clean') {\n  sh 'find /var/lib/jenkins/cache -mtime +3 -delete; ls'\n}\n";
        let f = extract("Jenkinsfile", groovy, &models());
        assert_eq!(
            summary(&f),
            vec!["L2 unknown Lit { text: \"/var/lib/jenkins/cache\" } generic: groovy"]
        );
    }

    #[test]
    fn makefiles_bare_words_and_globs() {
        let make = "clean:\n\trm -rf /var/cache/app/*.tmp build/\n";
        let f = extract("Makefile", make, &models());
        assert_eq!(
            summary(&f),
            vec!["L2 unknown Glob { text: \"/var/cache/app/*.tmp\" } generic: make"]
        );
    }

    #[test]
    fn bounded_on_huge_and_binary_input() {
        let long = format!("x = '{}'\n", "/var/a".repeat(2000));
        let many = "s = '/var/log/a.log'\n".repeat(5000);
        let f = extract("a.rb", &(long + &many), &models());
        assert_eq!(f.accesses.len(), MAX_ACCESSES);
        let binary = String::from_utf8_lossy(&[0, 159, 146, 150, b'"', b'/', 0xff]).to_string();
        let _ = extract("a.go", &binary, &models());
    }
}
