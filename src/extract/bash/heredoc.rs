//! Here-documents written to files: `cat > /etc/logrotate.d/app <<EOF`, `cat <<EOF >> F`,
//! `tee F <<EOF`, `sudo tee -a F >/dev/null <<'EOF'`, `cat <<EOF | sudo tee F`.
//!
//! The redirect (or `tee`'s operand) is a write of the file like any other; the here-document's
//! text is that file's content, so it is read as a file of that name would be (logrotate,
//! `/etc/cron.d`, systemd units, `.env`, INI, YAML, scripts: [`Language::detect_plain`]). In an
//! unquoted here-document, each `$VAR`, `${VAR:-d}` and `$(...)` is the shell word it expands
//! to (a placeholder token while the format reads the text, then the shell's expression); with
//! a quoted delimiter (`<<'EOF'`, `<<"EOF"`, `<<\EOF`) the text is literal. The written file's
//! facts get a scope of their own (no parent: the file does not see the script's variables)
//! and the script's line numbers.
//!
//! A here-document fed to any other command (`mysql <<EOF`, `ssh host <<EOF`, `psql`) is that
//! command's input, never a file.
//!
//! Bounds: at most [`MAX_HEREDOC_FILES`] here-documents per script are read as files, each at
//! most [`MAX_HEREDOC_BYTES`] long, and a here-document inside a file written by one is read
//! at most [`MAX_HEREDOC_NESTING`] deep (the inner text is always a strict part of the outer).

use super::Walker;
use super::command::wrapped_command;
use super::words::Word;
use crate::expr::Expr;
use crate::extract::FieldExt as _;
use crate::extract::formats::common::{append, relocate};
use crate::extract::formats::template::{self, Placeholder, TokenStyle};
use crate::extract::{Language, Scope, extract_as};
use crate::rules::models::bash::CommandModel;
use std::cell::Cell;
use tree_sitter::Node;

/// Most here-documents of one script read as files.
pub(super) const MAX_HEREDOC_FILES: usize = 64;
/// Longest here-document read as a file.
const MAX_HEREDOC_BYTES: usize = 256 * 1024;
/// Deepest here-document inside a file written by a here-document that is read.
const MAX_HEREDOC_NESTING: u32 = 2;
/// Most wrappers unwrapped to find the writing command (`sudo nice tee`).
const MAX_WRAPPERS: usize = 4;
/// Most files one here-document is written to (`tee a b c`).
const MAX_TARGETS: usize = 4;

thread_local! {
    /// How many here-document files are being extracted on this thread, one inside the other.
    static NESTING: Cell<u32> = const { Cell::new(0) };
}

