//! Runs the JavaScript regular expressions that the glob translator emits,
//! with JavaScript's semantics (non-unicode mode: code units, not code points;
//! `.` stops at line terminators; Annex B literal `]`, `{`, `}`).
//!
//! Only the subset picomatch can produce from the globs we accept is parsed;
//! anything else is reported as unsupported rather than guessed at. A source
//! that V8 would refuse to compile is reported as invalid, because picomatch
//! then silently matches nothing — callers refuse such globs instead.
//!
//! Matching is a backtracking VM with a visited set over (instruction,
//! position, certainty), so it is linear in pattern × input and never blows
//! up on adversarial globs. The same VM answers "could some continuation of
//! this prefix match?" (three-valued), which is what folder navigation needs.

use std::cell::RefCell;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReError {
    /// V8 would throw a SyntaxError (picomatch then matches nothing).
    Invalid(&'static str),
    /// Valid JavaScript, but outside what this engine implements.
    Unsupported(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    No,
    Maybe,
    Yes,
}

#[derive(Debug, Clone)]
struct Class {
    negated: bool,
    ranges: Vec<(u16, u16)>,
}

impl Class {
    fn matches(&self, c: u16) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

#[derive(Debug, Clone)]
enum Node {
    Unit(u16),
    Class(Class),
    Start,
    End,
    Look {
        negated: bool,
        body: Box<Node>,
    },
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        body: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy)]
enum Inst {
    Unit(u16),
    Class(usize),
    Start,
    End,
    Split(usize, usize),
    Jmp(usize),
    Look { negated: bool, body: usize, next: usize },
    Match,
}

/// Caps that keep a hostile pattern from turning compilation or the visited
/// set into a memory sink; real scope globs are orders of magnitude smaller.
const MAX_REPEAT: u32 = 100;
const MAX_INSTS: usize = 20_000;
/// Largest visited set (entries) a single match may use; beyond it the caller
/// gets `None` and decides which way to fail safe.
const MAX_VISITED: usize = 1 << 22;
/// Scratch larger than this is released after use rather than kept per thread.
const KEEP_VISITED: usize = 1 << 18;

fn u(c: char) -> u16 {
    c as u16
}

const LINE_TERMINATORS: [(u16, u16); 4] = [(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2028), (0x2029, 0x2029)];

struct Parser<'a> {
    src: &'a [u16],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u16> {
        self.src.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<u16> {
        self.src.get(self.pos + k).copied()
    }

    fn bump(&mut self) -> Option<u16> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn disjunction(&mut self) -> Result<Node, ReError> {
        let mut alts = vec![self.alternative()?];
        while self.peek() == Some(u('|')) {
            self.pos += 1;
            alts.push(self.alternative()?);
        }
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Node::Concat(Vec::new()))
        } else {
            Node::Alt(alts)
        })
    }

    fn alternative(&mut self) -> Result<Node, ReError> {
        let mut terms = Vec::new();
        while let Some(c) = self.peek() {
            if c == u('|') || c == u(')') {
                break;
            }
            terms.push(self.term()?);
        }
        Ok(Node::Concat(terms))
    }

    /// `{n}`, `{n,}` or `{n,m}` starting at the current position, without consuming.
    fn braced_quantifier(&self) -> Option<(u32, Option<u32>, usize)> {
        let s = self.src.get(self.pos..)?;
        if s.first() != Some(&u('{')) {
            return None;
        }
        let digits = |from: usize| {
            let n = s[from..]
                .iter()
                .take_while(|c| (u('0')..=u('9')).contains(c))
                .count();
            let val = s[from..from + n].iter().fold(0u32, |acc, &d| {
                acc.saturating_mul(10).saturating_add(u32::from(d - u('0')))
            });
            (n, val)
        };
        let (n1, min) = digits(1);
        if n1 == 0 {
            return None;
        }
        let mut i = 1 + n1;
        let max = if s.get(i) == Some(&u(',')) {
            i += 1;
            let (n2, m) = digits(i);
            i += n2;
            if n2 == 0 { None } else { Some(m) }
        } else {
            Some(min)
        };
        if s.get(i) != Some(&u('}')) {
            return None;
        }
        Some((min, max, i + 1))
    }

    fn quantifier_follows(&self) -> bool {
        matches!(self.peek(), Some(c) if c == u('*') || c == u('+') || c == u('?'))
            || self.braced_quantifier().is_some()
    }

    fn term(&mut self) -> Result<Node, ReError> {
        let Some(c) = self.bump() else {
            return Err(ReError::Unsupported("unexpected end of regex"));
        };
        let atom = match char::from_u32(u32::from(c)).unwrap_or('\u{FFFD}') {
            '^' | '$' => {
                if self.quantifier_follows() {
                    return Err(ReError::Invalid("nothing to repeat"));
                }
                return Ok(if c == u('^') { Node::Start } else { Node::End });
            }
            '(' => self.group()?,
            '[' => Node::Class(self.class()?),
            '.' => Node::Class(Class {
                negated: true,
                ranges: LINE_TERMINATORS.to_vec(),
            }),
            '\\' => Node::Unit(self.escape()?),
            '*' | '+' | '?' => return Err(ReError::Invalid("nothing to repeat")),
            '{' => {
                self.pos -= 1;
                if self.braced_quantifier().is_some() {
                    return Err(ReError::Invalid("nothing to repeat"));
                }
                self.pos += 1;
                Node::Unit(c)
            }
            _ => Node::Unit(c),
        };
        self.quantified(atom)
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, ReError> {
        let (min, max) = match self.peek() {
            Some(q) if q == u('*') => {
                self.pos += 1;
                (0, None)
            }
            Some(q) if q == u('+') => {
                self.pos += 1;
                (1, None)
            }
            Some(q) if q == u('?') => {
                self.pos += 1;
                (0, Some(1))
            }
            _ => match self.braced_quantifier() {
                Some((min, max, len)) => {
                    self.pos += len;
                    if max.is_some_and(|m| m < min) {
                        return Err(ReError::Invalid("numbers out of order in {} quantifier"));
                    }
                    if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT) {
                        return Err(ReError::Unsupported("repeat count too large"));
                    }
                    (min, max)
                }
                None => return Ok(atom),
            },
        };
        // Lazy or greedy makes no difference to whether a match exists.
        if self.peek() == Some(u('?')) {
            self.pos += 1;
        }
        Ok(Node::Repeat {
            body: Box::new(atom),
            min,
            max,
        })
    }

    fn group(&mut self) -> Result<Node, ReError> {
        let node = if self.peek() == Some(u('?')) {
            let kind = self.peek_at(1);
            self.pos += 2;
            match kind {
                Some(k) if k == u(':') => self.disjunction()?,
                Some(k) if k == u('=') || k == u('!') => Node::Look {
                    negated: k == u('!'),
                    body: Box::new(self.disjunction()?),
                },
                Some(k) if k == u('<') => {
                    return Err(ReError::Unsupported("lookbehind and named groups"));
                }
                _ => return Err(ReError::Invalid("invalid group")),
            }
        } else {
            self.disjunction()?
        };
        if self.bump() != Some(u(')')) {
            return Err(ReError::Invalid("unterminated group"));
        }
        Ok(node)
    }

    fn escape(&mut self) -> Result<u16, ReError> {
        match self.bump() {
            None => Err(ReError::Invalid("\\ at end of pattern")),
            Some(c) if c < 0x80 && (c as u8).is_ascii_alphanumeric() => {
                Err(ReError::Unsupported("letter or digit escapes"))
            }
            Some(c) => Ok(c),
        }
    }

    fn class_atom(&mut self) -> Result<u16, ReError> {
        match self.bump() {
            None => Err(ReError::Invalid("unterminated character class")),
            Some(c) if c == u('\\') => self.escape(),
            Some(c) => Ok(c),
        }
    }

    fn class(&mut self) -> Result<Class, ReError> {
        let negated = self.peek() == Some(u('^'));
        if negated {
            self.pos += 1;
        }
        let mut ranges = Vec::new();
        loop {
            match self.peek() {
                None => return Err(ReError::Invalid("unterminated character class")),
                Some(c) if c == u(']') => {
                    self.pos += 1;
                    return Ok(Class { negated, ranges });
                }
                Some(_) => {}
            }
            let lo = self.class_atom()?;
            let dash_range = self.peek() == Some(u('-')) && self.peek_at(1).is_some_and(|c| c != u(']'));
            if dash_range {
                self.pos += 1;
                let hi = self.class_atom()?;
                if hi < lo {
                    return Err(ReError::Invalid("range out of order in character class"));
                }
                ranges.push((lo, hi));
            } else {
                ranges.push((lo, lo));
            }
        }
    }
}

