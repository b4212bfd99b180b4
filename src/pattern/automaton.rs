//! Automata over path characters: the exact decision procedures behind the relations.
//!
//! Input: one ε-free NFA per pattern, built once by [`Thompson::finish`]. Output: membership,
//! inclusion of one language in a union, and shortest witnesses of intersection or difference.
//!
//! Every language is implicitly intersected with the *well-formed paths* `W`: non-empty, no
//! empty segment (`//`), no trailing `/` except the root `/` itself. Patterns are normalised the
//! same way, so `a/*/b` never claims `a//b` and `a/**` never claims `a/`; a small DFA for `W`
//! runs alongside every search.
//!
//! Symbols are opaque units (codes above `char::MAX`). A pattern *matches* a symbol with `**`,
//! path holes and slash-crossing stars, or with the same symbol; it *names* one only where its
//! own symbol piece stands, since its wildcards and holes stand for concrete text. So inclusion
//! asks whether every path `b` names is matched by some `a`: `**/x` covers `${S}/x`, and
//! `**/*` covers `a/{p}` (every concrete value of `{p}` ends in a segment).
//!
//! Relations on several automata split the alphabet into the intervals between every boundary
//! that an edge predicate of any of them has (plus `/`): all codes of one interval behave alike
//! for every automaton and for `W`, so one representative per interval decides exactly.
//! Inclusion explores pairs (state of `b`, determinised state set of the union of `a`);
//! intersection explores triples of single states. Both are breadth-first, so witnesses are
//! shortest, and both stop after a bounded amount of work ([`BUDGET`], [`WORK_BUDGET`]) and say
//! so rather than hang.

use super::charset::{self, CharSet, MAX_CODE, SLASH, SYM_CLOSE, SYM_OPEN};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// How many search nodes a relation may explore before giving up: patterns from real code stay
/// in the hundreds, adversarial ones (`*a*a*a...` against `*a?????`) could otherwise blow up.
const BUDGET: usize = 200_000;

/// How many (node, alphabet class) steps a relation may take: bounds time and the transition
/// cache when a hostile pattern spells thousands of distinct characters.
const WORK_BUDGET: usize = 1_000_000;

/// The node limit of a search over `classes` alphabet classes.
fn node_limit(classes: usize) -> usize {
    (WORK_BUDGET / classes.max(1)).min(BUDGET)
}

/// A search ran out of budget: the answer is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Exhausted;

/// An edge predicate: one code, or a set in the automaton's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Pred {
    Code(u32),
    Set(u32),
}

/// A non-deterministic automaton for one pattern, without ε-edges; state 0 is the start.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Nfa {
    /// The edges of state `q` are `edges[offsets[q]..offsets[q + 1]]`.
    offsets: Vec<u32>,
    edges: Vec<(Pred, u32)>,
    finals: Vec<bool>,
    sets: Vec<CharSet>,
    /// Every code where some predicate's membership changes, sorted: the alphabet partition.
    bounds: Vec<u32>,
    /// Symbol codes that appear on edges: the only symbol codes a witness may contain.
    reserved: Vec<u32>,
}

impl Nfa {
    fn len(&self) -> usize {
        self.finals.len()
    }

    fn is_final(&self, q: u32) -> bool {
        self.finals.get(q as usize).copied().unwrap_or(false)
    }

