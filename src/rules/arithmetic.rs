//! `arithmetic`: + − × ÷ and parentheses over integers and decimals, exact at
//! any size (rational arithmetic on big integers). The grammar is digits and
//! operators; a phrasing outside it ("seventeen plus twenty-five") is an
//! explicit "cannot parse" error, never a guess.
//!
//! Grammar (after dropping a leading "what is"/"calculate"/"compute" and a
//! trailing `?`, `=` or `.`):
//! ```text
//! expression = term { ("+" | "-") term }
//! term       = factor { ("*" | "×" | "x" | "/" | "÷") factor }
//! factor     = "-" factor | number | "(" expression ")"
//! ```

use crate::words::Phrase;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use super::{words, Rule, RuleError, RuleOutcome, RuleRun, TraceStep};
use crate::here;
use crate::tasks::Task;

/// Exact arithmetic on the digits-and-operators grammar.
pub struct Arithmetic;

/// Words that announce arithmetic even when the numbers are spelled out.
const OPERATION_WORDS: &[&str] = &[
    "plus",
    "minus",
    "times",
    "divided",
    "multiplied",
    "sum",
    "product",
];

/// Chinese words that announce arithmetic. Like the English ones they are
/// outside the grammar: "四十八乘以五十二" is recognized as arithmetic and
/// refused as "cannot parse", as "seventeen plus twenty-five" is.
const CHINESE_OPERATION_WORDS: &[&str] = &["乘以", "除以", "加上", "减去", "等于多少"];

impl Rule for Arithmetic {
    fn name(&self) -> &'static str {
        "arithmetic"
    }

    fn summary(&self) -> Phrase {
        Phrase::new("rule.summary.arithmetic")
    }

    fn task(&self) -> Task {
        Task::Arithmetic
    }

    fn affinity(&self, input: &str) -> u8 {
        let has_digit = input.chars().any(|c| c.is_ascii_digit());
        let has_operator = input.chars().any(|c| "+*/×÷".contains(c))
            || input.split_whitespace().any(|w| w == "-" || w == "x");
        let has_word = words(input)
            .iter()
            .any(|w| OPERATION_WORDS.contains(&w.as_str()))
            || CHINESE_OPERATION_WORDS.iter().any(|w| input.contains(w));
        match (has_digit && has_operator, has_word) {
            (true, _) => 3,
            (false, true) => 2,
            _ => 0,
        }
    }

    fn apply(&self, input: &str) -> RuleRun {
        let mut trace = Vec::new();
        let expression = strip_question(input);
        trace.push(TraceStep::new(
            Phrase::new("rule.step.extract_expression"),
            format!("{expression:?}"),
            here!(),
        ));
        let outcome = match tokenize(&expression) {
            Err(e) => RuleOutcome::Error { error: e },
            Ok(tokens) => {
                let mut parser = Parser {
                    tokens,
                    position: 0,
                    depth: 0,
                    trace: &mut trace,
                };
                match parser.expression().and_then(|value| {
                    if parser.position < parser.tokens.len() {
                        Err(RuleError::CannotParse(
                            Phrase::new("rule.error.unexpected_after")
                                .arg("found", parser.tokens[parser.position].describe()),
                        ))
                    } else {
                        Ok(value)
                    }
                }) {
                    Ok(value) => RuleOutcome::Answer {
                        value: format_exact(&value),
                    },
                    Err(error) => RuleOutcome::Error { error },
                }
            }
        };
        RuleRun { outcome, trace }
    }
}

/// Drops a leading question phrase and trailing punctuation.
fn strip_question(input: &str) -> String {
    let mut text = input.trim().to_string();
    let lower = text.to_lowercase();
    for prefix in [
        "what is",
        "what's",
        "calculate",
        "compute",
        "evaluate",
        "请计算",
        "计算",
        "请问",
        "算一下",
    ] {
        if lower.starts_with(prefix) {
            text = text[prefix.len()..]
                .trim_start_matches([':', ' ', '：', '，'])
                .to_string();
            break;
        }
    }
    let mut text = text
        .trim_end_matches(['?', '=', '.', ' ', '？', '。'])
        .trim()
        .to_string();
    // "48 × 52 等于多少？": the asking words after the expression.
    for suffix in ["等于多少", "是多少", "等于几", "得多少", "等于", "得几"] {
        if let Some(stripped) = text.strip_suffix(suffix) {
            text = stripped.trim_end_matches(['=', ' ']).trim().to_string();
            break;
        }
    }
    text
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(BigRational, String),
    Operator(char),
    Open,
    Close,
}

