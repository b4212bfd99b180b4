//! `find`: start directories and an expression -> accesses with a [`Reach::Find`].
//!
//! The expression is parsed into a tree (`-o`, implicit `-a`, `!`, parentheses), and for each
//! action (`-delete`, `-exec CMD {}`, `-print` or the implicit print) the tests that must hold
//! before the action runs are collected: `-name`/`-path` globs, `-type`, the age tests (as plain
//! words) and `-maxdepth`/`-mindepth`. Everything is over-approximated: a negated test and the
//! "earlier branch was false" condition of `-o` are dropped, and alternatives that cannot be
//! expressed as one [`FindSpec`] widen to "any".

use super::words::Word;
use super::{Captured, Walker};
use crate::expr::Expr;
use crate::extract::{FindSpec, Reach};
use crate::model::Mode;

/// Deepest parenthesis or `!` nesting parsed; deeper parts count as "true".
const MAX_NESTING: u32 = 32;
/// Most alternatives kept for one action before the conditions widen to "any".
const MAX_ALTERNATIVES: usize = 32;

/// Tests that take one argument and do not narrow what knockon models.
const ONE_ARG_TESTS: &[&str] = &[
    "-regex",
    "-iregex",
    "-lname",
    "-ilname",
    "-size",
    "-user",
    "-group",
    "-uid",
    "-gid",
    "-perm",
    "-links",
    "-inum",
    "-samefile",
    "-used",
    "-fstype",
    "-context",
    "-regextype",
    "-printf",
];

/// One term of the expression.
enum Term {
    And(Vec<Term>),
    Or(Vec<Term>),
    Not,
    True,
    Test(Test),
    Action(usize),
}

enum Test {
    Name(Expr, bool),
    Path(Expr, bool),
    Type(Option<char>),
    Age(String),
}

enum Action {
    Delete,
    Exec { words: Vec<Word>, option: String },
    Print,
}

/// The conditions of one way to reach an action (a conjunction).
#[derive(Clone, Default)]
struct Conj {
    names: Vec<(Expr, bool)>,
    paths: Vec<(Expr, bool)>,
    file_type: Option<Option<char>>,
    ages: Vec<String>,
}

impl Conj {
    fn and(&self, other: &Conj) -> Conj {
        let mut out = self.clone();
        out.names.extend(other.names.iter().cloned());
        out.paths.extend(other.paths.iter().cloned());
        if out.file_type.is_none() {
            out.file_type = other.file_type;
        }
        out.ages.extend(other.ages.iter().cloned());
        out
    }

    fn from_test(test: &Test) -> Conj {
        let mut conj = Conj::default();
        match test {
            Test::Name(glob, ci) => conj.names.push((glob.clone(), *ci)),
            Test::Path(glob, ci) => conj.paths.push((glob.clone(), *ci)),
            Test::Type(t) => conj.file_type = Some(*t),
            Test::Age(words) => conj.ages.push(words.clone()),
        }
        conj
    }
}

/// The parsed command.
struct FindCommand {
    starts: Vec<Word>,
    expr: Term,
    actions: Vec<Action>,
    min_depth: u32,
    max_depth: Option<u32>,
    /// Files whose timestamps are compared (`-newer F`): checked.
    checked: Vec<Word>,
    /// Files read (`-files0-from F`) and written (`-fprint F`).
    read: Vec<Word>,
    written: Vec<Word>,
}

struct Parser<'w> {
    words: &'w [Word],
    pos: usize,
    cmd: FindCommand,
}

impl<'w> Parser<'w> {
    fn peek(&self) -> Option<String> {
        self.words.get(self.pos).and_then(Word::lit)
    }

