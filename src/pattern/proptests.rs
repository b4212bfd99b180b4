//! Property tests: the automata against a brute-force oracle.
//!
//! Random small patterns are generated as segments of elements, rendered into [`Piece`]s for
//! the algebra, and independently into a list of matcher nodes for a recursive backtracking
//! matcher that follows the definitions of the module docs directly. Every string of up to
//! [`max_units`] units over a small alphabet (including one symbol) is then checked: membership
//! agrees, witnesses are real, and no enumerated string contradicts a claimed relation.
//!
//! The generator avoids shapes that normalisation rewrites (`//`, `.` and `..` segments,
//! trailing `/`), which the oracle does not model; normalisation has its own property below.

use super::automaton::{difference_codes, intersect_codes};
use super::charset::{MAX_CHAR, SLASH, SYM_CLOSE, SYM_OPEN};
use super::*;
use proptest::prelude::*;
use std::sync::OnceLock;

/// The longest enumerated string, in units (a symbol is one unit); `PATTERN_ORACLE_UNITS`
/// raises it for a soak run.
fn max_units() -> usize {
    std::env::var("PATTERN_ORACLE_UNITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

/// `${X}`, the one symbol of the alphabet.
const SYMBOL: [u32; 3] = [SYM_OPEN, 'X' as u32, SYM_CLOSE];

// ----- the generator ----------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum El {
    Lit(char),
    Star,
    Quest,
    ClassAb,
    ClassNotA,
    SegHole,
    PathHole,
    Strf(&'static str),
    Sym,
}

#[derive(Clone, Debug)]
enum GenSeg {
    Els(Vec<El>),
    /// A whole-segment `**`.
    Recursive,
}

#[derive(Clone, Debug)]
struct Gen {
    absolute: bool,
    segs: Vec<GenSeg>,
    subtree: bool,
    /// Literal characters are written inside glob pieces (else as `Lit` pieces).
    lits_in_glob: bool,
    star_slash: bool,
    ci: bool,
}

fn el() -> impl Strategy<Value = El> {
    prop_oneof![
        8 => prop::sample::select(vec!['a', 'b', '.', '1', 'A', 'a', 'b']).prop_map(El::Lit),
        2 => Just(El::Star),
        1 => Just(El::Quest),
        1 => Just(El::ClassAb),
        1 => Just(El::ClassNotA),
        1 => Just(El::SegHole),
        1 => Just(El::PathHole),
        1 => prop::sample::select(vec!["%d", "%%", "%b", "%s", "a%y"]).prop_map(El::Strf),
        1 => Just(El::Sym),
    ]
}

fn seg() -> impl Strategy<Value = GenSeg> {
    prop_oneof![
        6 => prop::collection::vec(el(), 1..=2).prop_map(|els| GenSeg::Els(fix_segment(els))),
        1 => Just(GenSeg::Recursive),
    ]
}

/// Keeps a segment out of normalisation's way: never exactly `.` or `..`, and no `**` made of
/// two adjacent stars (the oracle reads those as two stars, the glob lexer as one token).
fn fix_segment(mut els: Vec<El>) -> Vec<El> {
    els.dedup_by(|a, b| *a == El::Star && *b == El::Star);
    if els.iter().all(|e| *e == El::Lit('.')) {
        els[0] = El::Lit('a');
    }
    els
}

fn gen_pattern() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),
        prop::collection::vec(seg(), 1..=3),
        prop::bool::weighted(0.2),
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(absolute, segs, subtree, lits_in_glob, star_slash, ci)| Gen {
                absolute,
                segs,
                subtree,
                lits_in_glob,
                star_slash,
                ci,
            },
        )
}

/// A pattern and, half of the time, a generalisation of it (some elements replaced by wider
/// ones), so that coverage is as common as disjointness among the cases.
fn related_patterns() -> impl Strategy<Value = (Gen, Gen)> {
    (
        gen_pattern(),
        gen_pattern(),
        any::<bool>(),
        prop::collection::vec(0u8..6, 8),
    )
        .prop_map(|(narrow, other, relate, choices)| {
            let wide = if relate {
                generalise(&narrow, &choices)
            } else {
                other
            };
            (wide, narrow)
        })
}

