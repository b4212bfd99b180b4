//! Dockerfiles -> facts: the environment of the image, its build commands, what it runs, and
//! where repository files land inside it.
//!
//! Input: `Dockerfile`, `Dockerfile.*`, `*.dockerfile`, `Containerfile`. Output, per build
//! stage (a scope named `stage NAME` under the file scope):
//! - `ENV A=1 B=2` / `ENV A 1`: `Env` sets with values, and bindings in the stage scope so later
//!   `RUN`s resolve `$A`; `ARG NAME=default`: a binding;
//! - `RUN`: shell form analysed as shell (continuation lines and heredocs keep their lines),
//!   exec form as a command, in a child scope, relative paths against the current `WORKDIR`;
//! - `CMD` / `ENTRYPOINT` / `HEALTHCHECK CMD`: the same, so the program the image starts is a
//!   run reference;
//! - `COPY`/`ADD src... dest` (not `--from` another stage): a binding `volume:<image path>` in
//!   the file scope whose value is the source path as written (relative to the build context,
//!   usually the Dockerfile's directory), and a `move-to` access on the destination;
//! - `VOLUME`: a `create` access on each mount point; `WORKDIR`: the `cd` of what follows.
//!
//! Invariants: an instruction knockon does not know is skipped; unknown or malformed lines
//! never stop the rest of the file; JSON arrays that do not parse are read as shell form.

use super::common::{
    self, Arg, Interpolation, exec_text, line_of, path_access, push_scope, set_env, value_expr,
};
use crate::expr::{Expr, ScopeId};
use crate::extract::{Binding, FileFacts, Reach, ScopeKind};
use crate::model::Mode;
use crate::rules::models::Models;

/// Whether the file name is a Dockerfile's.
pub(crate) fn is_dockerfile(lower_name: &str) -> bool {
    lower_name == "dockerfile"
        || lower_name == "containerfile"
        || lower_name.starts_with("dockerfile.")
        || lower_name.starts_with("containerfile.")
        || lower_name.ends_with(".dockerfile")
        || lower_name.ends_with(".containerfile")
}

/// One instruction: its keyword, its arguments (continuations kept as `\` + newline so that
/// shell text keeps its lines), and its first line.
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
    line: u32,
}

/// Splits the file into instructions.
fn instructions(text: &str) -> Vec<Instruction> {
    let lines: Vec<&str> = text.split('\n').collect();
    let escape = escape_char(&lines);
    let mut out = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let first = lines[index].trim_start_matches('\u{feff}');
        let line = line_of(index);
        index += 1;
        let trimmed = first.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut body = trimmed.to_string();
        while ends_with_escape(&body, escape) && index < lines.len() {
            if escape != '\\' {
                body.pop();
                body.push('\\');
            }
            let next = lines[index];
            index += 1;
            body.push('\n');
            if next.trim_start().starts_with('#') {
                // Docker drops comment lines inside an instruction; keep the line for the shell.
                body.push('\\');
            } else {
                body.push_str(next);
            }
        }
        if let Some(delimiter) = heredoc_delimiter(&body) {
            while index < lines.len() {
                let next = lines[index];
                index += 1;
                body.push('\n');
                body.push_str(next);
                if next.trim() == delimiter {
                    break;
                }
            }
        }
        let (keyword, args) = match body.find(char::is_whitespace) {
            Some(at) => (&body[..at], body[at..].trim_start_matches([' ', '\t'])),
            None => (body.as_str(), ""),
        };
        out.push(Instruction {
            keyword: keyword.to_ascii_uppercase(),
            args: args.to_string(),
            line,
        });
    }
    out
}

/// The `# escape=` parser directive (default `\`).
fn escape_char(lines: &[&str]) -> char {
    for line in lines.iter().take(8) {
        let t = line.trim();
        let Some(directive) = t.strip_prefix('#') else {
            break;
        };
        if let Some((key, value)) = directive.split_once('=')
            && key.trim().eq_ignore_ascii_case("escape")
            && let Some(c) = value.trim().chars().next()
        {
            return c;
        }
    }
    '\\'
}

fn ends_with_escape(body: &str, escape: char) -> bool {
    body.trim_end().ends_with(escape)
}

