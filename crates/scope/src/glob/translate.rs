//! Turns a glob into the regular-expression source that picomatch 3.x would
//! build for it (`makeRe(glob, {strictSlashes: false})`), as UTF-16 code units.
//!
//! Parity is the whole point, so this follows picomatch's single-pass token
//! scanner step for step — including its accidents (merged text tokens that
//! lose their escaping when the output is rebuilt after a brace range, `[!a]`
//! being a literal `!`-or-`a` class, unclosed braces producing an invalid
//! regex). Syntax whose picomatch behaviour leaks raw regex or depends on the
//! exact 3.0.x patch release (extglobs, groups, pipes, quotes, backslash
//! escapes, POSIX classes, `+` used as a quantifier) is refused instead, with a
//! reason the caller can show.

use std::borrow::Cow;

/// Why the translator refused a pattern (the caller turns it into a `GlobError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal(pub(crate) Cow<'static, str>);

mod scan;
use scan::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bos,
    Text,
    Bracket,
    Brace,
    Comma,
    Slash,
    Dot,
    Dots,
    Qmark,
    Plus,
    Star,
    Globstar,
    MaybeSlash,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    value: Vec<u16>,
    /// `None` mirrors picomatch's `output: undefined`, which matters: a rebuild
    /// then falls back to `value`, and merging text appends to an empty output.
    output: Option<Vec<u16>>,
    prev: usize,
    star: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nest {
    Braces,
    Brackets,
}

#[derive(Debug, Clone)]
struct OpenBrace {
    token: usize,
    comma: bool,
    dots: bool,
    output_index: usize,
    tokens_index: usize,
}