    fn edges_of(&self, q: u32) -> &[(Pred, u32)] {
        let q = q as usize;
        match (self.offsets.get(q), self.offsets.get(q + 1)) {
            (Some(&lo), Some(&hi)) => self.edges.get(lo as usize..hi as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    fn pred_contains(&self, pred: Pred, c: u32) -> bool {
        match pred {
            Pred::Code(code) => code == c,
            Pred::Set(i) => self.sets.get(i as usize).is_some_and(|s| s.contains(c)),
        }
    }

    /// Calls `f` with every successor of `q` on `c`.
    fn successors(&self, q: u32, c: u32, mut f: impl FnMut(u32)) {
        for &(pred, to) in self.edges_of(q) {
            if self.pred_contains(pred, c) {
                f(to);
            }
        }
    }

    /// The successors of `q` on `c` when this automaton *names* the paths: a wildcard or hole
    /// stands for concrete characters, so a symbol code is only produced by the symbol itself.
    fn producing(&self, q: u32, c: u32, mut f: impl FnMut(u32)) {
        for &(pred, to) in self.edges_of(q) {
            let concrete_or_own = c <= charset::MAX_CHAR || pred == Pred::Code(c);
            if concrete_or_own && self.pred_contains(pred, c) {
                f(to);
            }
        }
    }

    /// Does the pattern match this path? The path must be normalised (see `W` above).
    pub fn matches(&self, path: &str) -> bool {
        self.matches_codes(path.chars().map(|c| c as u32))
    }

    /// Membership of a code sequence (symbols included), under `W`.
    pub(super) fn matches_codes(&self, codes: impl IntoIterator<Item = u32>) -> bool {
        if self.len() == 0 {
            return false;
        }
        let words = words_for(self.len());
        let mut cur = vec![0u64; words];
        let mut next = vec![0u64; words];
        set_bit(&mut cur, 0);
        let mut w = W_START;
        for c in codes {
            w = w_step(w, c);
            if w == W_DEAD {
                return false;
            }
            next.iter_mut().for_each(|x| *x = 0);
            let mut any = false;
            for q in iter_bits(&cur) {
                self.successors(q, c, |t| {
                    set_bit(&mut next, t);
                    any = true;
                });
            }
            if !any {
                return false;
            }
            std::mem::swap(&mut cur, &mut next);
        }
        w_accepts(w) && iter_bits(&cur).any(|q| self.is_final(q))
    }
}

// ---------------------------------------------------------------------------------------------
// Construction: a Thompson automaton with ε-edges, then ε-elimination.

/// The index of [`CharSet::any`] in every automaton's set table.
const ANY_SET: u32 = 0;

/// An automaton under construction, with ε-edges; [`Thompson::finish`] removes them.
#[derive(Debug)]
pub(super) struct Thompson {
    eps: Vec<Vec<u32>>,
    edges: Vec<Vec<(Pred, u32)>>,
    sets: Vec<CharSet>,
}

impl Default for Thompson {
    fn default() -> Thompson {
        Thompson {
            eps: Vec::new(),
            edges: Vec::new(),
            sets: vec![CharSet::any()],
        }
    }
}

impl Thompson {
    pub(super) fn state(&mut self) -> u32 {
        self.eps.push(Vec::new());
        self.edges.push(Vec::new());
        u32::try_from(self.eps.len() - 1).unwrap_or(u32::MAX)
    }

    pub(super) fn eps(&mut self, from: u32, to: u32) {
        if let Some(v) = self.eps.get_mut(from as usize) {
            v.push(to);
        }
    }

    /// An edge on one code.
    pub(super) fn code(&mut self, from: u32, c: u32, to: u32) {
        if let Some(v) = self.edges.get_mut(from as usize) {
            v.push((Pred::Code(c), to));
        }
    }

    /// An edge on any code of `set`.
    pub(super) fn set(&mut self, from: u32, set: &CharSet, to: u32) {
        if set.is_empty() {
            return;
        }
        let pred = match set.as_single() {
            Some(c) => Pred::Code(c),
            None => {
                let i = match self.sets.iter().position(|s| s == set) {
                    Some(i) => i,
                    None => {
                        self.sets.push(set.clone());
                        self.sets.len() - 1
                    }
                };
                Pred::Set(u32::try_from(i).unwrap_or(u32::MAX))
            }
        };
        if let Some(v) = self.edges.get_mut(from as usize) {
            v.push((pred, to));
        }
    }

    /// The ε-closure of `q`, in discovery order.
    fn closure(&self, q: u32, seen: &mut [bool], out: &mut Vec<u32>) {
        out.clear();
        let mut stack = vec![q];
        while let Some(p) = stack.pop() {
            let Some(flag) = seen.get_mut(p as usize) else {
                continue;
            };
            if *flag {
                continue;
            }
            *flag = true;
            out.push(p);
            if let Some(next) = self.eps.get(p as usize) {
                stack.extend_from_slice(next);
            }
        }
        for &p in out.iter() {
            if let Some(flag) = seen.get_mut(p as usize) {
                *flag = false;
            }
        }
    }

    /// Removes ε-edges and unreachable states; the start becomes state 0. With `subtree`, the
    /// automaton also accepts everything under each path it accepts (see [`with_subtree`]).
    pub(super) fn finish(self, start: u32, finals: &[u32], subtree: bool) -> Nfa {
        let mut flat = self.eliminate(start, finals);
        if subtree {
            with_subtree(&mut flat, &self.sets);
        }
        flat.into_nfa(self.sets)
    }

    fn eliminate(&self, start: u32, finals: &[u32]) -> Flat {
        let n = self.eps.len();
        let mut flat = Flat::default();
        if (start as usize) >= n {
            return flat;
        }
        let mut is_final = vec![false; n];
        for &f in finals {
            if let Some(x) = is_final.get_mut(f as usize) {
                *x = true;
            }
        }
        // New numbering, assigned in breadth-first order from the start.
        let mut new_id: Vec<u32> = vec![u32::MAX; n];
        let mut order: Vec<u32> = vec![start];
        new_id[start as usize] = 0;
        let mut seen = vec![false; n];
        let mut cl = Vec::new();
        let mut i = 0;
        while let Some(&q) = order.get(i) {
            i += 1;
            self.closure(q, &mut seen, &mut cl);
            let mut fin = false;
            let mut edges: Vec<(Pred, u32)> = Vec::new();
            for &p in &cl {
                fin |= is_final.get(p as usize).copied().unwrap_or(false);
                for &(pred, to) in self.edges.get(p as usize).map_or(&[][..], |v| v) {
                    let Some(slot) = new_id.get_mut(to as usize) else {
                        continue;
                    };
                    if *slot == u32::MAX {
                        *slot = u32::try_from(order.len()).unwrap_or(u32::MAX);
                        order.push(to);
                    }
                    if !edges.contains(&(pred, *slot)) {
                        edges.push((pred, *slot));
                    }
                }
            }
            flat.edges.push(edges);
            flat.finals.push(fin);
        }
        flat
    }
}

/// An ε-free automaton with per-state edge lists, before it is packed into an [`Nfa`].
#[derive(Debug, Default)]
struct Flat {
    edges: Vec<Vec<(Pred, u32)>>,
    finals: Vec<bool>,
}

impl Flat {
    fn state(&mut self, fin: bool) -> u32 {
        self.edges.push(Vec::new());
        self.finals.push(fin);
        u32::try_from(self.edges.len() - 1).unwrap_or(u32::MAX)
    }

    fn edge(&mut self, from: u32, pred: Pred, to: u32) {
        if let Some(v) = self.edges.get_mut(from as usize) {
            v.push((pred, to));
        }
    }

    /// Does the start state have no incoming edge (so that it means "nothing read yet")?
    fn start_is_fresh(&self) -> bool {
        self.edges.iter().flatten().all(|&(_, to)| to != 0)
    }

    /// Accepts exactly `/` (before `W`)?
    fn accepts_root(&self, sets: &[CharSet]) -> bool {
        let slash = |pred| match pred {
            Pred::Code(c) => c == SLASH,
            Pred::Set(i) => sets.get(i as usize).is_some_and(|s| s.contains(SLASH)),
        };
        self.edges.first().is_some_and(|e| {
            e.iter().any(|&(pred, to)| {
                slash(pred) && self.finals.get(to as usize).copied().unwrap_or(false)
            })
        })
    }

    fn into_nfa(self, sets: Vec<CharSet>) -> Nfa {
        let mut out = Nfa {
            sets,
            finals: self.finals,
            ..Nfa::default()
        };
        for edges in self.edges {
            out.offsets
                .push(u32::try_from(out.edges.len()).unwrap_or(u32::MAX));
            out.edges.extend(edges);
        }
        out.offsets
            .push(u32::try_from(out.edges.len()).unwrap_or(u32::MAX));
        out.bounds = boundaries(&out);
        out.reserved = reserved_codes(&out);
        out
    }
}

/// Adds `p/s` for every accepted non-empty `p` and non-empty `s`, and `/s` when the root `/`
/// itself is accepted (`//s` would not be a well-formed path). The empty string, which a
/// relative `*` accepts before `W` removes it, must not give `/s`: the suffix starts only from
/// final states other than the fresh start.
fn with_subtree(flat: &mut Flat, sets: &[CharSet]) {
    if flat.finals.is_empty() {
        return;
    }
    let any = Pred::Set(ANY_SET);
    let start_fresh = flat.start_is_fresh();
    let root = flat.accepts_root(sets);
    let below = flat.state(false);
    let rest = flat.state(true);
    for q in 0..below {
        if flat.finals.get(q as usize) == Some(&true) && (q != 0 || !start_fresh) {
            flat.edge(q, Pred::Code(SLASH), below);
        }
    }
    flat.edge(below, any, rest);
    flat.edge(rest, any, rest);
    if root {
        let after_root = flat.state(false);
        flat.edge(0, Pred::Code(SLASH), after_root);
        flat.edge(after_root, any, rest);
    }
}

fn boundaries(nfa: &Nfa) -> Vec<u32> {
    let mut b = Vec::new();
    for &(pred, _) in &nfa.edges {
        if let Pred::Code(c) = pred {
            b.push(c);
            b.push(c + 1);
        }
    }
    for set in &nfa.sets {
        for &(lo, hi) in set.ranges() {
            b.push(lo);
            b.push(hi + 1);
        }
    }
    b.sort_unstable();
    b.dedup();
    b
}

fn reserved_codes(nfa: &Nfa) -> Vec<u32> {
    let mut r: Vec<u32> = nfa
        .edges
        .iter()
        .filter_map(|&(pred, _)| match pred {
            Pred::Code(c) if c > charset::MAX_CHAR => Some(c),
            _ => None,
        })
        .collect();
    r.sort_unstable();
    r.dedup();
    r
}

// ---------------------------------------------------------------------------------------------
// The well-formed-path DFA `W`.

const W_START: u8 = 0;
/// Read exactly `/`.
const W_ROOT: u8 = 1;
/// Inside a non-empty segment.
const W_SEGMENT: u8 = 2;
/// Just after a separator that follows a segment.
const W_AFTER_SLASH: u8 = 3;
const W_DEAD: u8 = 4;

fn w_step(w: u8, c: u32) -> u8 {
    match (w, c == SLASH) {
        (W_START, true) => W_ROOT,
        (W_SEGMENT, true) => W_AFTER_SLASH,
        (W_START | W_ROOT | W_SEGMENT | W_AFTER_SLASH, false) => W_SEGMENT,
        _ => W_DEAD,
    }
}

fn w_accepts(w: u8) -> bool {
    w == W_ROOT || w == W_SEGMENT
}

// ---------------------------------------------------------------------------------------------
// Bit sets of states.

fn words_for(n: usize) -> usize {
    n.div_ceil(64).max(1)
}

fn set_bit(words: &mut [u64], i: u32) {
    if let Some(w) = words.get_mut((i / 64) as usize) {
        *w |= 1 << (i % 64);
    }
}

fn iter_bits(words: &[u64]) -> impl Iterator<Item = u32> + '_ {
    words.iter().enumerate().flat_map(|(wi, &w)| {
        let mut rest = w;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let b = rest.trailing_zeros();
            rest &= rest - 1;
            Some(wi as u32 * 64 + b)
        })
    })
}