impl Token {
    fn describe(&self) -> Phrase {
        match self {
            Token::Number(_, text) => {
                Phrase::new("rule.error.number_token").arg("text", text.as_str())
            }
            Token::Operator(op) => Phrase::data(format!("'{op}'")),
            Token::Open => Phrase::data("'('"),
            Token::Close => Phrase::data("')'"),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, RuleError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '0'..='9' | '.' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == ',')
                {
                    i += 1;
                }
                let literal: String = chars[start..i].iter().filter(|&&c| c != ',').collect();
                let value = parse_decimal(&literal).ok_or_else(|| {
                    RuleError::CannotParse(
                        Phrase::new("rule.error.not_a_number").arg("text", format!("'{literal}'")),
                    )
                })?;
                tokens.push(Token::Number(value, literal));
            }
            '+' | '-' | '*' | '/' => {
                tokens.push(Token::Operator(c));
                i += 1;
            }
            '×' | 'x' | 'X' => {
                tokens.push(Token::Operator('*'));
                i += 1;
            }
            '÷' => {
                tokens.push(Token::Operator('/'));
                i += 1;
            }
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            _ => {
                let rest: String = chars[i..].iter().take(20).collect();
                let word = rest.split_whitespace().next().unwrap_or("");
                return Err(RuleError::CannotParse(
                    Phrase::new("rule.error.not_number_or_operator")
                        .arg("text", format!("'{word}'")),
                ));
            }
        }
    }
    if tokens.is_empty() {
        return Err(RuleError::CannotParse(Phrase::new(
            "rule.error.no_expression",
        )));
    }
    Ok(tokens)
}

/// Parses a decimal number exactly: optional sign, digits, at most one
/// point (`123`, `-4.50`, `+.5`). Anything else is `None`.
pub fn parse_decimal(text: &str) -> Option<BigRational> {
    let text = text.trim();
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let numerator: BigInt = format!("{whole}{fraction}").parse().ok()?;
    let value = BigRational::new(numerator, BigInt::from(10u32).pow(fraction.len() as u32));
    Some(if negative { -value } else { value })
}

/// The most parentheses and signs one factor may nest (each level is a
/// recursive call: a limit keeps a hostile input from overflowing the stack).
const MAX_NESTING: usize = 100;