impl Walker<'_> {
    /// `CMD <<EOF ... EOF` with the statement's redirects: when CMD writes its input to files
    /// (`cat > F`, `tee F`), reads the here-document as each file's content.
    pub(super) fn heredoc_file(&mut self, body: Node, redirects: &[Node]) {
        if body.kind_name() != "command" {
            return;
        }
        let heredocs: Vec<Node> = redirects
            .iter()
            .copied()
            .filter(|r| r.kind_name() == "heredoc_redirect")
            .collect();
        let [heredoc] = heredocs.as_slice() else {
            return;
        };
        let Some(content) = heredoc_body(*heredoc) else {
            return;
        };
        // `>`/`>>` redirects of the statement, also those tree-sitter puts inside the heredoc
        // redirect (`cat <<EOF > F`).
        let mut stdout: Vec<Node> = redirects
            .iter()
            .copied()
            .filter(|r| r.kind_name() == "file_redirect")
            .collect();
        let inner: Vec<Node> = heredoc.named_children_vec();
        stdout.extend(
            inner
                .iter()
                .copied()
                .filter(|c| c.kind_name() == "file_redirect"),
        );
        let words: Vec<Word> = super::words::command_words(body)
            .into_iter()
            .map(|n| self.word(n))
            .collect();
        let targets = match self.writer(&words) {
            Some(Writer::Cat) => {
                let written = self.stdout_files(&stdout);
                if written.is_empty() {
                    // `cat <<EOF | sudo tee F`: the pipeline tree-sitter nests in the redirect.
                    inner
                        .iter()
                        .find(|c| c.kind_name() == "pipeline")
                        .and_then(|p| super::words::first_command(*p))
                        .map(|tee| {
                            let words: Vec<Word> = super::words::command_words(tee)
                                .into_iter()
                                .map(|n| self.word(n))
                                .collect();
                            match self.writer(&words) {
                                Some(Writer::Tee(files)) => files,
                                _ => Vec::new(),
                            }
                        })
                        .unwrap_or_default()
                } else {
                    written
                }
            }
            Some(Writer::Tee(files)) => files,
            None => return,
        };
        for target in targets.into_iter().take(MAX_TARGETS) {
            self.read_heredoc_as_file(*heredoc, content, &target);
        }
    }

    /// What a command does with its standard input: `cat` copies it to its output, `tee F`
    /// also to F; through wrappers (`sudo -u app tee -a F`). `None` for anything else.
    fn writer(&self, words: &[Word]) -> Option<Writer> {
        let mut words = words;
        for _ in 0..=MAX_WRAPPERS {
            let (first, args) = words.split_first()?;
            let name = first.lit()?;
            let name = name.rsplit('/').next().unwrap_or(&name).to_string();
            match name.as_str() {
                "cat" => {
                    // `cat` (or `cat -`) copies its input; `cat FILE` reads files instead.
                    let reads_files = args.iter().any(|w| !w.leading_lit().starts_with('-'));
                    return (!reads_files).then_some(Writer::Cat);
                }
                "tee" => {
                    let files: Vec<Expr> = args
                        .iter()
                        .filter(|w| !w.leading_lit().starts_with('-'))
                        .map(Word::expr)
                        .filter(|e| !self.is_ignored(e))
                        .collect();
                    return (!files.is_empty()).then_some(Writer::Tee(files));
                }
                _ => {}
            }
            let Some(CommandModel::Wrapper(m)) = self.models.command(&name) else {
                return None;
            };
            if !m.command_flags.is_empty() || m.container {
                return None;
            }
            words = wrapped_command(m, args)?.command;
        }
        None
    }

    /// The files a statement's output redirects write (not `2>`, not `/dev/null`).
    fn stdout_files(&self, redirects: &[Node]) -> Vec<Expr> {
        let mut files = Vec::new();
        for redirect in redirects {
            let mut cursor = redirect.walk();
            let operator = redirect
                .children(&mut cursor)
                .find(|c| !c.is_named())
                .map(|c| c.kind_name().to_string())
                .unwrap_or_default();
            if !matches!(operator.as_str(), ">" | ">>" | ">|" | "&>" | "&>>") {
                continue;
            }
            if let Some(fd) = redirect.field("descriptor")
                && self.node_text(fd) != "1"
            {
                continue;
            }
            let Some(dest) = redirect.field("destination") else {
                continue;
            };
            if matches!(dest.kind_name(), "number" | "process_substitution") {
                continue;
            }
            let expr = self.word(dest).expr();
            if !self.is_ignored(&expr) {
                files.push(expr);
            }
        }
        files
    }

    /// Extracts the here-document as a file at `target` and adds its facts.
    fn read_heredoc_as_file(&mut self, heredoc: Node, content: Node, target: &Expr) {
        if self.log.heredoc_files >= MAX_HEREDOC_FILES
            || content.byte_range().len() > MAX_HEREDOC_BYTES
            || NESTING.with(Cell::get) >= MAX_HEREDOC_NESTING
        {
            return;
        }
        let target = self.rebase(target.clone());
        let Some(path) = self.detection_path(&target) else {
            return;
        };
        let lower = path.to_ascii_lowercase();
        let style = if lower.ends_with(".yml") || lower.ends_with(".yaml") {
            TokenStyle::Bare
        } else {
            TokenStyle::Dollar
        };
        let (text, placeholders) = self.heredoc_text(heredoc, content, style);
        let Some(language) = Language::detect_plain(&path, text.as_bytes()) else {
            return;
        };
        if language == Language::Rust {
            return;
        }
        self.log.heredoc_files += 1;
        // Line 1 of the text is the line after `<<EOF`.
        let first_line = self.line(content) + u32::from(self.starts_with_newline(content));
        NESTING.with(|n| n.set(n.get() + 1));
        let mut embedded = extract_as(language, &path, text.as_bytes(), self.all_models);
        NESTING.with(|n| n.set(n.get().saturating_sub(1)));
        // The body is text the script writes, often with its expansions still in it (`$(…)`,
        // Helm `{{ }}`): what it fails to parse as the written file's format is not a defect of
        // the script, and is not reported as one (what parsed is kept).
        embedded.warnings.clear();
        let kind = embedded
            .scopes
            .first()
            .map(|s| s.kind)
            .unwrap_or(crate::extract::ScopeKind::Module);
        if let Some(root) = embedded.scopes.first_mut() {
            root.name = path.clone().into();
        }
        let scope = self.facts.push_scope(Scope {
            parent: None,
            kind,
            name: format!("{path} (here-document)").into(),
            class: None,
            job: None,
            line: first_line,
        });
        let mut relocated = relocate(self.facts, embedded, scope, first_line.saturating_sub(1));
        template::fill(&mut relocated, &placeholders);
        append(self.facts, relocated);
    }

    fn starts_with_newline(&self, content: Node) -> bool {
        self.node_text(content).starts_with('\n')
    }

    /// A path to choose the written file's format by: the target's literal text, with a
    /// variable's literal default or last value in the file, and `_` for what is unknown
    /// (`$CONF_DIR/app.conf` -> `_/app.conf`). `None` when no part of the name is known.
    fn detection_path(&self, target: &Expr) -> Option<String> {
        let mut out = String::new();
        self.detection_text(target, &mut out, 0);
        let name = out.rsplit('/').next().unwrap_or(&out);
        (!name.is_empty() && name != "_").then_some(out)
    }

    fn detection_text(&self, expr: &Expr, out: &mut String, depth: u32) {
        if depth > 8 || out.len() > 4096 {
            out.push('_');
            return;
        }
        match expr {
            Expr::Lit { text } | Expr::Glob { text } => out.push_str(text),
            Expr::Concat { parts } => {
                for p in parts {
                    self.detection_text(p, out, depth + 1);
                }
            }
            Expr::Join { parts } => {
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 && !out.ends_with('/') {
                        out.push('/');
                    }
                    self.detection_text(p, out, depth + 1);
                }
            }
            Expr::Var { name, default, .. } => {
                match (default.as_deref(), self.value_in_file(name)) {
                    (_, Some(value)) => self.detection_text(&value, out, depth + 1),
                    (Some(d), None) => self.detection_text(d, out, depth + 1),
                    (None, None) => out.push('_'),
                }
            }
            Expr::Env {
                default: Some(d), ..
            } => self.detection_text(d, out, depth + 1),
            _ => out.push('_'),
        }
    }

    /// The here-document's text as the file receives it: literal with a quoted delimiter;
    /// otherwise with `\$`, `` \` `` and `\\` unescaped and each expansion replaced by a
    /// placeholder token standing for its shell expression. `<<-` strips leading tabs.
    fn heredoc_text(
        &self,
        heredoc: Node,
        content: Node,
        style: TokenStyle,
    ) -> (String, Vec<Placeholder>) {
        let start = heredoc
            .named_children(&mut heredoc.walk())
            .find(|c| c.kind_name() == "heredoc_start")
            .map(|s| self.node_text(s))
            .unwrap_or("");
        let quoted = start.contains(['\'', '"', '\\']);
        let strip_tabs = heredoc
            .children(&mut heredoc.walk())
            .any(|c| c.kind_name() == "<<-");
        let mut text = String::new();
        let mut placeholders = Vec::new();
        let body = self.node_text(content);
        let body = body.strip_prefix('\n').unwrap_or(body);
        let skip = usize::from(self.starts_with_newline(content));
        if quoted {
            text.push_str(body);
        } else {
            let mut pos = content.start_byte() + skip;
            let mut cursor = content.walk();
            for child in content.named_children(&mut cursor) {
                if !matches!(
                    child.kind_name(),
                    "simple_expansion" | "expansion" | "command_substitution"
                ) || child.start_byte() < pos
                {
                    continue;
                }
                let gap = self.text.get(pos..child.start_byte()).unwrap_or("");
                text.push_str(&unescape(gap));
                let source = self.node_text(child).to_string();
                text.push_str(&template::token(placeholders.len(), style));
                placeholders.push(Placeholder {
                    expr: self.word(child).expr(),
                    source,
                });
                pos = child.end_byte();
            }
            let rest = self.text.get(pos..content.end_byte()).unwrap_or("");
            text.push_str(&unescape(rest));
        }
        if strip_tabs {
            text = text
                .split('\n')
                .map(|l| l.trim_start_matches('\t'))
                .collect::<Vec<_>>()
                .join("\n");
        }
        (text, placeholders)
    }
}