struct Parser<'a> {
    input: &'a [u16],
    index: isize,
    start: isize,
    output: Vec<u16>,
    backtrack: bool,
    negated: bool,
    brackets: usize,
    braces_depth: usize,
    arena: Vec<Token>,
    tokens: Vec<usize>,
    braces: Vec<OpenBrace>,
    stack: Vec<Nest>,
    prev: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u16]) -> Self {
        let bos = Token {
            kind: Kind::Bos,
            value: Vec::new(),
            output: Some(Vec::new()),
            prev: 0,
            star: false,
        };
        Parser {
            input,
            index: -1,
            start: 0,
            output: Vec::new(),
            backtrack: false,
            negated: false,
            brackets: 0,
            braces_depth: 0,
            arena: vec![bos],
            tokens: vec![0],
            braces: Vec::new(),
            stack: Vec::new(),
            prev: 0,
        }
    }

    fn len(&self) -> isize {
        self.input.len() as isize
    }

    fn eos(&self) -> bool {
        self.index == self.len() - 1
    }

    fn at(&self, i: isize) -> Option<u16> {
        if i < 0 {
            return None;
        }
        self.input.get(i as usize).copied()
    }

    fn peek(&self, n: isize) -> Option<u16> {
        self.at(self.index + n)
    }

    fn advance(&mut self) -> Option<u16> {
        self.index += 1;
        self.at(self.index)
    }

    fn remaining(&self) -> &'a [u16] {
        let from = (self.index + 1).max(0) as usize;
        self.input.get(from..).unwrap_or(&[])
    }

    fn tok(&self, i: usize) -> &Token {
        &self.arena[i]
    }

    fn prev_tok(&self) -> &Token {
        &self.arena[self.prev]
    }

    fn emitted(t: &Token) -> &[u16] {
        t.output.as_deref().unwrap_or(&t.value)
    }

    fn push(&mut self, kind: Kind, value: Vec<u16>, output: Option<Vec<u16>>) {
        if self.prev_tok().kind == Kind::Globstar {
            let is_brace = self.braces_depth > 0 && matches!(kind, Kind::Comma | Kind::Brace);
            if kind != Kind::Slash && !is_brace {
                let n = self.prev_tok().output.as_ref().map_or(0, Vec::len);
                slice_neg(&mut self.output, n);
                let p = &mut self.arena[self.prev];
                p.kind = Kind::Star;
                p.value = units("*");
                p.output = Some(units(STAR));
                self.output.extend(units(STAR));
            }
        }
        if !value.is_empty() || output.as_ref().is_some_and(|o| !o.is_empty()) {
            self.output.extend_from_slice(output.as_deref().unwrap_or(&value));
        }
        if self.prev_tok().kind == Kind::Text && kind == Kind::Text {
            let p = &mut self.arena[self.prev];
            p.value.extend_from_slice(&value);
            let mut o = p.output.take().unwrap_or_default();
            o.extend_from_slice(&value);
            p.output = Some(o);
            return;
        }
        self.arena.push(Token {
            kind,
            value,
            output,
            prev: self.prev,
            star: false,
        });
        let id = self.arena.len() - 1;
        self.tokens.push(id);
        self.prev = id;
    }

    fn negate(&mut self) {
        let mut count = 1;
        while self.peek(1) == Some(u('!')) && self.peek(2) != Some(u('(')) {
            self.advance();
            self.start += 1;
            count += 1;
        }
        if count % 2 == 0 {
            return;
        }
        self.negated = true;
        self.start += 1;
    }

    fn run(mut self) -> Result<(Vec<u16>, bool), Refusal> {
        while !self.eos() {
            let Some(c) = self.advance() else { break };
            self.step(c)?;
        }

        while self.brackets > 0 {
            self.output = escape_last(&self.output, u('['), None);
            self.brackets -= 1;
            self.stack.pop();
        }
        while self.braces_depth > 0 {
            self.output = escape_last(&self.output, u('{'), None);
            self.braces_depth -= 1;
            self.stack.pop();
        }
        if matches!(self.prev_tok().kind, Kind::Star | Kind::Bracket) {
            self.push(Kind::MaybeSlash, Vec::new(), Some(units("\\/?")));
        }
        if self.backtrack {
            let mut out = Vec::new();
            for &t in &self.tokens {
                out.extend_from_slice(Self::emitted(&self.arena[t]));
            }
            self.output = out;
        }
        Ok((self.output, self.negated))
    }

    fn step(&mut self, c: u16) -> Result<(), Refusal> {
        if self.brackets > 0 {
            let pv = &self.prev_tok().value;
            let opening = pv.as_slice() == units("[").as_slice() || pv == &units("[^");
            if c != u(']') || opening {
                return self.in_bracket(c, opening);
            }
        }
        match char::from_u32(u32::from(c)).unwrap_or('\u{FFFD}') {
            '[' => {
                if contains(self.remaining(), ']') {
                    self.brackets += 1;
                    self.stack.push(Nest::Brackets);
                    self.push(Kind::Bracket, units("["), None);
                } else {
                    self.push(Kind::Bracket, units("\\["), None);
                }
            }
            ']' => self.close_bracket(),
            '{' => {
                self.braces_depth += 1;
                self.stack.push(Nest::Braces);
                let open = OpenBrace {
                    token: self.arena.len(),
                    comma: false,
                    dots: false,
                    output_index: self.output.len(),
                    tokens_index: self.tokens.len(),
                };
                self.braces.push(open);
                self.push(Kind::Brace, units("{"), Some(units("(")));
            }
            '}' => self.close_brace()?,
            ',' => {
                let mut output = units(",");
                if let Some(b) = self.braces.last_mut()
                    && self.stack.last() == Some(&Nest::Braces)
                {
                    b.comma = true;
                    output = units("|");
                }
                self.push(Kind::Comma, units(","), Some(output));
            }
            '/' => {
                if self.prev_tok().kind == Kind::Dot && self.index == self.start + 1 {
                    self.start = self.index + 1;
                    self.output.clear();
                    self.tokens.pop();
                    self.prev = 0;
                } else {
                    self.push(Kind::Slash, units("/"), Some(units(SLASH_LITERAL)));
                }
            }
            '.' => self.dot(),
            '?' => {
                let out = if matches!(self.prev_tok().kind, Kind::Slash | Kind::Bos) {
                    QMARK_NO_DOT
                } else {
                    QMARK
                };
                self.push(Kind::Qmark, units("?"), Some(units(out)));
            }
            '!' if self.index == 0 => self.negate(),
            '+' => {
                if matches!(self.prev_tok().kind, Kind::Bracket | Kind::Brace) {
                    return Err(Refusal(Cow::Borrowed(
                        "'+' right after ']', '{' or '}' is a regex quantifier in picomatch",
                    )));
                }
                self.push(Kind::Plus, units("\\+"), None);
            }
            '*' => self.star(),
            // picomatch's `@` branch pushes the character alone, without the
            // text run after it; that split shows once outputs are rebuilt.
            '@' => self.push(Kind::Text, units("@"), None),
            _ => {
                let mut value = Vec::new();
                if c == u('$') || c == u('^') {
                    value.push(u('\\'));
                }
                value.push(c);
                let run = non_special_run(self.remaining());
                value.extend_from_slice(&self.remaining()[..run]);
                self.index += run as isize;
                self.push(Kind::Text, value, None);
            }
        }
        Ok(())
    }

    fn in_bracket(&mut self, c: u16, opening: bool) -> Result<(), Refusal> {
        if c == u('[') {
            return Err(Refusal(Cow::Borrowed(
                "'[' inside a character class (POSIX classes like [[:alpha:]]) is not supported",
            )));
        }
        let mut value = Vec::new();
        if (c == u('-') && self.peek(1) == Some(u(']'))) || (c == u(']') && opening) {
            value.push(u('\\'));
        }
        value.push(c);
        self.output.extend_from_slice(&value);
        self.arena[self.prev].value.extend_from_slice(&value);
        Ok(())
    }

    fn close_bracket(&mut self) {
        let p = self.prev_tok();
        if self.brackets == 0 || (p.kind == Kind::Bracket && p.value.len() == 1) {
            self.push(Kind::Text, units("]"), Some(units("\\]")));
            return;
        }
        self.brackets -= 1;
        self.stack.pop();
        let inner: Vec<u16> = self.prev_tok().value.get(1..).unwrap_or(&[]).to_vec();
        let mut value = Vec::new();
        if inner.first() == Some(&u('^')) && !contains(&inner, '/') {
            value.push(u('/'));
        }
        value.push(u(']'));
        self.output.extend_from_slice(&value);
        self.arena[self.prev].value.extend_from_slice(&value);

        if inner.iter().any(|&c| is_regex_special(c)) {
            return;
        }
        let whole = self.prev_tok().value.clone();
        slice_neg(&mut self.output, whole.len());
        let mut alt = units("(?:");
        alt.extend(escape_regex(&whole));
        alt.push(u('|'));
        alt.extend_from_slice(&whole);
        alt.push(u(')'));
        self.output.extend_from_slice(&alt);
        self.arena[self.prev].value = alt;
    }

    fn close_brace(&mut self) -> Result<(), Refusal> {
        let Some(brace) = self.braces.last().cloned() else {
            self.push(Kind::Text, units("}"), Some(units("}")));
            return Ok(());
        };
        let mut value = units("}");
        let mut output = units(")");

        if brace.dots {
            let mut range: Vec<Vec<u16>> = Vec::new();
            while let Some(t) = self.tokens.pop() {
                let tok = &self.arena[t];
                if tok.kind == Kind::Brace {
                    break;
                }
                if tok.kind != Kind::Dots {
                    if tok.kind != Kind::Text {
                        return Err(Refusal(Cow::Borrowed(
                            "brace ranges may only hold plain text, like {1..3} or {a..f}",
                        )));
                    }
                    range.insert(0, tok.value.clone());
                }
            }
            output = expand_range(range);
            self.backtrack = true;
        }

        if !brace.comma && !brace.dots {
            let mut out = self.output.get(..brace.output_index).unwrap_or(&[]).to_vec();
            let b = &mut self.arena[brace.token];
            b.value = units("\\{");
            b.output = Some(units("\\{"));
            value = units("\\}");
            output = units("\\}");
            for &t in self.tokens.iter().skip(brace.tokens_index) {
                let tok = &self.arena[t];
                // picomatch uses `t.output || t.value` here: an empty output falls back.
                match &tok.output {
                    Some(o) if !o.is_empty() => out.extend_from_slice(o),
                    _ => out.extend_from_slice(&tok.value),
                }
            }
            self.output = out;
        }

        self.push(Kind::Brace, value, Some(output));
        self.braces_depth = self.braces_depth.saturating_sub(1);
        self.stack.pop();
        self.braces.pop();
        Ok(())
    }

    fn dot(&mut self) {
        if self.braces_depth > 0 && self.prev_tok().kind == Kind::Dot {
            let p = &mut self.arena[self.prev];
            if p.value == units(".") {
                p.output = Some(units(DOT_LITERAL));
            }
            p.kind = Kind::Dots;
            let mut o = p.output.take().unwrap_or_default();
            o.push(u('.'));
            p.output = Some(o);
            p.value.push(u('.'));
            if let Some(b) = self.braces.last_mut() {
                b.dots = true;
            }
            return;
        }
        if self.braces_depth == 0 && !matches!(self.prev_tok().kind, Kind::Bos | Kind::Slash) {
            self.push(Kind::Text, units("."), Some(units(DOT_LITERAL)));
            return;
        }
        self.push(Kind::Dot, units("."), Some(units(DOT_LITERAL)));
    }

    fn star(&mut self) {
        let star = units(STAR);
        let prev_kind = self.prev_tok().kind;
        if prev_kind == Kind::Globstar || self.prev_tok().star {
            let p = &mut self.arena[self.prev];
            p.kind = Kind::Star;
            p.star = true;
            p.value.push(u('*'));
            p.output = Some(star);
            self.backtrack = true;
            return;
        }

        if prev_kind == Kind::Star {
            self.double_star();
            return;
        }

        let prev_is_dot = prev_kind == Kind::Dot;
        if self.index == self.start || prev_kind == Kind::Slash || prev_is_dot {
            let mut add = units(if prev_is_dot { NO_DOT_SLASH } else { NO_DOT });
            if self.peek(1) != Some(u('*')) {
                add.extend(units(ONE_CHAR));
            }
            self.output.extend_from_slice(&add);
            let p = &mut self.arena[self.prev];
            let mut o = p.output.take().unwrap_or_default();
            o.extend(add);
            p.output = Some(o);
        }
        self.push(Kind::Star, units("*"), Some(star));
    }

    fn double_star(&mut self) {
        let prev = self.prev;
        let prior = self.arena[prev].prev;
        let before = self.arena[prior].prev;
        let prior_kind = self.arena[prior].kind;
        let is_start = matches!(prior_kind, Kind::Slash | Kind::Bos);
        let after_star = prior != 0 && matches!(self.arena[before].kind, Kind::Star | Kind::Globstar);
        let is_brace = self.braces_depth > 0 && matches!(prior_kind, Kind::Comma | Kind::Brace);
        if !is_start && !is_brace {
            self.push(Kind::Star, units("*"), Some(Vec::new()));
            return;
        }

        let slash_star = units("/**");
        let mut rest_from = (self.index + 1) as usize;
        while self.input.get(rest_from..rest_from + 3) == Some(slash_star.as_slice()) {
            let after = self.at(self.index + 4);
            if after.is_some_and(|a| a != u('/')) {
                break;
            }
            rest_from += 3;
            self.index += 3;
        }
        let rest0 = self.input.get(rest_from).copied();
        let rest1 = self.input.get(rest_from + 1).copied();
        let prior_prev_is_bos = self.arena[self.arena[prior].prev].kind == Kind::Bos;
        let globstar = units(GLOBSTAR);

        if prior_kind == Kind::Bos && self.eos() {
            let p = &mut self.arena[prev];
            p.kind = Kind::Globstar;
            p.value.push(u('*'));
            p.output = Some(globstar.clone());
            self.output = globstar;
            return;
        }

        let cut =
            |s: &Self| Self::emitted(s.tok(prior)).len() + s.tok(prev).output.as_ref().map_or(0, Vec::len);

        if prior_kind == Kind::Slash && !prior_prev_is_bos && !after_star && self.eos() {
            let n = cut(self);
            slice_neg(&mut self.output, n);
            let mut po = units("(?:");
            po.extend_from_slice(Self::emitted(self.tok(prior)));
            self.arena[prior].output = Some(po.clone());
            let mut out = globstar;
            out.extend(units("|$)"));
            let p = &mut self.arena[prev];
            p.kind = Kind::Globstar;
            p.output = Some(out.clone());
            p.value.push(u('*'));
            self.output.extend(po);
            self.output.extend(out);
            return;
        }

        if prior_kind == Kind::Slash && !prior_prev_is_bos && rest0 == Some(u('/')) {
            let end = if rest1.is_some() { "|$" } else { "" };
            let n = cut(self);
            slice_neg(&mut self.output, n);
            let mut po = units("(?:");
            po.extend_from_slice(Self::emitted(self.tok(prior)));
            self.arena[prior].output = Some(po.clone());
            let mut out = globstar;
            out.extend(units(&format!("{SLASH_LITERAL}|{SLASH_LITERAL}{end})")));
            let p = &mut self.arena[prev];
            p.kind = Kind::Globstar;
            p.output = Some(out.clone());
            p.value.push(u('*'));
            self.output.extend(po);
            self.output.extend(out);
            self.advance();
            self.push(Kind::Slash, units("/"), Some(Vec::new()));
            return;
        }

        if prior_kind == Kind::Bos && rest0 == Some(u('/')) {
            let mut out = units(&format!("(?:^|{SLASH_LITERAL}|"));
            out.extend(globstar);
            out.extend(units(&format!("{SLASH_LITERAL})")));
            let p = &mut self.arena[prev];
            p.kind = Kind::Globstar;
            p.value.push(u('*'));
            p.output = Some(out.clone());
            self.output = out;
            self.advance();
            self.push(Kind::Slash, units("/"), Some(Vec::new()));
            return;
        }

        let n = self.tok(prev).output.as_ref().map_or(0, Vec::len);
        slice_neg(&mut self.output, n);
        let p = &mut self.arena[prev];
        p.kind = Kind::Globstar;
        p.output = Some(globstar.clone());
        p.value.push(u('*'));
        self.output.extend(globstar);
    }
}

/// The full regex source picomatch would compile (`^(?:…)$`, wrapped again when negated).
pub(crate) fn translate(pattern: &str) -> Result<Vec<u16>, Refusal> {
    for c in pattern.chars() {
        if let Some(why) = refuse_up_front(c) {
            return Err(Refusal(Cow::Owned(format!("{why} (found {c:?})"))));
        }
    }
    let input = units(pattern);
    let (output, negated) = Parser::new(&input).run()?;
    let mut source = units("^(?:");
    source.extend(output);
    source.extend(units(")$"));
    if negated {
        let mut wrapped = units("^(?!");
        wrapped.extend(source);
        wrapped.extend(units(").*$"));
        source = wrapped;
    }
    Ok(source)
}

#[cfg(test)]
mod tests;
