//! CQL2 text: a lexer and a recursive-descent parser into [`Expr`].
//!
//! Precedence, loosest first: `OR`, `AND`, `NOT`, predicates (comparisons, `LIKE`, `IN`,
//! `BETWEEN`, `IS NULL`, the `S_`/`T_`/`A_` functions), `+ -`, `* / % div`, `^`, unary `-`.
use super::ast::{
    bbox, date, geometry, interval_end, timestamp, ArithOp, ArrayOp, CmpOp, Expr, Geom, Lit,
    Nested, Operand, SpatialOp, TemporalOp,
};
use super::error::{bad, CqlResult};

/// The longest filter read, in bytes.
pub const MAX_LEN: usize = 20_000;
/// The deepest nesting of parentheses and function calls.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Str(String),
    Num(f64),
    /// A comparison operator.
    Cmp(CmpOp),
    /// `+ - * / ^ %`
    Arith(char),
    LParen,
    RParen,
    Comma,
    LBracket,
    RBracket,
}

fn tokenize(s: &str) -> CqlResult<Vec<Tok>> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        match ch {
            '(' => out.push(Tok::LParen),
            ')' => out.push(Tok::RParen),
            ',' => out.push(Tok::Comma),
            '[' => out.push(Tok::LBracket),
            ']' => out.push(Tok::RBracket),
            '+' | '-' | '*' | '/' | '^' | '%' => out.push(Tok::Arith(ch)),
            '=' => out.push(Tok::Cmp(CmpOp::Eq)),
            '<' | '>' | '!' => {
                let next = c.get(i + 1).copied();
                let (op, two) = match (ch, next) {
                    ('<', Some('>')) | ('!', Some('=')) => (CmpOp::Ne, true),
                    ('<', Some('=')) => (CmpOp::Le, true),
                    ('>', Some('=')) => (CmpOp::Ge, true),
                    ('<', _) => (CmpOp::Lt, false),
                    ('>', _) => (CmpOp::Gt, false),
                    _ => return Err(bad(format!("unexpected '!' at character {}", i + 1))),
                };
                if two {
                    i += 1;
                }
                out.push(Tok::Cmp(op));
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err(bad("a string literal is not closed (missing ')")),
                        Some('\'') if c.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 1;
                        }
                        Some('\'') => break,
                        Some(x) => s.push(*x),
                    }
                    i += 1;
                }
                out.push(Tok::Str(s));
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => {
                            return Err(bad("a quoted property name is not closed (missing \")"))
                        }
                        Some('"') => break,
                        Some(x) => s.push(*x),
                    }
                    i += 1;
                }
                out.push(Tok::Quoted(s));
            }
            // Numbers are unsigned here: a sign is an operator (`balance-150.0` is a subtraction).
            _ if ch.is_ascii_digit()
                || (ch == '.' && c.get(i + 1).is_some_and(|n| n.is_ascii_digit())) =>
            {
                let start = i;
                i += 1;
                while i < c.len()
                    && (c[i].is_ascii_digit()
                        || c[i] == '.'
                        || ((c[i] == 'e' || c[i] == 'E')
                            && c.get(i + 1)
                                .is_some_and(|n| n.is_ascii_digit() || *n == '-' || *n == '+'))
                        || ((c[i] == '-' || c[i] == '+') && matches!(c[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
                let text: String = c[start..i].iter().collect();
                let n = text
                    .parse::<f64>()
                    .map_err(|_| bad(format!("{text:?} is not a number")))?;
                out.push(Tok::Num(n));
                continue;
            }
            _ if ch.is_alphabetic() || ch == '_' => {
                let start = i;
                while i < c.len()
                    && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == ':' || c[i] == '.')
                {
                    i += 1;
                }
                out.push(Tok::Ident(c[start..i].iter().collect()));
                continue;
            }
            _ => {
                return Err(bad(format!(
                    "unexpected character {ch:?} at position {}",
                    i + 1
                )))
            }
        }
        i += 1;
    }
    Ok(out)
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Ident(w) => w.clone(),
        Tok::Quoted(w) => format!("\"{w}\""),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Num(n) => n.to_string(),
        Tok::Cmp(o) => o.sql().to_owned(),
        Tok::Arith(c) => format!("'{c}'"),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Comma => "','".into(),
        Tok::LBracket => "'['".into(),
        Tok::RBracket => "']'".into(),
    }
}