/// A compiled regex, ready to run against UTF-16 input.
#[derive(Debug, Clone)]
pub(crate) struct Program {
    insts: Vec<Inst>,
    classes: Vec<Class>,
}

#[derive(Default)]
struct Scratch {
    visited: Vec<u32>,
    stamp: u32,
    stack: Vec<(usize, usize, bool)>,
    text: Vec<u16>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Scratch {
    fn fresh_stamp(&mut self) -> u32 {
        if self.stamp == u32::MAX {
            self.visited.fill(0);
            self.stamp = 0;
        }
        self.stamp += 1;
        self.stamp
    }
}

impl Program {
    /// Parses and compiles JavaScript regex source (as UTF-16 code units).
    pub(crate) fn compile(src: &[u16]) -> Result<Program, ReError> {
        let mut p = Parser { src, pos: 0 };
        let node = p.disjunction()?;
        if p.pos != src.len() {
            // Only an unmatched ')' stops the top-level disjunction early.
            return Err(ReError::Invalid("unmatched ')'"));
        }
        let mut prog = Program {
            insts: Vec::new(),
            classes: Vec::new(),
        };
        prog.emit(&node)?;
        prog.insts.push(Inst::Match);
        Ok(prog)
    }

    fn push(&mut self, inst: Inst) -> Result<usize, ReError> {
        if self.insts.len() >= MAX_INSTS {
            return Err(ReError::Unsupported("pattern too large"));
        }
        self.insts.push(inst);
        Ok(self.insts.len() - 1)
    }

