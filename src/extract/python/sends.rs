//! Sends: what a signal's target is (the pid file a pid is read from), and the commands a
//! program runs that make another program act (`kill -HUP`, `pkill -HUP name`, `systemctl
//! reload unit`, `curl -X POST url`).
//!
//! The command words are read from a literal argument list (`["pkill", "-HUP", "rotator"]`),
//! where a non-literal element keeps its expression, or from a literal shell line (with
//! `shell=True` or `os.system`), split on blanks and on `;`, `&&`, `||` and `|`. `systemctl
//! reload` and `service x reload` count as `HUP` to the unit: the convention of reload for
//! daemons (`ExecReload=kill -HUP $MAINPID`).

use super::calls::Callee;
use super::effects::signal_word;
use super::walk::{Ctx, Extractor, named};
use crate::expr::Expr;
use crate::extract::FieldExt as _;
use crate::extract::SendKind;
use crate::model::Mode;
use tree_sitter::Node;

/// How many assignments and wrappers a pid is followed through.
const MAX_PID_DEPTH: u32 = 6;
/// Words of one command line read at most.
const MAX_WORDS: usize = 256;

/// One word of a command: literal text, or the expression of a non-literal list element.
#[derive(Clone, Debug)]
enum Word<'t> {
    Lit(String),
    Node(Node<'t>),
}

impl Word<'_> {
    fn lit(&self) -> Option<&str> {
        match self {
            Word::Lit(text) => Some(text),
            Word::Node(_) => None,
        }
    }
}

impl<'a> Extractor<'a> {
    /// What names the process a pid designates: the pid file it is read from
    /// (`int(open("/run/x.pid").read())`, `Path(p).read_text()`), through local variables;
    /// otherwise a hole named after the source (`os.getppid`, `proc.pid`).
    pub(super) fn pid_target(&mut self, node: Node<'_>, ctx: &Ctx, depth: u32) -> Expr {
        if depth > MAX_PID_DEPTH {
            return Expr::hole(self.label(node));
        }
        match node.kind_name() {
            "parenthesized_expression" | "await" => match named(node).into_iter().next() {
                Some(inner) => self.pid_target(inner, ctx, depth + 1),
                None => Expr::hole("pid"),
            },
            "call" => self.pid_from_call(node, ctx, depth),
            "identifier" => match self.assigned_value(node) {
                Some(value) => self.pid_target(value, ctx, depth + 1),
                None => Expr::hole(self.text(node).to_string()),
            },
            _ => Expr::hole(self.label(node)),
        }
    }

    fn pid_from_call(&mut self, call: Node<'_>, ctx: &Ctx, depth: u32) -> Expr {
        if let Some(matched) = self.match_call(call, ctx) {
            let model = matched.model;
            for access in &model.accesses {
                if self.access_mode(&matched, access, ctx) == Mode::Read
                    && let Some(path) = self.pid_access_path(&matched, access, ctx)
                {
                    return path;
                }
            }
        }
        match self.callee(call, ctx) {
            Callee::Function { name, .. } if matches!(name.as_str(), "int" | "str") => {
                match self.args(call).positional.first().copied() {
                    Some(arg) => self.pid_target(arg, ctx, depth + 1),
                    None => Expr::hole("pid"),
                }
            }
            Callee::Method { receiver, name }
                if matches!(
                    name.as_str(),
                    "read" | "readline" | "strip" | "rstrip" | "decode" | "read_text"
                ) =>
            {
                self.pid_target(receiver, ctx, depth + 1)
            }
            _ => Expr::hole(self.label(call)),
        }
    }

    /// The path a file-reading call reads (`open(p)`, `p.read_text()`), for pid files.
    fn pid_access_path(
        &mut self,
        matched: &super::calls::Matched<'a, '_>,
        access: &crate::rules::models::python::AccessModel,
        ctx: &Ctx,
    ) -> Option<Expr> {
        use crate::rules::models::python::ArgSource;
        match &access.path {
            ArgSource::Receiver => Some(self.translate(matched.receiver?, ctx)),
            ArgSource::Arg(arg) => Some(self.translate(matched.args.get(arg)?, ctx)),
        }
    }