const GEOMETRY_TYPES: [&str; 7] = [
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
];

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn kw(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word))
    }
    fn eat_kw(&mut self, word: &str) -> bool {
        if self.kw(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, t: Tok, what: &str) -> CqlResult<()> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            Some(x) => Err(bad(format!("expected {what}, found {}", show(&x)))),
            None => Err(bad(format!("expected {what}, but the filter ended"))),
        }
    }
    fn enter(&mut self) -> CqlResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(bad("the filter is nested too deeply"));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ------------------------------------------------------------ boolean expressions

    fn or(&mut self) -> CqlResult<Expr> {
        let mut items = vec![self.and()?];
        while self.eat_kw("OR") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> CqlResult<Expr> {
        let mut items = vec![self.not()?];
        while self.eat_kw("AND") {
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::And(items)
        })
    }

    fn not(&mut self) -> CqlResult<Expr> {
        if self.eat_kw("NOT") {
            self.enter()?;
            let e = self.not()?;
            self.leave();
            return Ok(Expr::Not(Box::new(e)));
        }
        self.predicate()
    }

    /// Whether the next token continues a scalar expression or starts a comparison.
    fn continues_scalar(&self) -> bool {
        match self.peek() {
            Some(Tok::Cmp(_) | Tok::Arith(_)) => true,
            Some(Tok::Ident(w)) => {
                ["LIKE", "ILIKE", "IN", "BETWEEN", "IS", "DIV"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k))
                    || (w.eq_ignore_ascii_case("NOT")
                        && matches!(self.peek_at(1), Some(Tok::Ident(n))
                        if ["LIKE", "ILIKE", "IN", "BETWEEN"].iter().any(|k| n.eq_ignore_ascii_case(k))))
            }
            _ => false,
        }
    }

    fn predicate(&mut self) -> CqlResult<Expr> {
        if self.peek() == Some(&Tok::LParen) {
            // A parenthesised condition, unless it is an arithmetic expression that a
            // comparison follows: `(a + 1) > b`.
            let (start, depth) = (self.pos, self.depth);
            self.enter()?;
            self.pos += 1;
            let grouped = self
                .or()
                .and_then(|e| self.expect(Tok::RParen, "')'").map(|_| e));
            self.leave();
            match grouped {
                Ok(e) if !self.continues_scalar() => return Ok(e),
                Ok(_) => (self.pos, self.depth) = (start, depth),
                Err(first) => {
                    (self.pos, self.depth) = (start, depth);
                    return self.comparison().map_err(|_| first);
                }
            }
        }
        if let Some(Tok::Ident(w)) = self.peek() {
            let lw = w.to_ascii_lowercase();
            if self.peek_at(1) == Some(&Tok::LParen) {
                if let Some(f) = SpatialOp::from_name(&lw) {
                    let (a, b) = self.two_args()?;
                    return Ok(Expr::Spatial(f, a, b));
                }
                if let Some(f) = TemporalOp::from_name(&lw) {
                    let (a, b) = self.two_args()?;
                    return Ok(Expr::Temporal(f, a, b));
                }
                if let Some(f) = ArrayOp::from_name(&lw) {
                    let (a, b) = self.two_args()?;
                    return Ok(Expr::Array(f, a, b));
                }
            }
            if lw == "true" || lw == "false" {
                // A bare boolean, unless it starts a comparison.
                self.pos += 1;
                if !self.continues_scalar() {
                    return Ok(Expr::Bool(lw == "true"));
                }
                self.pos -= 1;
            }
        }
        self.comparison()
    }

    /// `NAME(a, b)` for the two-argument predicate functions.
    fn two_args(&mut self) -> CqlResult<(Operand, Operand)> {
        let name = match self.next() {
            Some(Tok::Ident(w)) => w.to_uppercase(),
            _ => unreachable!("called on a function name"),
        };
        self.pos += 1;
        self.enter()?;
        let a = self.scalar()?;
        self.expect(
            Tok::Comma,
            &format!("',' between the two arguments of {name}"),
        )?;
        let b = self.scalar()?;
        self.expect(
            Tok::RParen,
            &format!("')' after the two arguments of {name}"),
        )?;
        self.leave();
        Ok((a, b))
    }

    fn comparison(&mut self) -> CqlResult<Expr> {
        let left = self.scalar()?;
        let negated = match self.peek_at(1) {
            Some(Tok::Ident(n))
                if self.kw("NOT")
                    && ["LIKE", "ILIKE", "IN", "BETWEEN"]
                        .iter()
                        .any(|k| n.eq_ignore_ascii_case(k)) =>
            {
                self.pos += 1;
                true
            }
            _ => false,
        };
        let not = |e: Expr| {
            if negated {
                Expr::Not(Box::new(e))
            } else {
                e
            }
        };
        match self.peek().cloned() {
            Some(Tok::Cmp(op)) => {
                self.pos += 1;
                let right = self.scalar()?;
                Ok(Expr::Cmp(op, left, right))
            }
            Some(Tok::Ident(w))
                if w.eq_ignore_ascii_case("LIKE") || w.eq_ignore_ascii_case("ILIKE") =>
            {
                self.pos += 1;
                let pattern = self.scalar()?;
                Ok(not(Expr::Like {
                    value: left,
                    pattern,
                    insensitive: w.eq_ignore_ascii_case("ILIKE"),
                }))
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("IN") => {
                self.pos += 1;
                self.expect(Tok::LParen, "'(' after IN")?;
                self.enter()?;
                let list = self.list(Tok::RParen, "')' closing the IN list")?;
                self.leave();
                if list.is_empty() {
                    return Err(bad("IN needs at least one value"));
                }
                Ok(not(Expr::In(left, list)))
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("BETWEEN") => {
                self.pos += 1;
                let lo = self.scalar()?;
                if !self.eat_kw("AND") {
                    return Err(bad("BETWEEN needs AND: x BETWEEN low AND high"));
                }
                let hi = self.scalar()?;
                Ok(not(Expr::Between(left, lo, hi)))
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("IS") => {
                self.pos += 1;
                let is_not = self.eat_kw("NOT");
                if !self.eat_kw("NULL") {
                    return Err(bad("expected NULL after IS"));
                }
                let e = Expr::IsNull(left);
                Ok(if is_not { Expr::Not(Box::new(e)) } else { e })
            }
            _ => match left {
                Operand::Prop(_) | Operand::Call(..) => Ok(Expr::Pred(left)),
                _ => Err(bad(match self.peek() {
                    Some(t) => format!(
                        "expected a comparison, LIKE, IN, BETWEEN or IS NULL, found {}",
                        show(t)
                    ),
                    None => "the filter ended where a comparison was expected".into(),
                })),
            },
        }
    }

    // ------------------------------------------------------------ scalar expressions

    /// Comma-separated expressions up to `close` (consumed).
    fn list(&mut self, close: Tok, what: &str) -> CqlResult<Vec<Operand>> {
        let mut items = Vec::new();
        if self.eat(&close) {
            return Ok(items);
        }
        loop {
            items.push(self.scalar()?);
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(t) if t == close => return Ok(items),
                Some(t) => return Err(bad(format!("expected ',' or {what}, found {}", show(&t)))),
                None => return Err(bad(format!("expected {what}, but the filter ended"))),
            }
        }
    }

    fn scalar(&mut self) -> CqlResult<Operand> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Arith('+')) => ArithOp::Add,
                Some(Tok::Arith('-')) => ArithOp::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.term()?;
            left = Operand::Arith(op, Box::new(left), Box::new(right));
        }
    }

    fn term(&mut self) -> CqlResult<Operand> {
        let mut left = self.power()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Arith('*')) => ArithOp::Mul,
                Some(Tok::Arith('/')) => ArithOp::Div,
                Some(Tok::Arith('%')) => ArithOp::Mod,
                Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("div") => ArithOp::IntDiv,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.power()?;
            left = Operand::Arith(op, Box::new(left), Box::new(right));
        }
    }

    fn power(&mut self) -> CqlResult<Operand> {
        let base = self.unary()?;
        if self.eat(&Tok::Arith('^')) {
            self.enter()?;
            let exp = self.power()?;
            self.leave();
            return Ok(Operand::Arith(ArithOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn unary(&mut self) -> CqlResult<Operand> {
        match self.peek() {
            Some(Tok::Arith('-')) => {
                self.pos += 1;
                self.enter()?;
                let x = self.unary()?;
                self.leave();
                Ok(match x {
                    Operand::Lit(Lit::Num(n)) => Operand::Lit(Lit::Num(-n)),
                    // `-foo` is `-1 * foo`, as the standard writes it in JSON.
                    x => Operand::Arith(
                        ArithOp::Mul,
                        Box::new(Operand::Lit(Lit::Num(-1.0))),
                        Box::new(x),
                    ),
                })
            }
            Some(Tok::Arith('+')) => {
                self.pos += 1;
                self.unary()
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> CqlResult<Operand> {
        let t = self
            .next()
            .ok_or_else(|| bad("the filter ended where a value or property was expected"))?;
        match t {
            Tok::Str(s) => Ok(Operand::Lit(Lit::Str(s))),
            Tok::Num(n) => Ok(Operand::Lit(Lit::Num(n))),
            Tok::Quoted(p) => Ok(Operand::Prop(p)),
            Tok::LParen | Tok::LBracket => {
                // `(expression)` or a list `('a', 'b')`.
                let close = if t == Tok::LParen {
                    Tok::RParen
                } else {
                    Tok::RBracket
                };
                self.enter()?;
                let mut items = self.list(close.clone(), &show(&close))?;
                self.leave();
                Ok(if items.len() == 1 && close == Tok::RParen {
                    items.pop().unwrap()
                } else {
                    Operand::Array(items)
                })
            }
            Tok::Ident(w) => self.word(w),
            other => Err(bad(format!(
                "expected a value or property, found {}",
                show(&other)
            ))),
        }
    }

    /// A keyword literal, a function call or a property name (already consumed).
    fn word(&mut self, w: String) -> CqlResult<Operand> {
        let lw = w.to_ascii_lowercase();
        let call = self.peek() == Some(&Tok::LParen);
        if GEOMETRY_TYPES.contains(&lw.as_str()) {
            return Ok(Operand::Lit(Lit::Geom(self.wkt(&lw)?)));
        }
        if !call {
            return Ok(match lw.as_str() {
                "true" | "false" => Operand::Lit(Lit::Bool(lw == "true")),
                _ => Operand::Prop(w),
            });
        }
        self.pos += 1;
        self.enter()?;
        let out = match lw.as_str() {
            "timestamp" => Operand::Lit(timestamp(&self.string_arg("TIMESTAMP")?)?),
            "date" => Operand::Lit(date(&self.string_arg("DATE")?)?),
            "interval" => {
                let a = self.interval_end()?;
                self.expect(Tok::Comma, "',' in INTERVAL")?;
                let b = self.interval_end()?;
                self.expect(Tok::RParen, "')' closing INTERVAL")?;
                Operand::Interval(Box::new(a), Box::new(b))
            }
            "casei" | "accenti" => {
                let inner = self.scalar()?;
                self.expect(Tok::RParen, &format!("')' closing {}", w.to_uppercase()))?;
                if lw == "casei" {
                    Operand::Casei(Box::new(inner))
                } else {
                    Operand::Accenti(Box::new(inner))
                }
            }
            "bbox" => {
                let n = self.numbers("BBOX takes 4 numbers: BBOX(west, south, east, north)")?;
                Operand::Lit(Lit::BBox(bbox(&n)?))
            }
            "envelope" => {
                let n =
                    self.numbers("ENVELOPE takes 4 numbers: ENVELOPE(west, east, north, south)")?;
                if n.len() != 4 {
                    return Err(bad(
                        "ENVELOPE takes 4 numbers: ENVELOPE(west, east, north, south)",
                    ));
                }
                Operand::Lit(Lit::BBox(bbox(&[n[0], n[3], n[1], n[2]])?))
            }
            _ => Operand::Call(w, self.list(Tok::RParen, "')' closing the arguments")?),
        };
        self.leave();
        Ok(out)
    }

    /// `'text')` after a function name and its `(`.
    fn string_arg(&mut self, what: &str) -> CqlResult<String> {
        let s = match self.next() {
            Some(Tok::Str(s)) => s,
            _ => {
                return Err(bad(format!(
                    "{what} takes a quoted string, e.g. {what}('2024-01-01')"
                )))
            }
        };
        self.expect(Tok::RParen, "')'")?;
        Ok(s)
    }

    fn interval_end(&mut self) -> CqlResult<Operand> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let lit = interval_end(s)?;
                self.pos += 1;
                Ok(Operand::Lit(lit))
            }
            Some(Tok::Ident(_) | Tok::Quoted(_)) => self.scalar(),
            _ => Err(bad(
                "INTERVAL takes two times, dates, '..' or properties: INTERVAL('2024-01-01', '..')",
            )),
        }
    }

    /// An optionally signed number.
    fn number(&mut self) -> Option<f64> {
        let sign = match self.peek() {
            Some(Tok::Arith('-')) => -1.0,
            Some(Tok::Arith('+')) => 1.0,
            Some(Tok::Num(n)) => {
                let n = *n;
                self.pos += 1;
                return Some(n);
            }
            _ => return None,
        };
        match self.peek_at(1) {
            Some(Tok::Num(n)) => {
                let n = *n;
                self.pos += 2;
                Some(sign * n)
            }
            _ => None,
        }
    }

    /// `n, n, ...)` after a function name and its `(`.
    fn numbers(&mut self, usage: &str) -> CqlResult<Vec<f64>> {
        let mut n = Vec::new();
        loop {
            n.push(self.number().ok_or_else(|| bad(usage))?);
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::RParen) => return Ok(n),
                _ => return Err(bad(usage)),
            }
        }
    }

    /// The rest of a WKT literal after its type name.
    fn wkt(&mut self, kind: &str) -> CqlResult<Geom> {
        self.eat_kw("Z");
        if self.kw("M") || self.kw("ZM") {
            return Err(bad("geometry literals with measures (M) are not supported"));
        }
        if self.eat_kw("EMPTY") {
            return Err(bad(format!(
                "{} EMPTY matches nothing; give coordinates",
                kind.to_uppercase()
            )));
        }
        self.enter()?;
        let g = if kind == "geometrycollection" {
            self.expect(Tok::LParen, "'(' after GEOMETRYCOLLECTION")?;
            let mut parts = Vec::new();
            loop {
                match self.next() {
                    Some(Tok::Ident(w)) if GEOMETRY_TYPES.contains(&w.to_ascii_lowercase().as_str()) => {
                        parts.push(self.wkt(&w.to_ascii_lowercase())?);
                    }
                    _ => return Err(bad("a GEOMETRYCOLLECTION holds geometries: GEOMETRYCOLLECTION(POINT(1 2), ...)")),
                }
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::RParen) => break,
                    _ => return Err(bad("a geometry literal is malformed (expected ',' or ')')")),
                }
            }
            Geom::Collection(parts)
        } else {
            let c = self.nested()?;
            geometry(kind, &c)?
        };
        self.leave();
        Ok(g)
    }

    /// `(` either positions `x y [z], ...` or nested lists `)`.
    fn nested(&mut self) -> CqlResult<Nested> {
        self.expect(Tok::LParen, "'(' in a geometry")?;
        self.enter()?;
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(&Tok::LParen) {
                items.push(self.nested()?);
            } else {
                let mut pos = Vec::new();
                while let Some(n) = self.number() {
                    pos.push(n);
                }
                if pos.is_empty() {
                    return Err(bad("a geometry literal is malformed"));
                }
                items.push(Nested::Pos(pos));
            }
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::RParen) => break,
                _ => return Err(bad("a geometry literal is malformed (expected ',' or ')')")),
            }
        }
        self.leave();
        Ok(Nested::List(items))
    }
}

/// Parses CQL2 text.
pub fn parse_text(s: &str) -> CqlResult<Expr> {
    if s.len() > MAX_LEN {
        return Err(bad("the filter is too long (at most 20,000 characters)"));
    }
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return Err(bad("the filter is empty"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    if let Some(t) = p.peek() {
        return Err(bad(format!(
            "unexpected {} after the end of the expression",
            show(t)
        )));
    }
    Ok(e)
}