/// A small, fast hasher for search keys (state tuples and bit sets); not DoS-sensitive, since
/// the budget bounds every search anyway.
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = BuildHasherDefault<Fx>;

// ---------------------------------------------------------------------------------------------
// The alphabet partition shared by a query's automata.

/// One representative code per class of codes that every automaton of a query treats alike.
struct Alphabet {
    /// In witness order (see [`readability`]).
    reps: Vec<u32>,
    /// `(rep, index in reps)`, sorted by rep.
    by_code: Vec<(u32, u32)>,
}

impl Alphabet {
    /// Symbol codes are included only where `named` spells them: no other symbol can occur.
    fn new(nfas: &[&Nfa], named: &[&Nfa]) -> Alphabet {
        let mut bounds: Vec<u32> = vec![0, SLASH, SLASH + 1, MAX_CODE + 1];
        for nfa in nfas {
            bounds.extend_from_slice(&nfa.bounds);
        }
        let reserved: Vec<u32> = named
            .iter()
            .flat_map(|n| n.reserved.iter().copied())
            .collect();
        bounds.sort_unstable();
        bounds.dedup();
        let mut reps: Vec<u32> = bounds
            .windows(2)
            .filter_map(|w| {
                let (lo, hi) = (w[0], w[1] - 1);
                if lo > MAX_CODE {
                    None
                } else if lo > charset::MAX_CHAR {
                    (lo == hi && reserved.contains(&lo)).then_some(lo)
                } else {
                    charset::readable_member(lo, hi)
                }
            })
            .collect();
        // Among equally short witnesses the first found is shown: `x`, then letters, digits.
        reps.sort_by_key(|&c| (readability(c), c));
        let mut by_code: Vec<(u32, u32)> = reps
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        by_code.sort_unstable();
        Alphabet { reps, by_code }
    }