/// `RUN <<EOF`, `RUN <<-"EOF" ...`: the heredoc's delimiter.
fn heredoc_delimiter(body: &str) -> Option<String> {
    let first_line = body.lines().next()?;
    let at = first_line.find("<<")?;
    let rest = first_line[at + 2..].trim_start_matches('-');
    let word: String = rest
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// The state of the stage being read.
struct Stage {
    scope: ScopeId,
    workdir: Option<String>,
}

/// Extracts the facts of a Dockerfile.
pub fn extract(path: &str, text: &str, models: &Models) -> FileFacts {
    let mut facts = FileFacts::new(path, ScopeKind::Module);
    let mut stage = Stage {
        scope: 0,
        workdir: None,
    };
    for instruction in instructions(text) {
        let args = instruction.args.as_str();
        let line = instruction.line;
        match instruction.keyword.as_str() {
            "FROM" => {
                let words: Vec<&str> = args.split_whitespace().collect();
                let name = match words.as_slice() {
                    [.., as_kw, name] if as_kw.eq_ignore_ascii_case("as") => name.to_string(),
                    [.., image] => image.to_string(),
                    [] => "image".to_string(),
                };
                let scope = push_scope(
                    &mut facts,
                    0,
                    ScopeKind::Function,
                    format!("stage {name}"),
                    line,
                );
                stage = Stage {
                    scope,
                    workdir: None,
                };
            }
            "ENV" => env(&mut facts, stage.scope, args, line),
            "ARG" => {
                for word in common::shell_words(args) {
                    if let Some((name, value)) = word.split_once('=')
                        && common::is_env_name(name)
                    {
                        facts.bindings.push(Binding {
                            scope: stage.scope,
                            name: name.to_string().into(),
                            value: Expr::lit(value).into(),
                            line,
                        });
                    }
                }
            }
            "WORKDIR" => {
                let dir = common::unquote(args.trim()).to_string();
                let joined = join_dir(stage.workdir.as_deref(), &dir);
                let trimmed = joined.trim_end_matches('/');
                stage.workdir = Some(if trimmed.is_empty() {
                    "/".to_string()
                } else {
                    trimmed.to_string()
                });
            }
            "RUN" | "CMD" | "ENTRYPOINT" => {
                command(&mut facts, &stage, &instruction.keyword, args, line, models)
            }
            "HEALTHCHECK" => {
                if let Some(at) = args.find("CMD") {
                    command(
                        &mut facts,
                        &stage,
                        "HEALTHCHECK",
                        &args[at + 3..],
                        line,
                        models,
                    );
                }
            }
            "COPY" | "ADD" => copy(&mut facts, &stage, &instruction.keyword, args, line),
            "VOLUME" => {
                let paths = json_array(args)
                    .map(|a| a.into_iter().map(|(t, _)| t).collect())
                    .unwrap_or_else(|| common::split_values(args));
                for p in paths {
                    let via = "Dockerfile VOLUME";
                    path_access(
                        &mut facts,
                        stage.scope,
                        Expr::lit(p),
                        Mode::Create,
                        Reach::Exact,
                        line,
                        via,
                    );
                }
            }
            _ => {}
        }
    }
    facts
}

/// `ENV A=1 B="x y"` or the legacy `ENV A the rest is the value`.
fn env(facts: &mut FileFacts, scope: ScopeId, args: &str, line: u32) {
    let dollar = Interpolation {
        dollar: true,
        ..Interpolation::default()
    };
    let args = args.replace("\\\n", " ");
    let first = args.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let value = args[first.len()..].trim();
        let expr = value_expr(common::unquote(value), dollar, false);
        set_env(facts, scope, first, Some(expr), line, "Dockerfile ENV");
        return;
    }
    for word in raw_words(&args) {
        let Some((name, value)) = word.split_once('=') else {
            continue;
        };
        let expr = if value.starts_with('\'') {
            Expr::lit(common::unquote(value))
        } else {
            value_expr(common::unquote(value), dollar, false)
        };
        set_env(facts, scope, name, Some(expr), line, "Dockerfile ENV");
    }
}

/// Words separated by unquoted whitespace, quotes kept (so `'...'` can be told from `"..."`).
fn raw_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (_, c) => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A `RUN`/`CMD`/`ENTRYPOINT` in shell or exec form, analysed in a child scope.
fn command(
    facts: &mut FileFacts,
    stage: &Stage,
    keyword: &str,
    args: &str,
    line: u32,
    models: &Models,
) {
    let scope = push_scope(facts, stage.scope, ScopeKind::Function, keyword, line);
    let cwd = stage.workdir.as_deref();
    if let Some(items) = json_array(args) {
        let items: Vec<Arg> = items
            .into_iter()
            .map(|(text, offset)| Arg {
                text,
                line: line.saturating_add(offset),
            })
            .collect();
        if let Some(index) = common::shell_script_index(&items)
            && let Some(script) = items.get(index)
        {
            return common::shell(facts, scope, &script.text, script.line, cwd, models);
        }
        if let Some((text, first)) = exec_text(&items) {
            common::shell(facts, scope, &text, first, cwd, models);
        }
        return;
    }
    let args = args.trim_start();
    let mut text = args
        .strip_prefix("--mount")
        .map(|_| skip_flags(args))
        .unwrap_or(args)
        .to_string();
    if text.starts_with("<<") {
        // `RUN <<EOF ... EOF`: the heredoc is the script.
        let body_start = text.find('\n').map(|i| i + 1).unwrap_or(text.len());
        let body = &text[body_start..];
        let body = match body.rfind('\n') {
            Some(end) => &body[..end],
            None => body,
        };
        let body = body.to_string();
        return common::shell(facts, scope, &body, line.saturating_add(1), cwd, models);
    }
    if let Some(rest) = text.strip_prefix("--network=") {
        text = rest
            .split_once(char::is_whitespace)
            .map(|(_, r)| r.to_string())
            .unwrap_or_default();
    }
    common::shell(facts, scope, &text, line, cwd, models);
}

