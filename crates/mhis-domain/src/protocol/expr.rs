//! The condition language of protocol files: parsing a `when = "…"` string
//! into a syntax tree, and compiling that tree, once at load, into a
//! [`Cond`] that evaluates without allocating or looking anything up by name.
//!
//! Grammar (keywords are lower case; names are vocabulary codes, `age`, `sex`,
//! or the name of an included sub-algorithm):
//!
//! ```text
//! expr     := and ("or" and)*
//! and      := unary ("and" unary)*
//! unary    := "not" unary | primary
//! primary  := "(" expr ")" | "true" | "false"
//!           | "any" "(" expr ("," expr)* ")" | "all" "(" expr ("," expr)* ")"
//!           | "absent" "(" code ")" | "present" "(" code ")" | "required" "(" due-id ")"
//!           | name op literal | name "in" list | name "not" "in" list
//! op       := "=" | "!=" | ">=" | ">" | "<=" | "<"
//! list     := "[" literal ("," literal)* "]"
//! literal  := word | number | "true" | "false"
//! ```
//!
//! A comparison with a code that is not recorded is false, whatever the
//! operator: `tb.previous != none` holds only when `tb.previous` is recorded
//! with another value. Write `not (tb.previous = none)` to include "not
//! recorded", or `absent(code)` to test for it.

use super::facts::{CodeKind, CodeTable, Fact, Facts};
use crate::migrant::Sex;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Ge,
    Gt,
    Le,
    Lt,
}

impl Op {
    fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Eq => left == right,
            Op::Ne => left != right,
            Op::Ge => left >= right,
            Op::Gt => left > right,
            Op::Le => left <= right,
            Op::Lt => left < right,
        }
    }
}

/// A literal of the language.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Word(String),
    Num(f64),
    Bool(bool),
}

impl Lit {
    fn describe(&self) -> String {
        match self {
            Lit::Word(w) => format!("'{w}'"),
            Lit::Num(n) => n.to_string(),
            Lit::Bool(b) => b.to_string(),
        }
    }
}

/// A function of the language that takes one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Absent,
    Present,
    Required,
}

/// The syntax tree of a condition; offsets are byte offsets into its text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ast {
    Const(bool),
    Not(Box<Ast>),
    And(Vec<Ast>),
    Or(Vec<Ast>),
    Cmp {
        name: String,
        at: usize,
        op: Op,
        lit: Lit,
        lit_at: usize,
    },
    In {
        name: String,
        at: usize,
        lits: Vec<(Lit, usize)>,
        negated: bool,
    },
    Call {
        func: Func,
        arg: String,
        at: usize,
    },
}

/// A fault in a condition, at a byte offset of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExprError {
    pub at: usize,
    pub message: String,
}