    fn next_word(&mut self) -> Option<&'w Word> {
        let word = self.words.get(self.pos);
        self.pos += 1;
        word
    }

    fn or(&mut self, depth: u32) -> Term {
        let mut items = vec![self.and(depth)];
        while matches!(self.peek().as_deref(), Some("-o" | "-or" | ",")) {
            self.pos += 1;
            items.push(self.and(depth));
        }
        if items.len() == 1 {
            items.pop().unwrap_or(Term::True)
        } else {
            Term::Or(items)
        }
    }

    fn and(&mut self, depth: u32) -> Term {
        let mut items = Vec::new();
        while self.pos < self.words.len() {
            match self.peek().as_deref() {
                Some(")" | "-o" | "-or" | ",") => break,
                Some("-a" | "-and") => self.pos += 1,
                _ => items.push(self.unary(depth)),
            }
        }
        Term::And(items)
    }

    fn unary(&mut self, depth: u32) -> Term {
        if depth > MAX_NESTING {
            self.pos = self.words.len();
            return Term::True;
        }
        match self.peek().as_deref() {
            Some("!" | "-not") => {
                self.pos += 1;
                // The negated term is parsed (its actions still run) but its test is dropped.
                let inner = self.unary(depth + 1);
                match inner {
                    Term::Test(_) => Term::Not,
                    other => Term::And(vec![Term::Not, strip_tests(other)]),
                }
            }
            Some("(") => {
                self.pos += 1;
                let inner = self.or(depth + 1);
                if self.peek().as_deref() == Some(")") {
                    self.pos += 1;
                }
                inner
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Term {
        let Some(word) = self.next_word() else {
            return Term::True;
        };
        let Some(token) = word.lit() else {
            return Term::True;
        };
        match token.as_str() {
            "-name" | "-iname" => match self.next_word() {
                Some(arg) => Term::Test(Test::Name(arg.pattern(), token == "-iname")),
                None => Term::True,
            },
            "-path" | "-wholename" | "-ipath" | "-iwholename" => match self.next_word() {
                Some(arg) => Term::Test(Test::Path(arg.pattern(), token.starts_with("-i"))),
                None => Term::True,
            },
            "-type" | "-xtype" => {
                let kind = self.next_word().and_then(Word::lit);
                let single = kind
                    .filter(|k| k.chars().count() == 1)
                    .and_then(|k| k.chars().next());
                Term::Test(Test::Type(single))
            }
            "-mtime" | "-mmin" | "-atime" | "-amin" | "-ctime" | "-cmin" => {
                match self.next_word() {
                    Some(arg) => Term::Test(Test::Age(age_words(&token, arg))),
                    None => Term::True,
                }
            }
            "-newer" | "-anewer" | "-cnewer" => self.newer(&token),
            t if t.starts_with("-newer") && t.len() == 8 => self.newer(&token),
            "-maxdepth" | "-mindepth" => {
                let n = self
                    .next_word()
                    .and_then(Word::lit)
                    .and_then(|n| n.parse::<u32>().ok());
                match (token.as_str(), n) {
                    ("-maxdepth", Some(n)) => self.cmd.max_depth = Some(n),
                    ("-mindepth", Some(n)) => self.cmd.min_depth = n,
                    _ => {}
                }
                Term::True
            }
            "-delete" => self.action(Action::Delete),
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                let words = self.exec_words();
                self.action(Action::Exec {
                    words,
                    option: token,
                })
            }
            "-print" | "-print0" | "-ls" => self.action(Action::Print),
            "-printf" => {
                self.pos += 1;
                self.action(Action::Print)
            }
            "-fprint" | "-fprint0" | "-fls" | "-fprintf" => {
                if let Some(file) = self.next_word() {
                    self.cmd.written.push(file.clone());
                }
                if token == "-fprintf" {
                    self.pos += 1;
                }
                self.action(Action::Print)
            }
            "-files0-from" => {
                if let Some(file) = self.next_word() {
                    self.cmd.read.push(file.clone());
                }
                Term::True
            }
            t if ONE_ARG_TESTS.contains(&t) => {
                self.pos += 1;
                Term::True
            }
            _ => Term::True,
        }
    }

    fn newer(&mut self, token: &str) -> Term {
        let Some(reference) = self.next_word() else {
            return Term::True;
        };
        let verb = match token.as_bytes().get(6).copied() {
            Some(b'a') => "accessed",
            Some(b'c') => "changed",
            _ if token == "-anewer" => "accessed",
            _ if token == "-cnewer" => "changed",
            _ => "modified",
        };
        if token.len() == 8 && token.ends_with('t') {
            return Term::Test(Test::Age(format!("{verb} after {}", reference.source)));
        }
        self.cmd.checked.push(reference.clone());
        Term::Test(Test::Age(format!(
            "{verb} more recently than {}",
            reference.source
        )))
    }

    /// The words of `-exec CMD ... ;` or `-exec CMD ... {} +`, with `{}` as the placeholder.
    fn exec_words(&mut self) -> Vec<Word> {
        let mut words = Vec::new();
        while let Some(word) = self.next_word() {
            let lit = word.lit();
            match lit.as_deref() {
                Some(";") => break,
                Some("+") if words.last().is_some_and(Word::is_placeholder) => break,
                _ => words.push(word.replace_text("{}")),
            }
        }
        words
    }

    fn action(&mut self, action: Action) -> Term {
        self.cmd.actions.push(action);
        Term::Action(self.cmd.actions.len() - 1)
    }
}

/// The actions of a negated group still run; only its tests are dropped.
fn strip_tests(term: Term) -> Term {
    match term {
        Term::Test(_) => Term::True,
        Term::And(items) => Term::And(items.into_iter().map(strip_tests).collect()),
        Term::Or(items) => Term::Or(items.into_iter().map(strip_tests).collect()),
        other => other,
    }
}

/// `-mtime +3` -> "modified more than 3 days ago".
fn age_words(test: &str, arg: &Word) -> String {
    let verb = match test.as_bytes().get(1) {
        Some(b'a') => "accessed",
        Some(b'c') => "changed",
        _ => "modified",
    };
    let unit = if test.ends_with("min") {
        "minute"
    } else {
        "day"
    };
    let text = arg.lit().unwrap_or_else(|| arg.source.clone());
    let (comparison, n) = match (text.strip_prefix('+'), text.strip_prefix('-')) {
        (Some(n), _) => ("more than ", n),
        (_, Some(n)) => ("less than ", n),
        _ => ("", text.as_str()),
    };
    let plural = if n == "1" { "" } else { "s" };
    format!("{verb} {comparison}{n} {unit}{plural} ago")
}

/// The ways a term can be true, as alternatives of conjunctions (over-approximated).
fn alternatives(term: &Term) -> Vec<Conj> {
    match term {
        Term::Test(test) => vec![Conj::from_test(test)],
        Term::And(items) => items.iter().fold(vec![Conj::default()], |acc, item| {
            product(&acc, &alternatives(item))
        }),
        Term::Or(items) => {
            let all: Vec<Conj> = items.iter().flat_map(alternatives).collect();
            if all.len() > MAX_ALTERNATIVES {
                vec![Conj::default()]
            } else {
                all
            }
        }
        Term::Not | Term::True | Term::Action(_) => vec![Conj::default()],
    }
}

fn product(a: &[Conj], b: &[Conj]) -> Vec<Conj> {
    if a.len().saturating_mul(b.len()) > MAX_ALTERNATIVES {
        return vec![Conj::default()];
    }
    a.iter()
        .flat_map(|x| b.iter().map(move |y| x.and(y)))
        .collect()
}

/// For each action, the alternatives under which it runs.
fn collect(term: &Term, before: &[Conj], out: &mut Vec<(usize, Vec<Conj>)>) {
    match term {
        Term::Action(index) => out.push((*index, before.to_vec())),
        Term::And(items) => {
            let mut before = before.to_vec();
            for item in items {
                collect(item, &before, out);
                before = product(&before, &alternatives(item));
            }
        }
        Term::Or(items) => {
            for item in items {
                collect(item, before, out);
            }
        }
        Term::Not | Term::True | Term::Test(_) => {}
    }
}

/// Merges alternatives into one spec: a constraint survives only if every alternative has it.
fn merge(
    alternatives: &[Conj],
    min_depth: u32,
    max_depth: Option<u32>,
    tree: bool,
) -> (FindSpec, Option<String>) {
    fn union(lists: Vec<Option<&(Expr, bool)>>) -> (Vec<Expr>, bool) {
        if lists.iter().any(Option::is_none) {
            return (Vec::new(), false);
        }
        let mut out: Vec<Expr> = Vec::new();
        let mut ci = false;
        for (glob, insensitive) in lists.into_iter().flatten() {
            ci |= *insensitive;
            if !out.contains(glob) {
                out.push(glob.clone());
            }
        }
        (out, ci)
    }
    let (names, names_ci) = union(alternatives.iter().map(|c| c.names.first()).collect());
    let (paths, _) = union(alternatives.iter().map(|c| c.paths.first()).collect());
    let types: Vec<Option<char>> = alternatives.iter().map(|c| c.file_type.flatten()).collect();
    let file_type = match types.first() {
        Some(Some(t)) if types.iter().all(|x| *x == Some(*t)) => Some(*t),
        _ => None,
    };
    let ages: Vec<String> = alternatives.iter().map(|c| c.ages.join(" and ")).collect();
    let retention = if ages.is_empty() || ages.iter().any(String::is_empty) {
        None
    } else {
        let mut distinct: Vec<String> = Vec::new();
        for age in ages {
            if !distinct.contains(&age) {
                distinct.push(age);
            }
        }
        Some(distinct.join(" or "))
    };
    let spec = FindSpec {
        names,
        paths,
        min_depth,
        max_depth,
        file_type,
        tree,
        case_insensitive: names_ci,
    };
    (spec, retention)
}

/// One access the find performs on its matches.
struct Effect {
    mode: Mode,
    tree: bool,
    via: String,
    alternatives: Vec<Conj>,
}

impl Walker<'_> {
    /// `find START... EXPRESSION`; `feed` is what a pipeline consumer does to the printed paths.
    pub(super) fn find(&mut self, via: &str, args: &[Word], line: u32, feed: Option<&[Captured]>) {
        let cmd = parse(args, line);
        let mut effects: Vec<Effect> = Vec::new();
        let mut runs: Vec<(usize, Vec<Conj>)> = Vec::new();
        collect(&cmd.expr, &[Conj::default()], &mut runs);
        let has_action = !cmd.actions.is_empty();
        if !has_action {
            effects.push(Effect {
                mode: Mode::List,
                tree: false,
                via: via.to_string(),
                alternatives: alternatives(&cmd.expr),
            });
            self.feed_effects(&mut effects, feed, via);
        }
        for (index, alternatives) in runs {
            let Some(action) = cmd.actions.get(index) else {
                continue;
            };
            for (mode, tree, action_via) in self.action_effects(action, via, line, feed) {
                push_effect(&mut effects, mode, tree, action_via, alternatives.clone());
            }
        }
        for effect in effects {
            let (spec, retention) = merge(
                &effect.alternatives,
                cmd.min_depth,
                cmd.max_depth,
                effect.tree,
            );
            for start in &cmd.starts {
                self.emit(
                    start.expr(),
                    effect.mode,
                    Reach::Find(spec.clone()),
                    retention.clone(),
                    line,
                    effect.via.clone(),
                );
            }
        }
        let side_files = [
            (&cmd.checked, Mode::Check),
            (&cmd.read, Mode::Read),
            (&cmd.written, Mode::Write),
        ];
        for (files, mode) in side_files {
            for file in files {
                self.emit(file.expr(), mode, Reach::Exact, None, line, via.to_string());
            }
        }
    }

    /// The implicit print of a find without actions, turned into the consumer's effects.
    fn feed_effects(&self, effects: &mut Vec<Effect>, feed: Option<&[Captured]>, via: &str) {
        let Some(feed) = feed.filter(|f| !f.is_empty()) else {
            return;
        };
        let Some(list) = effects.pop() else { return };
        for c in feed {
            effects.push(Effect {
                mode: c.mode,
                tree: c.tree,
                via: format!("{via} | {}", c.via),
                alternatives: list.alternatives.clone(),
            });
        }
    }

    fn action_effects(
        &mut self,
        action: &Action,
        via: &str,
        line: u32,
        feed: Option<&[Captured]>,
    ) -> Vec<(Mode, bool, String)> {
        match action {
            Action::Delete => vec![(Mode::Delete, false, format!("{via} -delete"))],
            Action::Exec { words, option } => {
                let captured = self.capturing(|w| w.run(words, line, None));
                if captured.is_empty() {
                    let name = words.first().map(|w| w.source.as_str()).unwrap_or("");
                    return vec![(Mode::List, false, format!("{via} {option} {name}"))];
                }
                captured
                    .into_iter()
                    .map(|c| (c.mode, c.tree, format!("{via} {option} {}", c.via)))
                    .collect()
            }
            Action::Print => match feed.filter(|f| !f.is_empty()) {
                Some(feed) => feed
                    .iter()
                    .map(|c| (c.mode, c.tree, format!("{via} | {}", c.via)))
                    .collect(),
                None => vec![(Mode::List, false, via.to_string())],
            },
        }
    }
}