    fn len(&self) -> usize {
        self.reps.len()
    }

    /// The classes worth stepping on from state `q` of `nfa`: when all its edges are single
    /// codes (most states: literal text), just those, since every code of a query has a class
    /// of its own. `None` when every class must be tried.
    fn steps_from(&self, nfa: &Nfa, q: u32, out: &mut Vec<(usize, u32)>) -> bool {
        out.clear();
        for &(pred, _) in nfa.edges_of(q) {
            let Pred::Code(c) = pred else {
                return false;
            };
            if let Ok(i) = self.by_code.binary_search_by_key(&c, |&(rep, _)| rep)
                && let Some(&(rep, idx)) = self.by_code.get(i)
                && !out.contains(&(idx as usize, rep))
            {
                out.push((idx as usize, rep));
            }
        }
        true
    }

    /// Fills `out` with the classes to step on from a node, preferring the cheaper side.
    fn candidates(&self, sides: &[(&Nfa, u32)], out: &mut Vec<(usize, u32)>) {
        if sides.iter().any(|&(nfa, q)| self.steps_from(nfa, q, out)) {
            return;
        }
        out.clear();
        out.extend(self.reps.iter().copied().enumerate());
    }
}

/// The rank of a representative in witness order: lower reads better.
fn readability(c: u32) -> u8 {
    match char::from_u32(c) {
        Some('x') => 0,
        Some(ch) if ch.is_ascii_lowercase() => 1,
        Some(ch) if ch.is_ascii_digit() => 2,
        Some(ch) if ch.is_ascii_alphabetic() => 3,
        Some(ch) if ch.is_ascii_graphic() => 4,
        _ => 5,
    }
}