/// Skips leading `--flag=value` words of a `RUN`.
fn skip_flags(args: &str) -> &str {
    let mut rest = args.trim_start();
    while rest.starts_with("--") {
        rest = match rest.find(char::is_whitespace) {
            Some(at) => rest[at..].trim_start(),
            None => "",
        };
    }
    rest
}

/// A JSON array of strings (exec form), each with the number of lines before it.
fn json_array(args: &str) -> Option<Vec<(String, u32)>> {
    let trimmed = args.trim();
    if !trimmed.starts_with('[') || !trimmed.ends_with(']') {
        return None;
    }
    let cleaned = trimmed.replace("\\\n", "\n");
    let values: Vec<String> = serde_json::from_str(&cleaned).ok()?;
    let mut out = Vec::with_capacity(values.len());
    let mut search = 0;
    for value in values {
        let quoted = serde_json::to_string(&value).ok()?;
        let at = cleaned[search..]
            .find(&quoted)
            .map(|i| i + search)
            .unwrap_or(search);
        let lines = cleaned[..at].matches('\n').count();
        out.push((value, u32::try_from(lines).unwrap_or(0)));
        search = at.saturating_add(quoted.len()).min(cleaned.len());
    }
    Some(out)
}

/// `WORKDIR` joins relative directories onto the previous one (`.` and `./` are the same
/// directory).
fn join_dir(current: Option<&str>, dir: &str) -> String {
    if dir.starts_with('/') || dir.starts_with('$') {
        return dir.to_string();
    }
    let dir = dir.trim_start_matches("./");
    let dir = if dir == "." { "" } else { dir };
    let base = current.unwrap_or("").trim_end_matches('/');
    if dir.is_empty() {
        return format!("{base}/");
    }
    format!("{base}/{dir}")
}

/// `COPY [--chown=..] src... dest`: where each source lands in the image.
fn copy(facts: &mut FileFacts, stage: &Stage, keyword: &str, args: &str, line: u32) {
    let mut words: Vec<String> = match json_array(args) {
        Some(items) => items.into_iter().map(|(t, _)| t).collect(),
        None => common::shell_words(&args.replace("\\\n", " ")),
    };
    let from_stage = words.iter().any(|w| w.starts_with("--from"));
    words.retain(|w| !w.starts_with("--"));
    let Some(dest) = words.pop() else { return };
    if words.is_empty() {
        return;
    }
    let dest = join_dir(stage.workdir.as_deref(), &dest);
    let dest_is_dir = dest.ends_with('/') || words.len() > 1;
    let dest_path = match dest.trim_end_matches('/') {
        "" => "/".to_string(),
        trimmed => trimmed.to_string(),
    };
    let via = format!("Dockerfile {keyword}");
    let mut targets: Vec<(String, bool)> = Vec::new();
    for src in &words {
        let remote = src.contains("://");
        let src_is_dir = src.ends_with('/') || src == "." || common::has_glob(src);
        let image_path = if dest_is_dir && !src_is_dir && !remote {
            let base = src.rsplit('/').next().unwrap_or(src);
            format!("{}/{base}", dest_path.trim_end_matches('/'))
        } else {
            dest_path.clone()
        };
        if !from_stage && !remote {
            let source = if common::has_glob(src) {
                src.rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_else(|| ".".to_string())
            } else {
                src.trim_end_matches('/').to_string()
            };
            facts.bindings.push(Binding {
                scope: 0,
                name: format!("{}{image_path}", crate::extract::formats::VOLUME_PREFIX).into(),
                value: Expr::lit(if source.is_empty() { "." } else { &source }).into(),
                line,
            });
        }
        let tree = src_is_dir || (remote && dest_is_dir);
        if !targets.iter().any(|(t, _)| *t == image_path) {
            targets.push((image_path, tree));
        }
    }
    for (target, tree) in targets {
        let reach = if tree { Reach::Tree } else { Reach::Exact };
        path_access(
            facts,
            stage.scope,
            Expr::lit(target),
            Mode::MoveTo,
            reach,
            line,
            &via,
        );
    }
}

#[cfg(test)]
mod tests;
