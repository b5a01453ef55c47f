//! The typed syntax tree of a STIX 2.1 pattern.
//!
//! The tree keeps exactly what the pattern says (no normalisation beyond flattening chains of
//! the same operator), so that the translator can decide per node what it can and cannot express.

use std::fmt;

/// A whole pattern: one observation expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub expr: ObservationExpr,
}

impl Pattern {
    /// `[type:path = 'value']` and nothing else: the path and the value. Such a pattern says no
    /// more than the observable it was made from (or that was made from it).
    pub fn single_equality(&self) -> Option<(&ObjectPath, &str)> {
        match &self.expr {
            ObservationExpr::Observation(ComparisonExpr::Test(Comparison {
                path,
                negated: false,
                op: Operator::Eq(Literal::Str(v)),
            })) => Some((path, v)),
            _ => None,
        }
    }
}

/// An expression over observations (`[...]`), combined with `AND`/`OR`/`FOLLOWEDBY` and
/// qualified with `WITHIN`/`START…STOP`/`REPEATS`.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison ]`: one observation (one alert, here) satisfying the comparison.
    Observation(ComparisonExpr),
    /// Two or more operands joined by `AND`.
    And(Vec<ObservationExpr>),
    /// Two or more operands joined by `OR`.
    Or(Vec<ObservationExpr>),
    /// Two or more operands joined by `FOLLOWEDBY`, in order.
    FollowedBy(Vec<ObservationExpr>),
    /// An expression with one qualifier (several qualifiers nest, innermost first).
    Qualified {
        expr: Box<ObservationExpr>,
        qualifier: Qualifier,
    },
}

/// A qualifier of an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`
    Within { seconds: f64 },
    /// `START t'…' STOP t'…'` (RFC 3339 timestamps as written, `Z` suffix).
    StartStop { start: String, stop: String },
    /// `REPEATS n TIMES`
    Repeats { times: u64 },
}

/// A comparison expression inside one observation's brackets.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    And(Vec<ComparisonExpr>),
    Or(Vec<ComparisonExpr>),
    Test(Comparison),
}

/// One comparison: `path [NOT] op operand`, or `EXISTS path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub path: ObjectPath,
    /// `NOT` before the operator.
    pub negated: bool,
    pub op: Operator,
}

/// A comparison operator and its operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operator {
    Eq(Literal),
    Ne(Literal),
    Lt(Literal),
    Le(Literal),
    Gt(Literal),
    Ge(Literal),
    In(Vec<Literal>),
    Like(String),
    Matches(String),
    IsSubset(String),
    IsSuperset(String),
    Exists,
}

impl Operator {
    /// The operator as written in a pattern (for messages).
    pub fn keyword(&self) -> &'static str {
        match self {
            Operator::Eq(_) => "=",
            Operator::Ne(_) => "!=",
            Operator::Lt(_) => "<",
            Operator::Le(_) => "<=",
            Operator::Gt(_) => ">",
            Operator::Ge(_) => ">=",
            Operator::In(_) => "IN",
            Operator::Like(_) => "LIKE",
            Operator::Matches(_) => "MATCHES",
            Operator::IsSubset(_) => "ISSUBSET",
            Operator::IsSuperset(_) => "ISSUPERSET",
            Operator::Exists => "EXISTS",
        }
    }
}

/// `object-type:step.step[0].step`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectPath {
    pub object_type: String,
    /// The first step is always a property.
    pub steps: Vec<PathStep>,
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// `.name` or `.'quoted name'`
    Property(String),
    /// `[n]` (negative indices count from the end)
    Index(i64),
    /// `[*]`
    AnyIndex,
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Property(p) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let plain = p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && p.chars().next().is_some_and(|c| !c.is_ascii_digit());
                    if plain {
                        f.write_str(p)?;
                    } else {
                        write!(f, "'{}'", p.replace('\\', "\\\\").replace('\'', "\\'"))?;
                    }
                }
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// A constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string with its `\'` and `\\` escapes resolved.
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `t'…'`, as written inside the quotes.
    Timestamp(String),
    /// `h'…'`, decoded.
    Hex(Vec<u8>),
    /// `b'…'`, the base64 text as written.
    Binary(String),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Literal::Int(n) => write!(f, "{n}"),
            Literal::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => write!(f, "{x:.1}"),
            Literal::Float(x) => write!(f, "{x}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Timestamp(t) => write!(f, "t'{t}'"),
            Literal::Hex(h) => write!(f, "h'{}'", hex::encode(h)),
            Literal::Binary(b) => write!(f, "b'{b}'"),
        }
    }
}

/// Writes the pattern back in STIX syntax (fully parenthesised where precedence needs it), so
/// that `parse(p.to_string()) == p`.
impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)
    }
}

fn join<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T], sep: &str) -> fmt::Result {
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            write!(f, " {sep} ")?;
        }
        write!(f, "({x})")?;
    }
    Ok(())
}

impl fmt::Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObservationExpr::Observation(c) => write!(f, "[{c}]"),
            ObservationExpr::And(v) => join(f, v, "AND"),
            ObservationExpr::Or(v) => join(f, v, "OR"),
            ObservationExpr::FollowedBy(v) => join(f, v, "FOLLOWEDBY"),
            ObservationExpr::Qualified { expr, qualifier } => {
                match **expr {
                    ObservationExpr::Observation(_) | ObservationExpr::Qualified { .. } => {
                        write!(f, "{expr}")?
                    }
                    _ => write!(f, "({expr})")?,
                }
                match qualifier {
                    Qualifier::Within { seconds } => write!(f, " WITHIN {seconds} SECONDS"),
                    Qualifier::StartStop { start, stop } => {
                        write!(f, " START t'{start}' STOP t'{stop}'")
                    }
                    Qualifier::Repeats { times } => write!(f, " REPEATS {times} TIMES"),
                }
            }
        }
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComparisonExpr::And(v) => join(f, v, "AND"),
            ComparisonExpr::Or(v) => join(f, v, "OR"),
            ComparisonExpr::Test(c) => write!(f, "{c}"),
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Operator::Exists = self.op {
            return write!(f, "EXISTS {}", self.path);
        }
        write!(f, "{}", self.path)?;
        if self.negated {
            f.write_str(" NOT")?;
        }
        let quote = |s: &str| Literal::Str(s.to_string()).to_string();
        match &self.op {
            Operator::Eq(l)
            | Operator::Ne(l)
            | Operator::Lt(l)
            | Operator::Le(l)
            | Operator::Gt(l)
            | Operator::Ge(l) => write!(f, " {} {l}", self.op.keyword()),
            Operator::In(list) => {
                f.write_str(" IN (")?;
                for (i, l) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{l}")?;
                }
                f.write_str(")")
            }
            Operator::Like(s)
            | Operator::Matches(s)
            | Operator::IsSubset(s)
            | Operator::IsSuperset(s) => write!(f, " {} {}", self.op.keyword(), quote(s)),
            Operator::Exists => Ok(()),
        }
    }
}