struct Parser<'t> {
    tokens: Vec<Token>,
    position: usize,
    /// Factors open around the current one.
    depth: usize,
    trace: &'t mut Vec<TraceStep>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn expression(&mut self) -> Result<BigRational, RuleError> {
        let mut value = self.term()?;
        while let Some(Token::Operator(op @ ('+' | '-'))) = self.peek().cloned() {
            self.position += 1;
            let right = self.term()?;
            let result = if op == '+' {
                &value + &right
            } else {
                &value - &right
            };
            self.record(op, &value, &right, &result, here!());
            value = result;
        }
        Ok(value)
    }

    fn term(&mut self) -> Result<BigRational, RuleError> {
        let mut value = self.factor()?;
        while let Some(Token::Operator(op @ ('*' | '/'))) = self.peek().cloned() {
            self.position += 1;
            let right = self.factor()?;
            let result = if op == '*' {
                &value * &right
            } else if right.is_zero() {
                let zero = Phrase::new("rule.error.division_by_zero");
                self.trace.push(TraceStep::new("÷", zero.clone(), here!()));
                return Err(RuleError::Undefined(zero));
            } else {
                &value / &right
            };
            self.record(op, &value, &right, &result, here!());
            value = result;
        }
        Ok(value)
    }

    fn factor(&mut self) -> Result<BigRational, RuleError> {
        if self.depth >= MAX_NESTING {
            return Err(RuleError::CannotParse(
                Phrase::new("rule.error.too_deep").arg("max", MAX_NESTING),
            ));
        }
        self.depth += 1;
        let value = self.nested_factor();
        self.depth -= 1;
        value
    }

    fn nested_factor(&mut self) -> Result<BigRational, RuleError> {
        match self.peek().cloned() {
            Some(Token::Operator('-')) => {
                self.position += 1;
                Ok(-self.factor()?)
            }
            Some(Token::Number(value, _)) => {
                self.position += 1;
                Ok(value)
            }
            Some(Token::Open) => {
                self.position += 1;
                let value = self.expression()?;
                match self.peek() {
                    Some(Token::Close) => {
                        self.position += 1;
                        Ok(value)
                    }
                    _ => Err(RuleError::CannotParse(Phrase::new(
                        "rule.error.missing_close",
                    ))),
                }
            }
            Some(other) => Err(RuleError::CannotParse(
                Phrase::new("rule.error.expected_number").arg("found", other.describe()),
            )),
            None => Err(RuleError::CannotParse(Phrase::new("rule.error.ends_early"))),
        }
    }

    fn record(
        &mut self,
        op: char,
        left: &BigRational,
        right: &BigRational,
        result: &BigRational,
        source: String,
    ) {
        let symbol = match op {
            '*' => '×',
            '/' => '÷',
            other => other,
        };
        self.trace.push(TraceStep::new(
            Phrase::new("rule.step.apply").arg("symbol", symbol.to_string()),
            format!(
                "{} {symbol} {} = {}",
                format_exact(left),
                format_exact(right),
                format_exact(result)
            ),
            source,
        ));
    }
}

/// An exact value as text: a terminating decimal in full, otherwise the
/// fraction with a 12-significant-digit approximation.
pub fn format_exact(value: &BigRational) -> String {
    match terminating_decimal(value) {
        Some(text) => text,
        None => format!(
            "{}/{} ≈ {}",
            value.numer(),
            value.denom(),
            approximate(value, 12)
        ),
    }
}

/// The decimal expansion if it terminates (denominator of only 2s and 5s).
pub fn terminating_decimal(value: &BigRational) -> Option<String> {
    let mut denominator = value.denom().clone();
    let (two, five) = (BigInt::from(2), BigInt::from(5));
    let mut scale = 0u32;
    let (mut twos, mut fives) = (0u32, 0u32);
    while (&denominator % &two).is_zero() {
        denominator /= &two;
        twos += 1;
    }
    while (&denominator % &five).is_zero() {
        denominator /= &five;
        fives += 1;
    }
    if !denominator.is_one() {
        return None;
    }
    scale = scale.max(twos).max(fives);
    let scaled = value * BigRational::from_integer(BigInt::from(10).pow(scale));
    let digits = scaled.to_integer().abs().to_string();
    let sign = if value.is_negative() { "-" } else { "" };
    if scale == 0 {
        return Some(format!("{sign}{digits}"));
    }
    let padded = format!("{digits:0>width$}", width = scale as usize + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale as usize);
    Some(format!("{sign}{whole}.{fraction}"))
}