/// Renders a witness: symbols as `${NAME}`, without the `/` that makes a leading one absolute.
pub(super) fn render(codes: &[u32]) -> String {
    let codes = match codes {
        [SLASH, SYM_OPEN, ..] => &codes[1..],
        _ => codes,
    };
    let mut s = String::with_capacity(codes.len());
    for &c in codes {
        match c {
            SYM_OPEN => s.push_str("${"),
            SYM_CLOSE => s.push('}'),
            _ => s.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER)),
        }
    }
    s
}

/// Follows parent links back to the root: the codes along the way, in order.
fn trace(parents: &[(u32, u32)], mut node: u32) -> Vec<u32> {
    let mut codes = Vec::new();
    while let Some(&(parent, code)) = parents.get(node as usize) {
        if parent == u32::MAX {
            break;
        }
        codes.push(code);
        node = parent;
    }
    codes.reverse();
    codes
}

// ---------------------------------------------------------------------------------------------
// Intersection.

/// A shortest code sequence in both languages, if any.
pub(super) fn intersect_codes(a: &Nfa, b: &Nfa) -> Result<Option<Vec<u32>>, Exhausted> {
    if a.len() == 0 || b.len() == 0 {
        return Ok(None);
    }
    let alphabet = Alphabet::new(&[a, b], &[a, b]);
    let limit = node_limit(alphabet.len());
    let mut steps = Vec::new();
    let mut seen: HashSet<(u32, u32, u8), FxBuild> = HashSet::default();
    let mut nodes: Vec<(u32, u32, u8)> = vec![(0, 0, W_START)];
    let mut parents: Vec<(u32, u32)> = vec![(u32::MAX, 0)];
    seen.insert((0, 0, W_START));
    let mut i = 0;
    while let Some(&(qa, qb, w)) = nodes.get(i) {
        let node = u32::try_from(i).map_err(|_| Exhausted)?;
        i += 1;
        if w_accepts(w) && a.is_final(qa) && b.is_final(qb) {
            return Ok(Some(trace(&parents, node)));
        }
        if nodes.len() > limit {
            return Err(Exhausted);
        }
        alphabet.candidates(&[(a, qa), (b, qb)], &mut steps);
        for &(_, c) in &steps {
            let w2 = w_step(w, c);
            if w2 == W_DEAD {
                continue;
            }
            a.successors(qa, c, |ta| {
                b.successors(qb, c, |tb| {
                    if seen.insert((ta, tb, w2)) {
                        nodes.push((ta, tb, w2));
                        parents.push((node, c));
                    }
                });
            });
        }
    }
    Ok(None)
}