fn generalise(spec: &Gen, choices: &[u8]) -> Gen {
    let mut wide = spec.clone();
    let mut pick = choices.iter().cycle().copied();
    for seg in &mut wide.segs {
        let GenSeg::Els(els) = seg else { continue };
        if pick.next() == Some(0) {
            *seg = GenSeg::Recursive;
            continue;
        }
        for el in els.iter_mut() {
            *el = match (pick.next(), *el) {
                (Some(1), _) => El::Star,
                (Some(2), El::Lit(_) | El::ClassAb) => El::Quest,
                (Some(3), El::Lit('b')) => El::ClassNotA,
                (Some(3), El::SegHole | El::Strf(_)) => El::PathHole,
                (_, e) => e,
            };
        }
        *els = fix_segment(std::mem::take(els));
    }
    wide.subtree |= pick.next() == Some(4);
    wide
}

// ----- rendering into pieces --------------------------------------------------------------------

struct PieceWriter<'g> {
    spec: &'g Gen,
    pieces: Vec<Piece>,
    text: String,
    text_is_glob: bool,
}

impl PieceWriter<'_> {
    fn flush(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        self.pieces.push(if self.text_is_glob {
            Piece::Glob {
                text: text.into(),
                star_matches_slash: self.spec.star_slash,
                case_insensitive: self.spec.ci,
            }
        } else {
            Piece::Lit(text.into())
        });
    }

    fn write(&mut self, text: &str, glob: bool) {
        let glob = glob || self.spec.lits_in_glob;
        if glob != self.text_is_glob || (glob && !self.spec.lits_in_glob) {
            self.flush();
        }
        self.text_is_glob = glob;
        self.text.push_str(text);
    }

    fn piece(&mut self, piece: Piece) {
        self.flush();
        self.pieces.push(piece);
    }
}

fn pieces(spec: &Gen) -> Vec<Piece> {
    let mut w = PieceWriter {
        spec,
        pieces: Vec::new(),
        text: String::new(),
        text_is_glob: false,
    };
    if spec.absolute {
        w.write("/", false);
    }
    for (i, seg) in spec.segs.iter().enumerate() {
        if i > 0 {
            w.write("/", false);
        }
        let els = match seg {
            GenSeg::Recursive => {
                w.write("**", true);
                continue;
            }
            GenSeg::Els(els) => els,
        };
        for el in els {
            match *el {
                El::Lit(c) => w.write(&c.to_string(), false),
                El::Star => w.write("*", true),
                El::Quest => w.write("?", true),
                El::ClassAb => w.write("[ab]", true),
                El::ClassNotA => w.write("[!a]", true),
                El::SegHole => w.piece(Piece::Hole {
                    label: "s".into(),
                    shape: HoleShape::Segment,
                }),
                El::PathHole => w.piece(Piece::Hole {
                    label: "p".into(),
                    shape: HoleShape::Path,
                }),
                El::Strf(f) => w.piece(Piece::Hole {
                    label: f.into(),
                    shape: HoleShape::Strftime { format: f.into() },
                }),
                El::Sym => w.piece(Piece::Symbol("X".into())),
            }
        }
    }
    w.flush();
    w.pieces
}

fn build(spec: &Gen) -> Pattern {
    Pattern::from_pieces(&pieces(spec), spec.subtree)
}

// ----- the oracle -------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Class {
    /// Any character but `/` (no symbol code).
    NonSlash,
    /// Any character.
    AnyChar,
    /// Any code, symbol codes included.
    AnyCode,
    Digit,
    Ab {
        ci: bool,
    },
    NotA {
        ci: bool,
        slash: bool,
    },
}