impl ExprError {
    fn new(at: usize, message: impl Into<String>) -> Self {
        Self {
            at,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Num(f64),
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
    Op(Op),
}

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => out.push((Tok::LParen, start)),
            b')' => out.push((Tok::RParen, start)),
            b'[' => out.push((Tok::LBrack, start)),
            b']' => out.push((Tok::RBrack, start)),
            b',' => out.push((Tok::Comma, start)),
            b'=' => {
                // `==` is accepted as a synonym of `=`.
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 1;
                }
                out.push((Tok::Op(Op::Eq), start));
            }
            b'!' | b'>' | b'<' => {
                let eq = bytes.get(i + 1) == Some(&b'=');
                let op = match (c, eq) {
                    (b'!', true) => Op::Ne,
                    (b'>', true) => Op::Ge,
                    (b'>', false) => Op::Gt,
                    (b'<', true) => Op::Le,
                    (b'<', false) => Op::Lt,
                    _ => return Err(ExprError::new(start, "'!' must be followed by '='")),
                };
                if eq {
                    i += 1;
                }
                out.push((Tok::Op(op), start));
            }
            b'0'..=b'9' | b'-' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                let raw = &text[start..i];
                let n: f64 = raw
                    .parse()
                    .map_err(|_| ExprError::new(start, format!("'{raw}' is not a number")))?;
                out.push((Tok::Num(n), start));
                continue;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.' | b'-'))
                {
                    i += 1;
                }
                out.push((Tok::Word(text[start..i].to_owned()), start));
                continue;
            }
            _ => {
                let ch = text[start..].chars().next().unwrap_or('?');
                return Err(ExprError::new(
                    start,
                    format!("unexpected character '{ch}'"),
                ));
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Deepest nesting of parentheses, `not`, `any` and `all` accepted; it
/// bounds the recursion of the parser and of evaluation.
const MAX_DEPTH: usize = 32;

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(_, a)| *a)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), ExprError> {
        if self.peek() == Some(&tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(ExprError::new(self.at(), format!("expected {what}")))
        }
    }

    fn expr(&mut self) -> Result<Ast, ExprError> {
        let mut items = vec![self.and()?];
        while self.is_word("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Ast::Const(false))
        } else {
            Ast::Or(items)
        })
    }

    fn and(&mut self) -> Result<Ast, ExprError> {
        let mut items = vec![self.unary()?];
        while self.is_word("and") {
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Ast::Const(true))
        } else {
            Ast::And(items)
        })
    }

    fn unary(&mut self) -> Result<Ast, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(
                self.at(),
                format!("the condition nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        let ast = if self.is_word("not") {
            self.pos += 1;
            self.unary().map(|a| Ast::Not(Box::new(a)))
        } else {
            self.primary()
        };
        self.depth -= 1;
        ast
    }

    fn list_of_exprs(&mut self) -> Result<Vec<Ast>, ExprError> {
        self.expect(Tok::LParen, "'('")?;
        let mut items = vec![self.expr()?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            items.push(self.expr()?);
        }
        self.expect(Tok::RParen, "',' or ')'")?;
        Ok(items)
    }

    fn primary(&mut self) -> Result<Ast, ExprError> {
        let at = self.at();
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(e)
            }
            Some(Tok::Word(w)) => {
                self.pos += 1;
                let next_is_paren = self.peek() == Some(&Tok::LParen);
                match w.as_str() {
                    "true" => Ok(Ast::Const(true)),
                    "false" => Ok(Ast::Const(false)),
                    "and" | "or" | "in" | "not" => Err(ExprError::new(
                        at,
                        format!("expected a condition, found '{w}'"),
                    )),
                    "any" if next_is_paren => Ok(Ast::Or(self.list_of_exprs()?)),
                    "all" if next_is_paren => Ok(Ast::And(self.list_of_exprs()?)),
                    "absent" | "present" | "required" if next_is_paren => {
                        let func = match w.as_str() {
                            "absent" => Func::Absent,
                            "present" => Func::Present,
                            _ => Func::Required,
                        };
                        self.pos += 1;
                        let arg_at = self.at();
                        let Some(Tok::Word(arg)) = self.peek().cloned() else {
                            return Err(ExprError::new(arg_at, format!("{w}() takes a name")));
                        };
                        self.pos += 1;
                        self.expect(Tok::RParen, "')'")?;
                        Ok(Ast::Call {
                            func,
                            arg,
                            at: arg_at,
                        })
                    }
                    _ => self.comparison(w, at),
                }
            }
            Some(_) => Err(ExprError::new(at, "expected a condition")),
            None => Err(ExprError::new(at, "the condition ends too early")),
        }
    }

    fn comparison(&mut self, name: String, at: usize) -> Result<Ast, ExprError> {
        let negated = self.is_word("not");
        if negated {
            self.pos += 1;
            if !self.is_word("in") {
                return Err(ExprError::new(self.at(), "expected 'in' after 'not'"));
            }
        }
        if self.is_word("in") {
            self.pos += 1;
            self.expect(Tok::LBrack, "'['")?;
            let mut lits = vec![self.literal()?];
            while self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                lits.push(self.literal()?);
            }
            self.expect(Tok::RBrack, "',' or ']'")?;
            return Ok(Ast::In {
                name,
                at,
                lits,
                negated,
            });
        }
        let Some(Tok::Op(op)) = self.peek().cloned() else {
            return Err(ExprError::new(
                self.at(),
                format!("expected an operator (=, !=, >=, >, <=, <, in) after '{name}'"),
            ));
        };
        self.pos += 1;
        let (lit, lit_at) = self.literal()?;
        Ok(Ast::Cmp {
            name,
            at,
            op,
            lit,
            lit_at,
        })
    }

    fn literal(&mut self) -> Result<(Lit, usize), ExprError> {
        let at = self.at();
        let lit = match self.peek().cloned() {
            Some(Tok::Num(n)) => Lit::Num(n),
            Some(Tok::Word(w)) if w == "true" => Lit::Bool(true),
            Some(Tok::Word(w)) if w == "false" => Lit::Bool(false),
            Some(Tok::Word(w)) => Lit::Word(w),
            _ => return Err(ExprError::new(at, "expected a value")),
        };
        self.pos += 1;
        Ok((lit, at))
    }
}