/// What a command fed a here-document does with it.
enum Writer {
    /// Copies it to standard output (`cat`, `cat -`).
    Cat,
    /// Copies it to these files (and standard output).
    Tee(Vec<Expr>),
}

/// The body of a here-document redirect.
fn heredoc_body(heredoc: Node) -> Option<Node> {
    let mut cursor = heredoc.walk();
    heredoc
        .named_children(&mut cursor)
        .find(|c| c.kind_name() == "heredoc_body")
}

/// An unquoted here-document's literal text: `\$`, `` \` `` and `\\` lose their backslash;
/// every other backslash (and a line continuation, which keeps the file's lines) stays.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && matches!(next, '$' | '`' | '\\')
        {
            out.push(next);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{MAX_HEREDOC_FILES, MAX_HEREDOC_NESTING};
    use crate::expr::Expr;
    use crate::extract::{FileFacts, RawResource, ScopeKind};
    use crate::model::Mode;
    use crate::rules::models::Models;

    fn facts(src: &str) -> FileFacts {
        static MODELS: std::sync::OnceLock<Models> = std::sync::OnceLock::new();
        let models = MODELS.get_or_init(|| Models::builtin().expect("built-in models load"));
        crate::extract::bash::extract("ops/install.sh", src, models)
    }

    /// The path accesses as (line, mode, via, scope).
    fn paths(f: &FileFacts) -> Vec<(u32, Mode, String, usize, Expr)> {
        f.accesses
            .iter()
            .filter_map(|a| match &a.resource {
                RawResource::Path(t) => {
                    Some((a.line, a.mode, a.via.to_string(), a.scope, t.expr.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn env_sets(f: &FileFacts) -> Vec<(u32, String)> {
        f.accesses
            .iter()
            .filter(|a| a.mode == Mode::Set)
            .filter_map(|a| match &a.resource {
                RawResource::Env(t) => Some((a.line, t.name.as_lit()?.to_string())),
                _ => None,
            })
            .collect()
    }

    fn var(name: &str, line: u32) -> Expr {
        Expr::Var {
            name: name.to_string().into(),
            scope: 0,
            line,
            env_fallback: true,
            default: None,
        }
    }

    #[test]
    fn a_logrotate_heredoc_rotates_the_expanded_log_path_on_its_own_line() {
        let f = facts(
            "LOG_DIR=/var/log/shop\ncat > /etc/logrotate.d/shop <<EOF\n$LOG_DIR/*.log {\n    daily\n    rotate 7\n}\nEOF\n",
        );
        let all = paths(&f);
        // The redirect is still a write of the config file.
        assert!(
            all.iter().any(|(l, m, _, s, e)| *l == 2
                && *m == Mode::Write
                && *s == 0
                && e.as_lit() == Some("/etc/logrotate.d/shop")),
            "{all:?}"
        );
        let rotated: Vec<_> = all
            .iter()
            .filter(|a| a.2.starts_with("logrotate"))
            .collect();
        assert!(!rotated.is_empty(), "{all:?}");
        for (line, _, _, scope, expr) in &rotated {
            assert_eq!(*line, 3);
            let Expr::Concat { parts } = expr else {
                panic!("{expr:?}")
            };
            assert_eq!(parts.first(), Some(&var("LOG_DIR", 3)));
            // Inside the written file's own scope: no parent, named after the file.
            let mut root = *scope;
            while let Some(parent) = f.scopes[root].parent {
                root = parent;
            }
            assert_ne!(root, 0);
            let name = &f.scopes[root].name;
            assert!(name.starts_with("/etc/logrotate.d/shop"), "{name}");
        }
        assert!(rotated.iter().any(|a| a.1 == Mode::MoveFrom
            && a.4 == Expr::concat(vec![var("LOG_DIR", 3), Expr::glob("/*.log")])));
    }

    #[test]
    fn a_cron_d_heredoc_through_sudo_tee_is_a_schedule_that_runs_its_command() {
        let f = facts(
            "#!/bin/sh\nsudo tee /etc/cron.d/shop >/dev/null <<'EOF'\nMAILTO=\"\"\n15 3 * * * root find /srv/shop/exports -name '*.csv' -mtime +7 -delete\nEOF\n",
        );
        assert_eq!(f.schedules.len(), 1, "{:?}", f.schedules);
        let schedule = &f.schedules[0];
        assert_eq!(
            (schedule.line, schedule.expression.as_str()),
            (4, "15 3 * * *")
        );
        assert_eq!(f.scopes[schedule.scope].kind, ScopeKind::CronEntry);
        let deletes: Vec<_> = paths(&f)
            .into_iter()
            .filter(|a| a.1 == Mode::Delete)
            .collect();
        assert_eq!(deletes.len(), 1, "{deletes:?}");
        assert_eq!(deletes[0].0, 4);
        assert_eq!(deletes[0].4.as_lit(), Some("/srv/shop/exports"));
        // The entry's scope lies inside the schedule's, so the job reaches it.
        assert!(crate::resolve::jobs::in_scope(
            &f,
            deletes[0].3,
            schedule.scope
        ));
    }

    #[test]
    fn a_systemd_unit_heredoc_sets_its_environment_and_runs_its_program() {
        let f = facts(
            "APP=shop\ncat <<EOF >/etc/systemd/system/shop.service\n[Service]\nEnvironment=OUT_DIR=/srv/$APP/out\nExecStart=/opt/shop/bin/run\nEOF\n",
        );
        assert_eq!(env_sets(&f), vec![(4, "OUT_DIR".to_string())]);
        let binding = f
            .bindings
            .iter()
            .find(|b| b.name == "OUT_DIR")
            .expect("OUT_DIR bound in the unit");
        assert_eq!(
            binding.value,
            Expr::concat(vec![Expr::lit("/srv/"), var("APP", 4), Expr::lit("/out")])
        );
        assert!(f.runs.iter().any(|r| r.line == 5), "{:?}", f.runs);
    }

    #[test]
    fn an_env_file_piped_to_tee_with_stripped_tabs_provides_its_variables() {
        let f = facts(
            "cat <<-EOF | sudo tee -a /etc/shop/shop.env\n\tSHOP_EXPORT_DIR=/srv/shop/exports\n\tSHOP_LOG_LEVEL=info\n\tEOF\n",
        );
        assert_eq!(
            env_sets(&f),
            vec![
                (2, "SHOP_EXPORT_DIR".to_string()),
                (3, "SHOP_LOG_LEVEL".to_string())
            ]
        );
    }

    #[test]
    fn a_quoted_or_escaped_expansion_is_the_files_own_text() {
        // Quoted delimiter: `$LOG_DIR` is not the script's variable.
        let quoted = facts(
            "LOG_DIR=/var/log/shop\ncat > /etc/logrotate.d/shop <<'EOF'\n$LOG_DIR/*.log {\n  daily\n}\nEOF\n",
        );
        let escaped = facts(
            "LOG_DIR=/var/log/shop\ncat > /etc/logrotate.d/shop <<EOF\n\\$LOG_DIR/*.log {\n  daily\n}\nEOF\n",
        );
        for f in [quoted, escaped] {
            for (_, _, via, _, expr) in paths(&f) {
                if via.starts_with("logrotate") {
                    assert_ne!(
                        expr,
                        Expr::concat(vec![var("LOG_DIR", 3), Expr::glob("/*.log")])
                    );
                }
            }
        }
    }

    #[test]
    fn a_heredoc_fed_to_a_program_is_no_file() {
        for src in [
            "mysql -u root <<EOF\n15 3 * * * root rm -rf /srv/x\nEOF\n",
            "ssh backup@host <<EOF\n/var/log/x/*.log {\n daily\n}\nEOF\n",
            "cat <<EOF\n/var/log/x/*.log {\n daily\n}\nEOF\n",
            "cat > /dev/null <<EOF\nA=1\nEOF\n",
            "cat /etc/skel.conf > /etc/logrotate.d/x <<EOF\n/var/log/x/*.log {\n daily\n}\nEOF\n",
            "cat <<EOF 2> /etc/logrotate.d/x\n/var/log/x/*.log {\n daily\n}\nEOF\n",
        ] {
            let f = facts(src);
            assert_eq!(f.scopes.len(), 1, "{src}: {:?}", f.scopes);
            assert!(f.schedules.is_empty(), "{src}");
            assert!(
                paths(&f).iter().all(|a| !a.2.starts_with("logrotate")),
                "{src}"
            );
            assert!(env_sets(&f).is_empty(), "{src}");
        }
    }

    /// Many here-documents, and here-documents writing scripts that write here-documents: a
    /// bounded number is read, each nesting level at most twice, and it stays fast.
    #[test]
    fn here_documents_read_as_files_are_bounded() {
        let one = "cat > /etc/logrotate.d/x <<EOF\n/var/log/x/*.log {\n daily\n}\nEOF\n";
        let f = facts(&one.repeat(MAX_HEREDOC_FILES + 40));
        let files = f.scopes.iter().filter(|s| s.parent.is_none()).count() - 1;
        assert_eq!(files, MAX_HEREDOC_FILES);
        let mut nested = "rm -f /tmp/deep\n".to_string();
        for level in 0..6 {
            nested = format!("cat > /opt/x{level}.sh <<'E{level}'\n#!/bin/sh\n{nested}E{level}\n");
        }
        let start = std::time::Instant::now();
        let f = facts(&nested);
        assert!(start.elapsed().as_secs() < 10);
        let files = f.scopes.iter().filter(|s| s.parent.is_none()).count() - 1;
        assert_eq!(files, MAX_HEREDOC_NESTING as usize);
    }
}