/// A shortest string in both languages.
pub fn intersect_witness(a: &Nfa, b: &Nfa) -> Option<String> {
    intersect_codes(a, b).ok().flatten().map(|c| render(&c))
}

// ---------------------------------------------------------------------------------------------
// Difference and inclusion.

/// The union of several automata, determinised lazily: state sets are interned, and their
/// transitions cached per alphabet class.
struct Subsets<'a> {
    parts: Vec<&'a Nfa>,
    /// First global state of each part.
    offsets: Vec<u32>,
    words: usize,
    ids: HashMap<Box<[u64]>, u32, FxBuild>,
    sets: Vec<Box<[u64]>>,
    accepting: Vec<bool>,
    /// `cache[set * classes + class]`, `u32::MAX` when not computed yet.
    cache: Vec<u32>,
    classes: usize,
    /// Where a step's successor set is computed, so that only new sets allocate.
    scratch: Vec<u64>,
}

impl<'a> Subsets<'a> {
    fn new(parts: Vec<&'a Nfa>, classes: usize) -> Subsets<'a> {
        let mut offsets = Vec::with_capacity(parts.len());
        let mut total: usize = 0;
        for p in &parts {
            offsets.push(u32::try_from(total).unwrap_or(u32::MAX));
            total += p.len();
        }
        Subsets {
            parts,
            offsets,
            words: words_for(total),
            ids: HashMap::default(),
            sets: Vec::new(),
            accepting: Vec::new(),
            cache: Vec::new(),
            classes,
            scratch: vec![0; words_for(total)],
        }
    }

    /// The set of every part's start state.
    fn start(&mut self) -> u32 {
        let mut bits = vec![0u64; self.words];
        for (p, &off) in self.parts.iter().zip(&self.offsets) {
            if p.len() > 0 {
                set_bit(&mut bits, off);
            }
        }
        self.intern(bits.into_boxed_slice())
    }

    fn intern(&mut self, bits: Box<[u64]>) -> u32 {
        if let Some(&id) = self.ids.get(&bits) {
            return id;
        }
        self.insert(bits)
    }

    fn insert(&mut self, bits: Box<[u64]>) -> u32 {
        let id = u32::try_from(self.sets.len()).unwrap_or(u32::MAX);
        let accepting = iter_bits(&bits).any(|g| {
            let (part, q) = self.locate(g);
            part.is_some_and(|p| p.is_final(q))
        });
        self.accepting.push(accepting);
        self.sets.push(bits.clone());
        self.ids.insert(bits, id);
        self.cache
            .extend(std::iter::repeat_n(u32::MAX, self.classes));
        id
    }

    /// The part and local state of a global state.
    fn locate(&self, g: u32) -> (Option<&'a Nfa>, u32) {
        let k = self.offsets.partition_point(|&o| o <= g).saturating_sub(1);
        let off = self.offsets.get(k).copied().unwrap_or(0);
        (self.parts.get(k).copied(), g - off)
    }

    fn step(&mut self, set: u32, class: usize, c: u32) -> u32 {
        let slot = set as usize * self.classes + class;
        if let Some(&to) = self.cache.get(slot)
            && to != u32::MAX
        {
            return to;
        }
        let mut next = std::mem::take(&mut self.scratch);
        next.iter_mut().for_each(|w| *w = 0);
        if let Some(bits) = self.sets.get(set as usize) {
            for g in iter_bits(bits) {
                let (part, q) = self.locate(g);
                let off = g - q;
                if let Some(p) = part {
                    p.successors(q, c, |t| set_bit(&mut next, off + t));
                }
            }
        }
        let to = match self.ids.get(next.as_slice()) {
            Some(&id) => id,
            None => self.insert(next.clone().into_boxed_slice()),
        };
        self.scratch = next;
        if let Some(x) = self.cache.get_mut(slot) {
            *x = to;
        }
        to
    }

    fn accepts(&self, set: u32) -> bool {
        self.accepting.get(set as usize).copied().unwrap_or(false)
    }
}

/// A shortest code sequence in `b` and in none of `a`, if any.
pub(super) fn difference_codes<'a>(
    b: &Nfa,
    a: impl Iterator<Item = &'a Nfa>,
) -> Result<Option<Vec<u32>>, Exhausted> {
    if b.len() == 0 {
        return Ok(None);
    }
    let parts: Vec<&Nfa> = a.filter(|n| n.len() > 0).collect();
    let mut all = parts.clone();
    all.push(b);
    let alphabet = Alphabet::new(&all, &[b]);
    let limit = node_limit(alphabet.len());
    let mut subsets = Subsets::new(parts, alphabet.len());
    let mut steps = Vec::new();
    let start = subsets.start();
    let mut seen: HashSet<(u32, u8, u32), FxBuild> = HashSet::default();
    let mut nodes: Vec<(u32, u8, u32)> = vec![(0, W_START, start)];
    let mut parents: Vec<(u32, u32)> = vec![(u32::MAX, 0)];
    seen.insert((0, W_START, start));
    let mut i = 0;
    while let Some(&(qb, w, set)) = nodes.get(i) {
        let node = u32::try_from(i).map_err(|_| Exhausted)?;
        i += 1;
        if w_accepts(w) && b.is_final(qb) && !subsets.accepts(set) {
            return Ok(Some(trace(&parents, node)));
        }
        if nodes.len() > limit || subsets.sets.len() > limit / 4 {
            return Err(Exhausted);
        }
        alphabet.candidates(&[(b, qb)], &mut steps);
        for &(class, c) in &steps {
            let w2 = w_step(w, c);
            if w2 == W_DEAD {
                continue;
            }
            let mut set2 = None;
            b.producing(qb, c, |tb| {
                let s2 = *set2.get_or_insert_with(|| subsets.step(set, class, c));
                if seen.insert((tb, w2, s2)) {
                    nodes.push((tb, w2, s2));
                    parents.push((node, c));
                }
            });
        }
    }
    Ok(None)
}