/// Parses a condition.
pub(crate) fn parse(text: &str) -> Result<Ast, ExprError> {
    let toks = lex(text)?;
    let mut p = Parser {
        toks,
        pos: 0,
        end: text.len(),
        depth: 0,
    };
    let ast = p.expr()?;
    if p.pos < p.toks.len() {
        return Err(ExprError::new(
            p.at(),
            "unexpected text after the condition (missing 'and' or 'or'?)",
        ));
    }
    Ok(ast)
}

/// What a compiled condition reads; listed in a decision's reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    Code(u16),
    Age,
    Sex,
    Algorithm(u8),
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Const(bool),
    Not(Box<Cond>),
    All(Box<[Cond]>),
    Any(Box<[Cond]>),
    /// The code is recorded with a value whose index is in the mask
    /// (booleans are values 0 = false and 1 = true).
    In {
        code: u16,
        mask: u64,
    },
    /// The code is recorded with a number that compares as stated.
    Num {
        code: u16,
        op: Op,
        rhs: f64,
    },
    /// The code is recorded (any value).
    Present(u16),
    /// Age in completed years compares as stated.
    Age {
        op: Op,
        rhs: f64,
    },
    /// Sex is one of the mask (bit 0 female, 1 male, 2 other).
    Sex(u8),
    /// The sub-algorithm's result index is in the mask.
    Algorithm {
        index: u8,
        mask: u64,
    },
    /// The due entry of this index applies.
    Required(u16),
}

/// Everything a condition can read while it is evaluated.
pub(crate) struct Env<'a> {
    pub facts: &'a Facts,
    pub algorithms: &'a [u8],
    pub required: &'a [bool],
}

pub(crate) fn sex_bit(sex: Sex) -> u8 {
    match sex {
        Sex::Female => 1,
        Sex::Male => 2,
        Sex::Other => 4,
    }
}

impl Cond {
    /// Evaluates the condition.
    pub(crate) fn eval(&self, env: &Env<'_>) -> bool {
        match self {
            Cond::Const(b) => *b,
            Cond::Not(c) => !c.eval(env),
            Cond::All(cs) => cs.iter().all(|c| c.eval(env)),
            Cond::Any(cs) => cs.iter().any(|c| c.eval(env)),
            Cond::In { code, mask } => match env.facts.get(*code) {
                Some(Fact::Coded(i)) => i < 64 && mask & (1u64 << i) != 0,
                _ => false,
            },
            Cond::Num { code, op, rhs } => match env.facts.get(*code) {
                Some(Fact::Num(v)) => op.holds(v, *rhs),
                _ => false,
            },
            Cond::Present(code) => env.facts.get(*code).is_some(),
            Cond::Age { op, rhs } => op.holds(f64::from(env.facts.age), *rhs),
            Cond::Sex(mask) => mask & sex_bit(env.facts.sex) != 0,
            Cond::Algorithm { index, mask } => match env.algorithms.get(usize::from(*index)) {
                Some(r) => *r < 64 && mask & (1u64 << r) != 0,
                None => false,
            },
            Cond::Required(i) => env.required.get(usize::from(*i)).copied().unwrap_or(false),
        }
    }
}

fn note(out: &mut Vec<Read>, r: Read) {
    if !out.contains(&r) {
        out.push(r);
    }
}

impl Cond {
    /// For a condition that holds: the leaves that make it hold (every
    /// true branch of an `any`, every part of an `all`), in order, once.
    /// These are the facts a decision's reason lists.
    pub(crate) fn support(&self, env: &Env<'_>, out: &mut Vec<Read>) {
        match self {
            Cond::Any(cs) => cs
                .iter()
                .filter(|c| c.eval(env))
                .for_each(|c| c.support(env, out)),
            Cond::All(cs) => cs.iter().for_each(|c| c.support(env, out)),
            Cond::Not(c) => c.refute(env, out),
            leaf => leaf.leaf(out),
        }
    }

    /// For a condition that does not hold: the leaves that make it fail.
    fn refute(&self, env: &Env<'_>, out: &mut Vec<Read>) {
        match self {
            Cond::Any(cs) => cs.iter().for_each(|c| c.refute(env, out)),
            Cond::All(cs) => cs
                .iter()
                .filter(|c| !c.eval(env))
                .for_each(|c| c.refute(env, out)),
            Cond::Not(c) => c.support(env, out),
            leaf => leaf.leaf(out),
        }
    }