    /// The value last assigned to a name before its use in the same function
    /// (`pid = int(...)`), or the call a `with ... as name` binds it to.
    pub(super) fn assigned_value<'t>(&self, name_node: Node<'t>) -> Option<Node<'t>> {
        let name = self.text(name_node);
        let mut scope = name_node;
        while let Some(parent) = scope.parent() {
            scope = parent;
            if parent.kind_name() == "function_definition" {
                break;
            }
        }
        let mut best: Option<Node<'t>> = None;
        let mut stack = vec![scope];
        let mut visited = 0usize;
        while let Some(node) = stack.pop() {
            visited += 1;
            if visited > 20_000 {
                break;
            }
            if node.start_byte() >= name_node.start_byte() {
                continue;
            }
            let value = match node.kind_name() {
                "assignment" => node
                    .field("left")
                    .filter(|l| l.kind_name() == "identifier" && self.text(*l) == name)
                    .and_then(|_| node.field("right")),
                "as_pattern" => node
                    .field("alias")
                    .and_then(|a| a.named_child(0))
                    .filter(|t| t.kind_name() == "identifier" && self.text(*t) == name)
                    .and_then(|_| named(node).into_iter().next()),
                _ => None,
            };
            if let Some(value) = value
                && best.is_none_or(|b| b.start_byte() < value.start_byte())
            {
                best = Some(value);
            }
            for child in named(node) {
                if !matches!(
                    child.kind_name(),
                    "function_definition" | "class_definition" | "lambda"
                ) || child.id() == scope.id()
                {
                    stack.push(child);
                }
            }
        }
        best
    }

    /// The sends of a command argument.
    pub(super) fn command_sends(
        &mut self,
        node: Node<'_>,
        shell: bool,
        ctx: &Ctx,
    ) -> Vec<SendKind> {
        let lines: Vec<Vec<Word<'_>>> = match node.kind_name() {
            "list" | "tuple" => {
                let words = named(node)
                    .into_iter()
                    .take(MAX_WORDS)
                    .map(|n| match self.literal_string(n, ctx) {
                        Some(text) => Word::Lit(text),
                        None => Word::Node(n),
                    })
                    .collect();
                vec![words]
            }
            _ => {
                let Some(text) = self.command_text(node, ctx) else {
                    return Vec::new();
                };
                if shell {
                    shell_lines(&text)
                } else {
                    vec![vec![Word::Lit(text)]]
                }
            }
        };
        let mut sends = Vec::new();
        for words in lines {
            if let Some(send) = self.command_send(&words, ctx) {
                sends.push(send);
            }
        }
        sends
    }

    /// The literal text of a command string, also through `shlex.split("...")`-style
    /// wrappers and names bound to literals.
    fn command_text(&mut self, node: Node<'_>, ctx: &Ctx) -> Option<String> {
        if let Some(text) = self.literal_string(node, ctx) {
            return Some(text);
        }
        if node.kind_name() == "call"
            && let Callee::Function { name, .. } = self.callee(node, ctx)
            && name == "shlex.split"
        {
            let first = self.args(node).positional.first().copied()?;
            return self.literal_string(first, ctx);
        }
        None
    }

    /// What one command does to another program, if anything.
    fn command_send(&mut self, words: &[Word<'_>], ctx: &Ctx) -> Option<SendKind> {
        let mut words = words;
        while let Some(first) = words.first().and_then(Word::lit) {
            let program = first.rsplit('/').next().unwrap_or(first);
            if matches!(program, "sudo" | "doas" | "nohup" | "exec" | "command") {
                words = words.get(1..).unwrap_or(&[]);
                while words
                    .first()
                    .and_then(Word::lit)
                    .is_some_and(|w| w.starts_with('-'))
                {
                    words = words.get(1..).unwrap_or(&[]);
                }
            } else {
                break;
            }
        }
        let first = words.first()?.lit()?;
        let program = first.rsplit('/').next().unwrap_or(first);
        let rest = words.get(1..).unwrap_or(&[]);
        match program {
            "kill" => self.kill_send(rest, ctx),
            "pkill" | "killall" => process_signal(rest, program == "killall"),
            "systemctl" => systemctl_send(rest),
            "service" => {
                let unit = rest.first()?.lit()?;
                let action = rest.get(1)?.lit()?;
                (action == "reload").then(|| SendKind::Signal {
                    signal: "HUP".to_string(),
                    target: Expr::lit(unit),
                })
            }
            "curl" => curl_send(rest),
            _ => None,
        }
    }

    /// `kill [-s SIG | -SIG | -n N] pid...`: the pid operand's source.
    fn kill_send(&mut self, rest: &[Word<'_>], ctx: &Ctx) -> Option<SendKind> {
        let mut signal = "TERM".to_string();
        let mut i = 0;
        while let Some(word) = rest.get(i) {
            let Some(text) = word.lit() else { break };
            match text {
                "-s" | "-n" | "--signal" => {
                    signal = signal_word(rest.get(i + 1)?.lit()?)?;
                    i += 2;
                }
                "--" => {
                    i += 1;
                    break;
                }
                t if t.starts_with('-') && t.len() > 1 => {
                    signal = signal_word(t)?;
                    i += 1;
                }
                _ => break,
            }
        }
        let target = match rest.get(i)? {
            Word::Lit(text) => pid_file_of(text).map_or_else(|| Expr::hole("pid"), Expr::lit),
            Word::Node(node) => self.pid_target(*node, ctx, 0),
        };
        Some(SendKind::Signal { signal, target })
    }
}

/// The pid file of a shell pid operand: `$(cat /run/x.pid)`, `` `cat /run/x.pid` ``.
fn pid_file_of(word: &str) -> Option<String> {
    let inner = word
        .strip_prefix("$(")
        .and_then(|w| w.strip_suffix(')'))
        .or_else(|| word.strip_prefix('`').and_then(|w| w.strip_suffix('`')))?;
    let mut parts = inner.split_whitespace();
    if parts.next()? != "cat" {
        return None;
    }
    let file = parts.next()?.trim_matches(['"', '\'']);
    parts.next().is_none().then(|| file.to_string())
}

/// `pkill -HUP [-f] name`, `killall -s HUP name`: the process name or pattern.
fn process_signal(rest: &[Word<'_>], killall: bool) -> Option<SendKind> {
    let mut signal = "TERM".to_string();
    let mut target = None;
    let mut i = 0;
    while let Some(word) = rest.get(i) {
        let Some(text) = word.lit() else {
            target = Some(Expr::hole("process"));
            i += 1;
            continue;
        };
        match text {
            "--signal" => {
                signal = signal_word(rest.get(i + 1)?.lit()?)?;
                i += 2;
            }
            "-s" if killall => {
                signal = signal_word(rest.get(i + 1)?.lit()?)?;
                i += 2;
            }
            "-u" | "-U" | "-g" | "-G" | "-P" | "-t" | "-s" => i += 2,
            t if t.starts_with("--signal=") => {
                signal = signal_word(t.trim_start_matches("--signal="))?;
                i += 1;
            }
            t if t.starts_with('-') => {
                if let Some(sig) = signal_word(t) {
                    signal = sig;
                }
                i += 1;
            }
            t => {
                target = Some(Expr::lit(t));
                i += 1;
            }
        }
    }
    Some(SendKind::Signal {
        signal,
        target: target?,
    })
}

/// `systemctl reload UNIT`, `systemctl kill [-s SIG] UNIT`.
fn systemctl_send(rest: &[Word<'_>]) -> Option<SendKind> {
    let words: Vec<&str> = rest.iter().filter_map(Word::lit).collect();
    let verb_at = words.iter().position(|w| !w.starts_with('-'))?;
    let verb = *words.get(verb_at)?;
    let operands = words.get(verb_at + 1..).unwrap_or(&[]);
    match verb {
        "reload" | "reload-or-restart" | "try-reload-or-restart" => {
            let unit = operands.iter().find(|w| !w.starts_with('-'))?;
            Some(SendKind::Signal {
                signal: "HUP".to_string(),
                target: Expr::lit(*unit),
            })
        }
        "kill" => {
            let mut signal = "TERM".to_string();
            let mut unit = None;
            let mut i = 0;
            while let Some(word) = operands.get(i) {
                match *word {
                    "-s" | "--signal" => {
                        signal = signal_word(operands.get(i + 1)?)?;
                        i += 2;
                    }
                    w if w.starts_with("--signal=") => {
                        signal = signal_word(w.trim_start_matches("--signal="))?;
                        i += 1;
                    }
                    w if w.starts_with('-') => i += 1,
                    w => {
                        unit = Some(w);
                        i += 1;
                    }
                }
            }
            Some(SendKind::Signal {
                signal,
                target: Expr::lit(unit?),
            })
        }
        _ => None,
    }
}

/// `curl [-X METHOD] [-d data] URL`.
fn curl_send(rest: &[Word<'_>]) -> Option<SendKind> {
    let mut method = None;
    let mut data = false;
    let mut url = None;
    let mut i = 0;
    while let Some(word) = rest.get(i) {
        let Some(text) = word.lit() else {
            i += 1;
            continue;
        };
        match text {
            "-X" | "--request" => {
                method = rest
                    .get(i + 1)
                    .and_then(Word::lit)
                    .map(str::to_ascii_uppercase);
                i += 2;
            }
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--json" | "-F" | "--form" => {
                data = true;
                i += 2;
            }
            "-H" | "--header" | "-o" | "--output" | "-u" | "--user" | "-m" | "--max-time"
            | "--connect-timeout" | "-A" | "--user-agent" => i += 2,
            t if t.starts_with('-') => i += 1,
            t => {
                url.get_or_insert_with(|| t.to_string());
                i += 1;
            }
        }
    }
    let method = method.or_else(|| Some(if data { "POST" } else { "GET" }.to_string()));
    Some(SendKind::Http {
        method,
        url: Expr::lit(url?),
    })
}

/// Splits a shell line into commands and words: blanks separate words, quotes group them,
/// `;`, `&&`, `||`, `|` and newlines separate commands. `$(...)` and backquotes stay inside
/// their word.
fn shell_lines(text: &str) -> Vec<Vec<Word<'static>>> {
    let mut lines = Vec::new();
    let mut words: Vec<Word<'static>> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    let mut depth = 0u32;
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if words.len() > MAX_WORDS {
            break;
        }
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else {
                word.push(c);
            }
            continue;
        }
        match c {
            '\'' | '"' if depth == 0 => {
                quote = Some(c);
                in_word = true;
            }
            '(' if word.ends_with('$') => {
                depth += 1;
                word.push(c);
            }
            ')' if depth > 0 => {
                depth -= 1;
                word.push(c);
            }
            c if depth > 0 => word.push(c),
            ' ' | '\t' => {
                if in_word || !word.is_empty() {
                    words.push(Word::Lit(std::mem::take(&mut word)));
                }
                in_word = false;
            }
            ';' | '\n' | '&' | '|' => {
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                if in_word || !word.is_empty() {
                    words.push(Word::Lit(std::mem::take(&mut word)));
                }
                in_word = false;
                if !words.is_empty() {
                    lines.push(std::mem::take(&mut words));
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word || !word.is_empty() {
        words.push(Word::Lit(word));
    }
    if !words.is_empty() {
        lines.push(words);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(line: &[Word<'_>]) -> Vec<String> {
        line.iter()
            .map(|w| w.lit().unwrap_or("?").to_string())
            .collect()
    }

    #[test]
    fn shell_lines_split_commands_and_keep_substitutions() {
        let lines = shell_lines("kill -HUP $(cat /run/r.pid) && echo 'a b'; pkill -f x");
        assert_eq!(lines.len(), 3);
        assert_eq!(lits(&lines[0]), vec!["kill", "-HUP", "$(cat /run/r.pid)"]);
        assert_eq!(lits(&lines[1]), vec!["echo", "a b"]);
        assert_eq!(lits(&lines[2]), vec!["pkill", "-f", "x"]);
        assert!(shell_lines("").is_empty());
        let _ = shell_lines("$((((((((((");
        let _ = shell_lines("'unterminated");
    }

    #[test]
    fn pid_files_of_substitutions() {
        assert_eq!(pid_file_of("$(cat /run/r.pid)"), Some("/run/r.pid".into()));
        assert_eq!(pid_file_of("`cat /run/r.pid`"), Some("/run/r.pid".into()));
        assert_eq!(pid_file_of("$(pgrep r)"), None);
        assert_eq!(pid_file_of("123"), None);
    }
}