/// `value` rounded to `digits` significant digits, as a decimal string.
pub fn approximate(value: &BigRational, digits: usize) -> String {
    let float = value.numer().to_string().parse::<f64>().unwrap_or(f64::NAN)
        / value.denom().to_string().parse::<f64>().unwrap_or(f64::NAN);
    let text = format!("{:.*e}", digits.saturating_sub(1), float);
    let parsed: f64 = text.parse().unwrap_or(float);
    let mut out = format!("{parsed}");
    if out.contains('e') {
        out = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let signs = format!("{}1", "-".repeat(10_000));
        for input in [deep, signs] {
            match Arithmetic.apply(&input).outcome {
                RuleOutcome::Error { error } => {
                    assert!(
                        error.describe(crate::words::Lang::En).contains("100"),
                        "{error}"
                    )
                }
                other => panic!("{other:?}"),
            }
        }
        // Within the limit it still computes.
        let fine = format!("{}2{}", "(".repeat(90), ")".repeat(90));
        assert!(matches!(
            Arithmetic.apply(&fine).outcome,
            RuleOutcome::Answer { .. }
        ));
    }

    #[test]
    fn chinese_questions_around_an_expression_are_answered_and_words_refused() {
        assert_eq!(
            Arithmetic.apply("48 × 52 等于多少？").outcome.answer(),
            Some("2496")
        );
        assert_eq!(
            Arithmetic.apply("计算：17 + 25").outcome.answer(),
            Some("42")
        );
        assert!(Arithmetic.affinity("48 × 52 等于多少？") > 0);
        let words = "四十八乘以五十二";
        assert!(Arithmetic.affinity(words) > 0, "recognized as arithmetic");
        assert!(
            matches!(
                Arithmetic.apply(words).outcome,
                RuleOutcome::Error {
                    error: RuleError::CannotParse(_)
                }
            ),
            "number words are outside the grammar, as in English"
        );
    }

    fn answer(input: &str) -> String {
        Arithmetic.apply(input).outcome.display()
    }

    #[test]
    fn big_products_are_exact() {
        assert_eq!(answer("123456789 × 987654321"), "121932631112635269");
        assert_eq!(
            answer("What is 99999999999999999999 * 99999999999999999999?"),
            "9999999999999999999800000000000000000001"
        );
    }

    #[test]
    fn precedence_parentheses_and_unary_minus() {
        assert_eq!(answer("2 + 3 * 4"), "14");
        assert_eq!(answer("(2 + 3) * 4"), "20");
        assert_eq!(answer("-3 - -2"), "-1");
        assert_eq!(answer("What is 17 + 25?"), "42");
        assert_eq!(answer("(12 + 7) × 3 ÷ 2"), "28.5");
    }

    #[test]
    fn decimals_are_exact_and_repeating_ones_are_fractions() {
        assert_eq!(answer("0.1 + 0.2"), "0.3");
        assert_eq!(answer("1.50 * 2"), "3");
        assert_eq!(answer("1 / 3"), "1/3 ≈ 0.333333333333");
        assert_eq!(answer("1,000,000 / 8"), "125000");
    }

    #[test]
    fn decimals_parse_exactly_with_sign_and_point() {
        let value = |t: &str| parse_decimal(t).map(|v| format_exact(&v));
        assert_eq!(value("-4.50"), Some("-4.5".into()));
        assert_eq!(value("+.5"), Some("0.5".into()));
        assert_eq!(value("12"), Some("12".into()));
        for bad in ["", "-", ".", "1.2.3", "1_000", "1e5", "4-2"] {
            assert_eq!(value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn words_are_an_explicit_cannot_parse_error() {
        let run = Arithmetic.apply("seventeen plus twenty-five");
        assert!(matches!(
            run.outcome,
            RuleOutcome::Error {
                error: RuleError::CannotParse(_)
            }
        ));
        assert_eq!(
            run.outcome.display(),
            "error: cannot parse: 'seventeen' is not a number or an operator (+ - × ÷ ( ))"
        );
        assert_eq!(
            run.outcome.phrase().text(crate::words::Lang::Zh),
            "报错：无法解析：'seventeen' 既不是数字，也不是运算符（+ - × ÷ ( )）"
        );
    }

    #[test]
    fn malformed_expressions_and_division_by_zero_are_errors() {
        assert!(answer("2 +").starts_with("error: cannot parse"));
        assert!(answer("(2 + 3").contains("missing ')'"));
        assert!(answer("2 3").contains("unexpected number 3"));
        assert_eq!(answer("1 / (2 - 2)"), "error: undefined: division by zero");
        assert!(answer("").starts_with("error: cannot parse"));
    }

    #[test]
    fn the_trace_names_every_operation_in_order() {
        let run = Arithmetic.apply("2 + 3 * 4");
        let details: Vec<String> = run.trace.iter().map(|s| s.detail.to_string()).collect();
        assert_eq!(details, vec!["\"2 + 3 * 4\"", "3 × 4 = 12", "2 + 12 = 14"]);
        assert!(run.trace[1].source.starts_with("src/rules/arithmetic.rs:"));
    }
}