/// Is the language of `b` included in the union of `a`? `Err` when the search ran out of budget.
pub(super) fn included<'a>(b: &Nfa, a: impl Iterator<Item = &'a Nfa>) -> Result<bool, Exhausted> {
    difference_codes(b, a).map(|w| w.is_none())
}

/// A shortest string in `b` and in none of `a`.
pub fn difference_witness<'a>(b: &Nfa, a: impl Iterator<Item = &'a Nfa>) -> Option<String> {
    difference_codes(b, a).ok().flatten().map(|c| render(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a` `*` `b` over one segment.
    fn a_star_b() -> Nfa {
        let mut t = Thompson::default();
        let s = t.state();
        let m = t.state();
        let e = t.state();
        t.code(s, 'a' as u32, m);
        t.set(m, &CharSet::non_slash(), m);
        t.code(m, 'b' as u32, e);
        t.finish(s, &[e], false)
    }

    #[test]
    fn eliminated_automaton_matches() {
        let n = a_star_b();
        assert!(n.matches("ab"));
        assert!(n.matches("axxb"));
        assert!(!n.matches("ax/b"));
        assert!(!n.matches("a"));
    }

    #[test]
    fn well_formedness_is_enforced() {
        assert_eq!(w_step(W_START, SLASH), W_ROOT);
        assert_eq!(w_step(W_ROOT, SLASH), W_DEAD);
        assert!(!w_accepts(w_step(w_step(W_START, 'a' as u32), SLASH)));
    }

    #[test]
    fn empty_automaton_is_empty() {
        let e = Nfa::default();
        assert!(!e.matches("x"));
        assert_eq!(intersect_witness(&e, &a_star_b()), None);
        assert_eq!(included(&e, std::iter::empty()), Ok(true));
        assert_eq!(
            difference_witness(&a_star_b(), std::iter::empty()),
            Some("ab".to_string())
        );
    }

    #[test]
    fn bits_iterate_in_order() {
        let mut w = vec![0u64; 2];
        for i in [0, 5, 63, 64, 100] {
            set_bit(&mut w, i);
        }
        assert_eq!(iter_bits(&w).collect::<Vec<_>>(), vec![0, 5, 63, 64, 100]);
    }
}