impl Class {
    fn test(self, c: u32) -> bool {
        let ch = char::from_u32(c);
        match self {
            Class::NonSlash => c <= MAX_CHAR && c != SLASH,
            Class::AnyChar => c <= MAX_CHAR,
            Class::AnyCode => true,
            Class::Digit => ch.is_some_and(|ch| ch.is_ascii_digit()),
            Class::Ab { ci } => {
                let ch = if ci {
                    ch.map(|x| x.to_ascii_lowercase())
                } else {
                    ch
                };
                matches!(ch, Some('a' | 'b'))
            }
            Class::NotA { ci, slash } => {
                let lower = ch.map(|x| if ci { x.to_ascii_lowercase() } else { x });
                c <= MAX_CHAR && lower != Some('a') && (slash || c != SLASH)
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Node {
    Code(u32),
    /// A letter in either ASCII case.
    Ci(u32),
    One(Class),
    Star(Class),
    Plus(Class),
    /// `**/`: nothing, or any codes of the class ending with `/`.
    RecursiveDirs(Class),
}

fn oracle_nodes(spec: &Gen) -> Vec<Node> {
    let mut nodes = Vec::new();
    let lead_symbol =
        matches!(spec.segs.first(), Some(GenSeg::Els(els)) if els.first() == Some(&El::Sym));
    if spec.absolute || lead_symbol {
        nodes.push(Node::Code(SLASH));
    }
    let last = spec.segs.len() - 1;
    for (i, seg) in spec.segs.iter().enumerate() {
        match seg {
            GenSeg::Recursive if spec.star_slash => nodes.push(Node::Star(Class::AnyCode)),
            GenSeg::Recursive if i == last => nodes.push(Node::Star(Class::AnyCode)),
            GenSeg::Recursive => {
                nodes.push(Node::RecursiveDirs(Class::AnyCode));
                continue;
            }
            GenSeg::Els(els) => els.iter().for_each(|e| element_nodes(spec, *e, &mut nodes)),
        }
        if i != last {
            nodes.push(Node::Code(SLASH));
        }
    }
    nodes
}

fn element_nodes(spec: &Gen, el: El, nodes: &mut Vec<Node>) {
    let wildcard = if spec.star_slash {
        Class::AnyChar
    } else {
        Class::NonSlash
    };
    match el {
        El::Lit(c) if spec.lits_in_glob && spec.ci && c.is_ascii_alphabetic() => {
            nodes.push(Node::Ci(c as u32))
        }
        El::Lit(c) => nodes.push(Node::Code(c as u32)),
        El::Star if spec.star_slash => nodes.push(Node::Star(Class::AnyCode)),
        El::Star => nodes.push(Node::Star(Class::NonSlash)),
        El::Quest => nodes.push(Node::One(wildcard)),
        El::ClassAb => nodes.push(Node::One(Class::Ab { ci: spec.ci })),
        El::ClassNotA => nodes.push(Node::One(Class::NotA {
            ci: spec.ci,
            slash: spec.star_slash,
        })),
        El::SegHole => nodes.push(Node::Plus(Class::NonSlash)),
        El::PathHole => nodes.push(Node::Plus(Class::AnyCode)),
        El::Strf(f) => strftime_nodes(f, nodes),
        El::Sym => nodes.extend(SYMBOL.iter().map(|&c| Node::Code(c))),
    }
}

fn strftime_nodes(format: &str, nodes: &mut Vec<Node>) {
    let two_digits = [Node::One(Class::Digit), Node::One(Class::Digit)];
    match format {
        "%d" => nodes.extend(two_digits),
        "%%" => nodes.push(Node::Code('%' as u32)),
        "%b" => nodes.push(Node::Plus(Class::NonSlash)),
        "%s" => nodes.push(Node::Plus(Class::Digit)),
        "a%y" => {
            nodes.push(Node::Code('a' as u32));
            nodes.extend(two_digits);
        }
        _ => unreachable!("the generator only makes the formats above"),
    }
}

/// Backtracking: does `nodes` match all of `s`?
fn matches_nodes(nodes: &[Node], s: &[u32]) -> bool {
    let Some((node, rest)) = nodes.split_first() else {
        return s.is_empty();
    };
    let first_is = |f: &dyn Fn(u32) -> bool| s.first().is_some_and(|&c| f(c));
    match *node {
        Node::Code(c) => first_is(&|x| x == c) && matches_nodes(rest, &s[1..]),
        Node::Ci(c) => {
            let lower = |x: u32| char::from_u32(x).map(|ch| ch.to_ascii_lowercase());
            first_is(&|x| lower(x) == lower(c)) && matches_nodes(rest, &s[1..])
        }
        Node::One(class) => first_is(&|x| class.test(x)) && matches_nodes(rest, &s[1..]),
        Node::Star(class) | Node::Plus(class) => {
            let min = usize::from(matches!(node, Node::Plus(_)));
            (min..=s.len())
                .any(|k| s[..k].iter().all(|&x| class.test(x)) && matches_nodes(rest, &s[k..]))
        }
        Node::RecursiveDirs(class) => {
            matches_nodes(rest, s)
                || (1..=s.len()).any(|k| {
                    s[k - 1] == SLASH
                        && s[..k].iter().all(|&x| class.test(x))
                        && matches_nodes(rest, &s[k..])
                })
        }
    }
}

/// Non-empty, no empty segment, no trailing `/` except the root itself.
fn well_formed(s: &[u32]) -> bool {
    if s == [SLASH] {
        return true;
    }
    let body = s.strip_prefix(&[SLASH]).unwrap_or(s);
    !body.is_empty() && body.split(|&c| c == SLASH).all(|seg| !seg.is_empty())
}

struct Oracle {
    nodes: Vec<Node>,
    subtree: bool,
    /// Naming mode: what lies below a subtree is concrete text too.
    concrete_below: bool,
}

impl Oracle {
    fn new(spec: &Gen) -> Oracle {
        Oracle {
            nodes: oracle_nodes(spec),
            subtree: spec.subtree,
            concrete_below: false,
        }
    }

    /// The paths the pattern *names*: its wildcards and holes stand for concrete text, so its
    /// only symbols are its own.
    fn naming(&self) -> Oracle {
        let concrete = |class| match class {
            Class::AnyCode => Class::AnyChar,
            c => c,
        };
        let nodes = self
            .nodes
            .iter()
            .map(|&n| match n {
                Node::One(c) => Node::One(concrete(c)),
                Node::Star(c) => Node::Star(concrete(c)),
                Node::Plus(c) => Node::Plus(concrete(c)),
                Node::RecursiveDirs(c) => Node::RecursiveDirs(concrete(c)),
                n => n,
            })
            .collect();
        Oracle {
            nodes,
            subtree: self.subtree,
            concrete_below: true,
        }
    }

    /// Does the pattern match `s` (symbols included, as `**` and path holes match them)?
    fn matches(&self, s: &[u32]) -> bool {
        if !well_formed(s) {
            return false;
        }
        if matches_nodes(&self.nodes, s) {
            return true;
        }
        if !self.subtree {
            return false;
        }
        let allowed = |rest: &[u32]| !self.concrete_below || rest.iter().all(|&c| c <= MAX_CHAR);
        let below = (1..s.len().saturating_sub(1))
            .any(|k| s[k] == SLASH && allowed(&s[k + 1..]) && matches_nodes(&self.nodes, &s[..k]));
        let below_root = s.len() > 1
            && s[0] == SLASH
            && allowed(&s[1..])
            && matches_nodes(&self.nodes, &[SLASH]);
        below || below_root
    }
}

// ----- enumeration ------------------------------------------------------------------------------

/// Every string of up to [`max_units`] units over `a b c / . 1 ${X}`.
fn strings() -> &'static [Vec<u32>] {
    static ALL: OnceLock<Vec<Vec<u32>>> = OnceLock::new();
    ALL.get_or_init(|| {
        let units: Vec<Vec<u32>> = ['a', 'b', 'c', '/', '.', '1']
            .iter()
            .map(|&c| vec![c as u32])
            .chain(std::iter::once(SYMBOL.to_vec()))
            .collect();
        let mut all = vec![Vec::new()];
        let mut layer = vec![Vec::new()];
        for _ in 0..max_units() {
            layer = layer
                .iter()
                .flat_map(|s: &Vec<u32>| {
                    units.iter().map(move |u| {
                        let mut t = s.clone();
                        t.extend_from_slice(u);
                        t
                    })
                })
                .collect();
            all.extend(layer.iter().cloned());
        }
        all
    })
}

/// `PROPTEST_CASES` scales a soak run; the default keeps `cargo test` fast.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ----- the properties ---------------------------------------------------------------------------

fn check_membership(spec: &Gen, p: &Pattern, member: &[bool]) -> Result<(), String> {
    for (s, &m) in strings().iter().zip(member) {
        if p.nfa().matches_codes(s.iter().copied()) != m {
            return Err(format!(
                "{spec:?} = {:?}: automaton says {}, oracle says {m} for {}",
                p.display(),
                !m,
                automaton::render(s)
            ));
        }
    }
    Ok(())
}

fn members(o: &Oracle) -> Vec<bool> {
    strings().iter().map(|s| o.matches(s)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    /// Membership, overlap and coverage of random patterns agree with the oracle.
    #[test]
    fn relations_agree_with_the_oracle((ga, gb) in related_patterns(), ga2 in gen_pattern(), union in any::<bool>()) {
        let (pa, pa2, pb) = (build(&ga), build(&ga2), build(&gb));
        let (oa, oa2, ob) = (Oracle::new(&ga), Oracle::new(&ga2), Oracle::new(&gb));
        let (ma, ma2, mb) = (members(&oa), members(&oa2), members(&ob));
        check_membership(&ga, &pa, &ma).map_err(TestCaseError::fail)?;
        check_membership(&ga2, &pa2, &ma2).map_err(TestCaseError::fail)?;
        check_membership(&gb, &pb, &mb).map_err(TestCaseError::fail)?;
        let all = strings();

        // Overlap: a witness is in both; no witness means no common enumerated string.
        let common = (0..all.len()).find(|&i| ma[i] && mb[i]);
        let overlap = intersect_codes(pa.nfa(), pb.nfa());
        match &overlap {
            Ok(Some(w)) => {
                prop_assert!(oa.matches(w) && ob.matches(w), "bad overlap witness {}", automaton::render(w));
                if let Some(i) = common {
                    prop_assert!(w.len() <= all[i].len(), "witness not shortest");
                }
            }
            Ok(None) => prop_assert!(common.is_none(), "missed overlap {}", automaton::render(&all[common.unwrap_or(0)])),
            Err(_) => prop_assert!(false, "budget exhausted on a small pattern"),
        }
        let overlapping = matches!(overlap, Ok(Some(_)));
        prop_assert_eq!(overlaps(&pa, &pb), overlapping);
        prop_assert_eq!(overlap_witness(&pa, &pb).is_some(), overlapping);

        // Coverage by `a` (or `a` ∪ `a2`) of what `b` names.
        let cover: Vec<&Pattern> = if union { vec![&pa, &pa2] } else { vec![&pa] };
        let covered = |i: usize| ma[i] || (union && ma2[i]);
        let named = ob.naming();
        let mb_named = members(&named);
        let escape = (0..all.len()).find(|&i| mb_named[i] && !covered(i));
        match difference_codes(pb.nfa(), cover.iter().map(|p| p.nfa())) {
            Ok(Some(w)) => {
                let in_cover = oa.matches(&w) || (union && oa2.matches(&w));
                prop_assert!(named.matches(&w) && !in_cover, "bad uncovered witness {}", automaton::render(&w));
                if let Some(i) = escape {
                    prop_assert!(w.len() <= all[i].len(), "witness not shortest");
                }
            }
            Ok(None) => prop_assert!(escape.is_none(), "claimed cover misses {}", automaton::render(&all[escape.unwrap_or(0)])),
            Err(_) => prop_assert!(false, "budget exhausted on a small pattern"),
        }
        let owned: Vec<Pattern> = cover.into_iter().cloned().collect();
        prop_assert_eq!(covers(&owned, &pb), escape.is_none() && uncovered_witness(&owned, &pb).is_none());
        if !union {
            let expected = match (covers(&owned, &pb), covers(std::slice::from_ref(&pb), &pa)) {
                (true, true) => Relation::Equal,
                (true, false) => Relation::Covers,
                (false, true) => Relation::CoveredBy,
                (false, false) if overlapping => Relation::Overlaps,
                (false, false) => Relation::Disjoint,
            };
            prop_assert_eq!(relation(&pa, &pb), expected);
        }
    }

    /// The automaton a pattern builds from its tokens on first use is, state for state, the
    /// one compiled from its normal form when it was built.
    #[test]
    fn automata_from_tokens_are_those_of_the_normal_form(spec in gen_pattern()) {
        let pieces = pieces(&spec);
        let pattern = Pattern::from_pieces(&pieces, spec.subtree);
        prop_assert_eq!(
            crate::store::codec::pack(pattern.nfa()),
            crate::store::codec::pack(&build::compile_eagerly(&pieces, spec.subtree)),
            "{:?}", pattern
        );
    }

    /// `normalize_literal_path` agrees with a stack-based reference, and literal patterns are
    /// equal to the pattern of their normal form.
    #[test]
    fn normalisation_agrees_with_a_reference(path in "[ab./]{0,9}") {
        let normal = normalize_literal_path(&path);
        prop_assert_eq!(&normal, &reference_normalise(&path));
        prop_assert_eq!(normalize_literal_path(&normal), normal.clone());
        let raw = Pattern::from_pieces(&[Piece::Lit(path.clone().into())], false);
        let clean = Pattern::from_pieces(&[Piece::Lit(normal.clone().into())], false);
        prop_assert_eq!(relation(&raw, &clean), Relation::Equal);
        prop_assert_eq!(raw.matches(&normal), !normal.is_empty());
        prop_assert_eq!(raw.display(), normal);
    }
}

fn reference_normalise(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let absolute = path.starts_with('/');
    let mut stack: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." if stack.last().is_some_and(|l| *l != "..") => {
                stack.pop();
            }
            ".." if absolute => {}
            s => stack.push(s),
        }
    }
    let body = stack.join("/");
    match (absolute, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// How often the generated cases relate, to keep the generator honest (`--ignored`).
#[test]
#[ignore]
fn generator_statistics() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::default();
    let (mut overlap, mut cover, mut populated) = (0, 0, 0);
    for _ in 0..400 {
        let Ok(tree) = related_patterns().new_tree(&mut runner) else {
            continue;
        };
        let (a, b) = tree.current();
        let (pa, pb) = (build(&a), build(&b));
        overlap += usize::from(overlaps(&pa, &pb));
        cover += usize::from(covers(std::slice::from_ref(&pa), &pb));
        populated += usize::from(members(&Oracle::new(&b)).contains(&true));
    }
    eprintln!("of 400: {overlap} overlap, {cover} covers, {populated} have enumerated members");
}