    fn leaf(&self, out: &mut Vec<Read>) {
        match self {
            Cond::In { code, .. } | Cond::Num { code, .. } | Cond::Present(code) => {
                note(out, Read::Code(*code))
            }
            Cond::Age { .. } => note(out, Read::Age),
            Cond::Sex(_) => note(out, Read::Sex),
            Cond::Algorithm { index, .. } => note(out, Read::Algorithm(*index)),
            _ => {}
        }
    }
}

/// The names a condition may use, besides `age` and `sex`.
pub(crate) struct Scope<'a> {
    pub codes: &'a CodeTable,
    /// Included sub-algorithms visible here: (name, result values).
    pub algorithms: &'a [(&'a str, &'a [String])],
    /// Due entries that `required(…)` may name, by id.
    pub dues: &'a [&'a str],
}

const SEXES: [(&str, u8); 3] = [("female", 1), ("male", 2), ("other", 4)];

fn mask_of(values: &[String], lits: &[(Lit, usize)], what: &str) -> Result<u64, ExprError> {
    let mut mask = 0u64;
    for (lit, at) in lits {
        let pos = match lit {
            Lit::Word(w) => values.iter().position(|v| v == w),
            _ => None,
        };
        match pos {
            Some(p) if p < 64 => mask |= 1 << p,
            Some(_) => {
                return Err(ExprError::new(
                    *at,
                    format!(
                        "{what} has more than 64 values; conditions can read only the first 64"
                    ),
                ));
            }
            None => {
                return Err(ExprError::new(
                    *at,
                    format!(
                        "{} is not a value of {what}; expected one of: {}",
                        lit.describe(),
                        values.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(mask)
}

fn all_mask(n: usize) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

impl Scope<'_> {
    /// Compiles a syntax tree.
    pub(crate) fn compile(&self, ast: &Ast) -> Result<Cond, ExprError> {
        Ok(match ast {
            Ast::Const(b) => Cond::Const(*b),
            Ast::Not(a) => Cond::Not(Box::new(self.compile(a)?)),
            Ast::And(items) => Cond::All(
                items
                    .iter()
                    .map(|a| self.compile(a))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Or(items) => Cond::Any(
                items
                    .iter()
                    .map(|a| self.compile(a))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Call { func, arg, at } => match func {
                Func::Required => {
                    let Some(i) = self.dues.iter().position(|d| d == arg) else {
                        return Err(ExprError::new(
                            *at,
                            format!(
                                "required() names '{arg}', which is not an earlier due entry of this protocol"
                            ),
                        ));
                    };
                    Cond::Required(u16::try_from(i).unwrap_or(u16::MAX))
                }
                Func::Absent | Func::Present => {
                    let Some(code) = self.codes.index(arg) else {
                        return Err(ExprError::new(
                            *at,
                            format!("'{arg}' is not a code of the vocabulary"),
                        ));
                    };
                    if *func == Func::Present {
                        Cond::Present(code)
                    } else {
                        Cond::Not(Box::new(Cond::Present(code)))
                    }
                }
            },
            Ast::Cmp {
                name,
                at,
                op,
                lit,
                lit_at,
            } => {
                let lits = [(lit.clone(), *lit_at)];
                match self.resolve(name, *at)? {
                    Name::Age => {
                        let Lit::Num(n) = lit else {
                            return Err(ExprError::new(*lit_at, "age compares with a number"));
                        };
                        Cond::Age { op: *op, rhs: *n }
                    }
                    Name::Sex => {
                        let mask = self.sex_mask(&lits)?;
                        match op {
                            Op::Eq => Cond::Sex(mask),
                            Op::Ne => Cond::Sex(7 & !mask),
                            _ => return Err(ExprError::new(*at, "sex takes only = and !=")),
                        }
                    }
                    Name::Algorithm(index, results) => {
                        let mask = mask_of(results, &lits, &format!("sub-algorithm '{name}'"))?;
                        match op {
                            Op::Eq => Cond::Algorithm { index, mask },
                            Op::Ne => Cond::Algorithm {
                                index,
                                mask: all_mask(results.len()) & !mask,
                            },
                            _ => {
                                return Err(ExprError::new(
                                    *at,
                                    format!("sub-algorithm '{name}' takes only =, != and in"),
                                ));
                            }
                        }
                    }
                    Name::Code(code, kind) => {
                        match kind {
                            CodeKind::Coded(values) => {
                                let lits = match lit {
                                    // A boolean's values are spelt false and true.
                                    Lit::Bool(b) => [(Lit::Word(b.to_string()), *lit_at)],
                                    _ => lits,
                                };
                                let mask = mask_of(values, &lits, &format!("'{name}'"))?;
                                match op {
                                    Op::Eq => Cond::In { code, mask },
                                    Op::Ne => Cond::In {
                                        code,
                                        mask: all_mask(values.len()) & !mask,
                                    },
                                    _ => {
                                        return Err(ExprError::new(
                                            *at,
                                            format!("'{name}' is not a number; use =, != or in"),
                                        ));
                                    }
                                }
                            }
                            CodeKind::Number => {
                                let Lit::Num(n) = lit else {
                                    return Err(ExprError::new(
                                        *lit_at,
                                        format!("'{name}' is a number; compare it with a number"),
                                    ));
                                };
                                Cond::Num {
                                    code,
                                    op: *op,
                                    rhs: *n,
                                }
                            }
                            CodeKind::Other => {
                                return Err(ExprError::new(
                                    *at,
                                    format!(
                                        "'{name}' is text or a date; only absent() and present() read it"
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            Ast::In {
                name,
                at,
                lits,
                negated,
            } => {
                let (cond, n) = match self.resolve(name, *at)? {
                    Name::Sex => (Cond::Sex(self.sex_mask(lits)?), 3),
                    Name::Algorithm(index, results) => {
                        let mask = mask_of(results, lits, &format!("sub-algorithm '{name}'"))?;
                        (Cond::Algorithm { index, mask }, results.len())
                    }
                    Name::Code(code, CodeKind::Coded(values)) => {
                        let lits: Vec<(Lit, usize)> = lits
                            .iter()
                            .map(|(l, a)| match l {
                                Lit::Bool(b) => (Lit::Word(b.to_string()), *a),
                                other => (other.clone(), *a),
                            })
                            .collect();
                        let mask = mask_of(values, &lits, &format!("'{name}'"))?;
                        (Cond::In { code, mask }, values.len())
                    }
                    _ => {
                        return Err(ExprError::new(
                            *at,
                            format!("'{name}' is not coded; 'in' needs a coded value"),
                        ));
                    }
                };
                match (negated, cond) {
                    (false, c) => c,
                    (true, Cond::Sex(m)) => Cond::Sex(7 & !m),
                    (true, Cond::Algorithm { index, mask }) => Cond::Algorithm {
                        index,
                        mask: all_mask(n) & !mask,
                    },
                    (true, Cond::In { code, mask }) => Cond::In {
                        code,
                        mask: all_mask(n) & !mask,
                    },
                    (true, c) => Cond::Not(Box::new(c)),
                }
            }
        })
    }

    fn sex_mask(&self, lits: &[(Lit, usize)]) -> Result<u8, ExprError> {
        let mut mask = 0;
        for (lit, at) in lits {
            let bit = match lit {
                Lit::Word(w) => SEXES.iter().find(|(s, _)| s == w).map(|(_, b)| *b),
                _ => None,
            };
            mask |= bit.ok_or_else(|| {
                ExprError::new(
                    *at,
                    format!(
                        "{} is not a sex; expected female, male or other",
                        lit.describe()
                    ),
                )
            })?;
        }
        Ok(mask)
    }

    fn resolve(&self, name: &str, at: usize) -> Result<Name<'_>, ExprError> {
        if name == "age" {
            return Ok(Name::Age);
        }
        if name == "sex" {
            return Ok(Name::Sex);
        }
        if let Some(i) = self.algorithms.iter().position(|(n, _)| *n == name) {
            return Ok(Name::Algorithm(
                u8::try_from(i).unwrap_or(u8::MAX),
                self.algorithms[i].1,
            ));
        }
        if let Some(code) = self.codes.index(name) {
            return Ok(Name::Code(code, self.codes.kind(code)));
        }
        Err(ExprError::new(
            at,
            format!(
                "'{name}' is neither a code of the vocabulary nor a sub-algorithm this protocol includes"
            ),
        ))
    }
}

enum Name<'a> {
    Age,
    Sex,
    Algorithm(u8, &'a [String]),
    Code(u16, &'a CodeKind),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::ObservationValue;
    use crate::protocol::facts::Case;
    use crate::vocabulary::Vocabulary;

    /// Evaluates `text` over a case of a person aged 30.
    fn holds(text: &str, sex: Sex, obs: &[(&str, ObservationValue)]) -> bool {
        let codes = CodeTable::new(&Vocabulary::built_in());
        let results = ["negative".to_owned(), "positive".to_owned()];
        let algorithms = [("hiv", &results[..])];
        let scope = Scope {
            codes: &codes,
            algorithms: &algorithms,
            dues: &["d.first"],
        };
        let cond = scope.compile(&parse(text).unwrap()).unwrap();
        let date = chrono::NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let case = Case::new(
            date,
            crate::migrant::PartialDate::Year(1995),
            sex,
            obs.iter().map(|(c, v)| ((*c).to_owned(), v.clone())),
        );
        let facts = Facts::new(&codes, &case);
        cond.eval(&Env {
            facts: &facts,
            algorithms: &[1],
            required: &[true],
        })
    }

    #[test]
    fn comparisons_with_unrecorded_facts_are_false() {
        let none = ObservationValue::Coded("none".into());
        let treated = ObservationValue::Coded("treated_completed".into());
        assert!(!holds("tb.previous != none", Sex::Male, &[]));
        assert!(!holds("tb.previous = none", Sex::Male, &[]));
        assert!(holds("not (tb.previous = none)", Sex::Male, &[]));
        assert!(holds(
            "tb.previous != none",
            Sex::Male,
            &[("tb.previous", treated.clone())]
        ));
        assert!(!holds(
            "tb.previous != none",
            Sex::Male,
            &[("tb.previous", none)]
        ));
        assert!(!holds("tb.previous not in [none]", Sex::Male, &[]));
        assert!(holds(
            "tb.previous not in [none]",
            Sex::Male,
            &[("tb.previous", treated)]
        ));
        assert!(holds("absent(cxr)", Sex::Male, &[]));
        assert!(!holds("tst.mm >= 0", Sex::Male, &[]));
        assert!(holds(
            "tst.mm >= 5 and tst.mm < 10",
            Sex::Male,
            &[("tst.mm", ObservationValue::Integer(5))]
        ));
        assert!(holds(
            "tb.contact = false",
            Sex::Male,
            &[("tb.contact", ObservationValue::Boolean(false))]
        ));
        assert!(!holds(
            "tb.contact = true",
            Sex::Male,
            &[("tb.contact", ObservationValue::Boolean(false))]
        ));
    }

    #[test]
    fn age_sex_sub_algorithms_and_due_entries() {
        assert!(holds("age = 30 and age >= 18 and age < 31", Sex::Male, &[]));
        assert!(holds("sex = female", Sex::Female, &[]));
        assert!(holds("sex in [female, other]", Sex::Other, &[]));
        assert!(holds("sex != female", Sex::Male, &[]));
        assert!(!holds("sex not in [male, other]", Sex::Male, &[]));
        assert!(holds("hiv = positive and hiv != negative", Sex::Male, &[]));
        assert!(holds("required(d.first)", Sex::Male, &[]));
        assert!(holds(
            "any(false, true) and all(true, not false)",
            Sex::Male,
            &[]
        ));
    }

    #[test]
    fn parses_precedence_and_functions() {
        let ast = parse("a = x or b = y and not c = z").unwrap();
        let Ast::Or(items) = ast else {
            panic!("or at the top")
        };
        assert_eq!(items.len(), 2);
        assert!(matches!(items[1], Ast::And(_)));
        assert!(matches!(
            parse("any(absent(cxr), cxr in [normal, inconclusive])").unwrap(),
            Ast::Or(_)
        ));
        assert!(matches!(
            parse("cxr not in [normal]").unwrap(),
            Ast::In { negated: true, .. }
        ));
        assert!(matches!(
            parse("tst.mm >= 10").unwrap(),
            Ast::Cmp { op: Op::Ge, .. }
        ));
    }

    #[test]
    fn reports_where_parsing_failed() {
        assert_eq!(parse("cxr = ").unwrap_err().at, 6);
        assert_eq!(parse("cxr normal").unwrap_err().at, 4);
        assert_eq!(parse("(a = b").unwrap_err().at, 6);
        assert_eq!(parse("a = b c = d").unwrap_err().at, 6);
        assert_eq!(parse("a = $").unwrap_err().at, 4);
        assert!(parse("").is_err());
        let deep = format!("{}a = b{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).unwrap_err().message.contains("levels deep"));
        let shallow = format!("{}a = b{}", "(".repeat(20), ")".repeat(20));
        assert!(parse(&shallow).is_ok());
        assert!(parse("a ! b").is_err());
    }
}