    fn patch(&mut self, at: usize, inst: Inst) {
        if let Some(slot) = self.insts.get_mut(at) {
            *slot = inst;
        }
    }

    fn emit(&mut self, node: &Node) -> Result<(), ReError> {
        match node {
            Node::Unit(c) => {
                self.push(Inst::Unit(*c))?;
            }
            Node::Class(cls) => {
                self.classes.push(cls.clone());
                self.push(Inst::Class(self.classes.len() - 1))?;
            }
            Node::Start => {
                self.push(Inst::Start)?;
            }
            Node::End => {
                self.push(Inst::End)?;
            }
            Node::Look { negated, body } => {
                let at = self.push(Inst::Match)?;
                self.emit(body)?;
                self.push(Inst::Match)?;
                let next = self.insts.len();
                self.patch(
                    at,
                    Inst::Look {
                        negated: *negated,
                        body: at + 1,
                        next,
                    },
                );
            }
            Node::Concat(items) => {
                for item in items {
                    self.emit(item)?;
                }
            }
            Node::Alt(alts) => {
                let mut jumps = Vec::new();
                for (i, alt) in alts.iter().enumerate() {
                    if i + 1 == alts.len() {
                        self.emit(alt)?;
                    } else {
                        let split = self.push(Inst::Match)?;
                        self.emit(alt)?;
                        jumps.push(self.push(Inst::Match)?);
                        let next = self.insts.len();
                        self.patch(split, Inst::Split(split + 1, next));
                    }
                }
                let end = self.insts.len();
                for j in jumps {
                    self.patch(j, Inst::Jmp(end));
                }
            }
            Node::Repeat { body, min, max } => {
                for _ in 0..*min {
                    self.emit(body)?;
                }
                match max {
                    None => {
                        let top = self.push(Inst::Match)?;
                        self.emit(body)?;
                        self.push(Inst::Jmp(top))?;
                        let end = self.insts.len();
                        self.patch(top, Inst::Split(top + 1, end));
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.push(Inst::Match)?);
                            self.emit(body)?;
                        }
                        let end = self.insts.len();
                        for s in splits {
                            self.patch(s, Inst::Split(s + 1, end));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the whole of `input` matches (`open_end == false`), or whether
    /// `input` followed by at least one more, unknown, code unit could match
    /// (`open_end == true`, answering `No` or `Maybe`). `None` when the input
    /// is too large to match within the memory budget.
    pub(crate) fn run_str(&self, input: &str, open_end: bool) -> Option<Tri> {
        let go = |s: &mut Scratch| {
            let mut text = std::mem::take(&mut s.text);
            text.clear();
            text.extend(input.encode_utf16());
            let r = self.run_units(&text, open_end, s);
            s.text = text;
            r
        };
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => go(&mut s),
            Err(_) => go(&mut Scratch::default()),
        })
    }

    fn run_units(&self, input: &[u16], open_end: bool, s: &mut Scratch) -> Option<Tri> {
        let need = self.insts.len().checked_mul(input.len() + 1)?.checked_mul(2)?;
        if need > MAX_VISITED {
            return None;
        }
        if s.visited.len() < need {
            s.visited.resize(need, 0);
        }
        let r = self.run(0, 0, input, open_end, s);
        if s.visited.len() > KEEP_VISITED {
            s.visited = Vec::new();
            s.stamp = 0;
        }
        Some(r)
    }

    fn run(&self, pc0: usize, pos0: usize, input: &[u16], open_end: bool, s: &mut Scratch) -> Tri {
        let stamp = s.fresh_stamp();
        let width = input.len() + 1;
        let n = input.len();
        let base = s.stack.len();
        let mut maybe = false;
        s.stack.push((pc0, pos0, false));
        while s.stack.len() > base {
            let Some((mut pc, mut pos, mut unsure)) = s.stack.pop() else {
                break;
            };
            loop {
                let key = (pc * width + pos) * 2 + usize::from(unsure);
                match s.visited.get_mut(key) {
                    Some(v) if *v != stamp => *v = stamp,
                    _ => break,
                }
                let Some(&inst) = self.insts.get(pc) else {
                    break;
                };
                match inst {
                    Inst::Match => {
                        if unsure {
                            maybe = true;
                            break;
                        }
                        s.stack.truncate(base);
                        return Tri::Yes;
                    }
                    Inst::Unit(_) | Inst::Class(_) => {
                        let Some(&c) = input.get(pos) else {
                            maybe |= open_end;
                            break;
                        };
                        let ok = match inst {
                            Inst::Unit(want) => c == want,
                            Inst::Class(i) => self.classes.get(i).is_some_and(|k| k.matches(c)),
                            _ => false,
                        };
                        if !ok {
                            break;
                        }
                        pc += 1;
                        pos += 1;
                    }
                    Inst::Start => {
                        if pos != 0 {
                            break;
                        }
                        pc += 1;
                    }
                    Inst::End => {
                        if pos != n || open_end {
                            break;
                        }
                        pc += 1;
                    }
                    Inst::Split(a, b) => {
                        s.stack.push((b, pos, unsure));
                        pc = a;
                    }
                    Inst::Jmp(a) => pc = a,
                    Inst::Look { negated, body, next } => {
                        let r = self.run(body, pos, input, open_end, s);
                        match (r, negated) {
                            (Tri::Yes, false) | (Tri::No, true) => {}
                            (Tri::No, false) | (Tri::Yes, true) => break,
                            (Tri::Maybe, _) => unsure = true,
                        }
                        pc = next;
                    }
                }
            }
        }
        if maybe { Tri::Maybe } else { Tri::No }
    }
}

#[cfg(test)]
mod tests;