fn push_effect(
    effects: &mut Vec<Effect>,
    mode: Mode,
    tree: bool,
    via: String,
    alternatives: Vec<Conj>,
) {
    match effects
        .iter_mut()
        .find(|e| e.mode == mode && e.tree == tree && e.via == via)
    {
        Some(effect) => effect.alternatives.extend(alternatives),
        None => effects.push(Effect {
            mode,
            tree,
            via,
            alternatives,
        }),
    }
}

/// Splits leading options, start directories and the expression.
fn parse(args: &[Word], line: u32) -> FindCommand {
    let mut pos = 0;
    while let Some(lit) = args.get(pos).and_then(Word::lit) {
        match lit.as_str() {
            "-H" | "-L" | "-P" => pos += 1,
            "-D" => pos += 2,
            l if l.starts_with("-O") => pos += 1,
            _ => break,
        }
    }
    let mut starts = Vec::new();
    while let Some(word) = args.get(pos) {
        let lead = word.leading_lit();
        let expression = (lead.starts_with('-') && lead.len() > 1)
            || matches!(lead.as_str(), "(" | "!" | ")" | ",");
        if expression {
            break;
        }
        starts.push(word.clone());
        pos += 1;
    }
    if starts.is_empty() {
        starts.push(Word::from_lit(".", line));
    }
    let mut parser = Parser {
        words: args.get(pos..).unwrap_or_default(),
        pos: 0,
        cmd: FindCommand {
            starts,
            expr: Term::True,
            actions: Vec::new(),
            min_depth: 0,
            max_depth: None,
            checked: Vec::new(),
            read: Vec::new(),
            written: Vec::new(),
        },
    };
    let mut terms = vec![parser.or(0)];
    // A stray `)` ends the expression early; read the rest as more terms.
    while parser.pos < parser.words.len() {
        parser.pos += 1;
        terms.push(parser.or(0));
    }
    let expr = if terms.len() == 1 {
        terms.pop().unwrap_or(Term::True)
    } else {
        Term::And(terms)
    };
    let mut cmd = parser.cmd;
    cmd.expr = expr;
    cmd
}
