//! Answer extractors: read the answer a task expects out of a model's free
//! text. Documented in the parent module.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive};

use super::{extra_capitals, fictional_countries, NO_SUCH_COUNTRY};
use crate::rules::parse_decimal;

/// The number `text` gives as its answer to `input` (commas removed):
/// - after an `=`: the first number after the last `=` (a final `=` with no
///   number after it is an answer that never came: none);
/// - otherwise the first number that is not part of an expression (next to
///   `+ − × ÷ * / ^`) and does not repeat a number of the input (an echo of
///   the question is no answer), looking after the last " is " first;
/// - a text with no digits is read as English number words ("sixty-five"),
///   but an echo of a question in words ("seventeen plus twenty-five") is no
///   answer: with an operator word present, only words after "equals" or
///   "is" count.
pub fn number(input: &str, text: &str) -> Option<String> {
    if !text.chars().any(|c| c.is_ascii_digit()) {
        let lower = text.to_lowercase();
        let operators = ["plus", "minus", "times", "divided", "multiplied"];
        let answer_part = if operators.iter().any(|o| lower.contains(o)) {
            ["equals ", " is "]
                .iter()
                .find_map(|m| lower.rfind(m).map(|at| &lower[at + m.len()..]))?
        } else {
            &lower
        };
        return number_words(answer_part).map(|n| n.to_string());
    }
    if let Some(at) = text.rfind('=') {
        return numbers(&text[at + 1..])
            .into_iter()
            .next()
            .map(|n| n.literal);
    }
    let asked: Vec<String> = numbers(input).into_iter().map(|n| n.literal).collect();
    let answer = |part: &str| {
        numbers(part)
            .into_iter()
            .find(|n| !n.in_expression && !asked.iter().any(|a| numbers_match(a, &n.literal, 0.0)))
            .map(|n| n.literal)
    };
    text.rfind(" is ")
        .and_then(|at| answer(&text[at + 4..]))
        .or_else(|| answer(text))
}

/// A number found in a text.
struct FoundNumber {
    /// As written, commas removed.
    literal: String,
    /// Whether an arithmetic operator stands right before or after it.
    in_expression: bool,
}

/// Every number in `text`, in order.
fn numbers(text: &str) -> Vec<FoundNumber> {
    const OPERATORS: [char; 8] = ['+', '-', '−', '×', '÷', '*', '/', '^'];
    // The letter x is a times sign only as a word of its own: "3 x 4".
    let is_times_x = |s: &str| {
        let mut chars = s.chars();
        chars.next() == Some('x')
            && chars
                .next()
                .is_none_or(|c| c.is_whitespace() || c.is_ascii_digit())
    };
    let mut found = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some((start, end, literal)) = first_number_at(rest) {
        let before_text = text[..offset + start].trim_end();
        let before = before_text.chars().next_back();
        let after_text = rest[end..].trim_start();
        // A minus sign of the number itself is not an operator before it.
        let operator_before = (before.is_some_and(|c| OPERATORS.contains(&c))
            && !(literal.starts_with('-') && before == Some('-')))
            || (before == Some('x')
                && before_text[..before_text.len() - 1]
                    .chars()
                    .next_back()
                    .is_none_or(|c| c.is_whitespace() || c.is_ascii_digit()));
        let operator_after = after_text
            .chars()
            .next()
            .is_some_and(|c| OPERATORS.contains(&c))
            || is_times_x(after_text);
        found.push(FoundNumber {
            literal,
            in_expression: operator_before || operator_after,
        });
        offset += end;
        rest = &rest[end..];
    }
    found
}

/// The first number in `text`: its byte span and its literal (commas
/// removed) — an optional minus sign (not after a letter or digit), digits,
/// and commas or points followed by a digit.
fn first_number_at(text: &str) -> Option<(usize, usize, String)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let starts_number = c.is_ascii_digit()
            || (c == '-'
                && chars.get(i + 1).is_some_and(|(_, c)| c.is_ascii_digit())
                && (i == 0 || !chars[i - 1].1.is_alphanumeric()));
        if starts_number {
            let start = i;
            i += 1;
            while i < chars.len() {
                let c = chars[i].1;
                let next_is_digit = chars.get(i + 1).is_some_and(|(_, c)| c.is_ascii_digit());
                if c.is_ascii_digit() || ((c == ',' || c == '.') && next_is_digit) {
                    i += 1;
                } else {
                    break;
                }
            }
            let literal: String = chars[start..i]
                .iter()
                .map(|(_, c)| *c)
                .filter(|&c| c != ',')
                .collect();
            let end = chars.get(i).map_or(text.len(), |(at, _)| *at);
            return Some((chars[start].0, end, literal));
        }
        i += 1;
    }
    None
}

/// The first run of English number words in `text` as a value, e.g.
/// "Sixty-five." → 65, "one hundred and twelve" → 112.
pub fn number_words(text: &str) -> Option<u64> {
    const UNITS: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let words = text
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect::<Vec<_>>();
    let (mut total, mut current, mut seen) = (0u64, 0u64, false);
    for word in &words {
        let w = word.as_str();
        if let Some(n) = UNITS.iter().position(|u| *u == w) {
            current += n as u64;
        } else if let Some(n) = TENS.iter().position(|t| !t.is_empty() && *t == w) {
            current += 10 * n as u64;
        } else if w == "hundred" && seen {
            current = current.max(1) * 100;
        } else if (w == "thousand" || w == "million") && seen {
            total += current.max(1) * if w == "thousand" { 1_000 } else { 1_000_000 };
            current = 0;
        } else if w == "and" && seen {
            continue;
        } else if seen {
            break;
        } else {
            continue;
        }
        seen = true;
    }
    seen.then_some(total + current)
}

/// Whether two decimal strings are equal within `relative` tolerance.
pub fn numbers_match(answer: &str, truth: &str, relative: f64) -> bool {
    match (parse_decimal(answer), parse_decimal(truth)) {
        (Some(a), Some(b)) => {
            if a == b {
                return true;
            }
            let difference = (&a - &b).abs();
            let scale = b.abs().max(BigRational::from_integer(BigInt::from(1)));
            (difference / scale).to_f64().is_some_and(|r| r <= relative)
        }
        _ => false,
    }
}

/// Every capital detprob knows, as a text may write it (the table's and the
/// left-out countries' names, and their Chinese names: "巴黎") beside the
/// name its answers use ("Paris"); built once.
fn capital_names() -> &'static [(&'static str, &'static str)] {
    static NAMES: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let extra = extra_capitals();
        let english_capital = |country: &str| {
            crate::rules::capitals_of(country).or_else(|| {
                extra
                    .iter()
                    .find(|(c, _)| *c == country)
                    .map(|(_, city)| *city)
            })
        };
        let chinese: Vec<(&str, &str)> = crate::rules::chinese_names()
            .flat_map(|(country, _, capitals)| {
                let english = english_capital(country);
                capitals
                    .into_iter()
                    .filter_map(move |name| english.map(|city| (name, city)))
            })
            .collect();
        crate::rules::capital_cities()
            .into_iter()
            .chain(extra.iter().map(|(_, city)| *city))
            .map(|city| (city, city))
            .chain(chinese)
            .collect()
    })
}

/// The first known capital mentioned, else "no such country" when the text
/// denies the country exists, else the capitalised word run that leads the
/// text or follows "known as", "called" or " is " — skipping words such as
/// "The" and the name of the country asked about (echoing it is no answer).
pub fn city(input: &str, text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let first_known = capital_names()
        .iter()
        .filter_map(|&(name, city)| lower.find(&name.to_lowercase()).map(|at| (at, city)))
        .min_by_key(|(at, _)| *at);
    if let Some((_, city)) = first_known {
        return Some(city.to_string());
    }
    const DENIALS: &[&str] = &[
        "虚构",
        "不存在",
        "并不存在",
        "没有首都",
        "不是真实",
        "不是一个真实",
        "fictional",
        "not a real",
        "isn't a real",
        "does not exist",
        "doesn't exist",
        "no capital",
        "not exist",
        "imaginary",
        "no such",
    ];
    if DENIALS.iter().any(|d| lower.contains(d)) {
        return Some(NO_SUCH_COUNTRY.to_string());
    }
    if let Some(city) = chinese_city(input, text) {
        return Some(city);
    }
    let skip = [
        "The", "A", "An", "It", "Its", "I", "This", "That", "Capital", "City", "Answer", "Yes",
        "No",
    ];
    let fictional = fictional_countries();
    // The country's own name, echoed, is not a city (a city the question
    // itself states, as in "Its capital is Quenta.", is).
    let asked: Vec<String> = crate::rules::words(&crate::rules::country_in(input));
    // Prefer the name after "… is" / "known as" / "called".
    let after = ["known as ", "called ", " is "]
        .iter()
        .filter_map(|marker| text.find(marker).map(|at| &text[at + marker.len()..]))
        .find(|rest| rest.trim_start().starts_with(char::is_uppercase));
    let mut run: Vec<&str> = Vec::new();
    for word in after
        .unwrap_or(text)
        .split(|c: char| c.is_whitespace() || ",.;:!?\"()".contains(c))
    {
        let capitalised = word.chars().next().is_some_and(char::is_uppercase);
        let echoed = asked.iter().any(|w| w.eq_ignore_ascii_case(word));
        if word.is_empty() || (run.is_empty() && (skip.contains(&word) || echoed)) {
            continue;
        }
        if capitalised && !skip.contains(&word) && !fictional.contains(&word) && !echoed {
            run.push(word);
        } else {
            // The name must lead the text (or follow a marker): a
            // capitalised word deep inside a sentence is not an answer.
            break;
        }
    }
    (!run.is_empty()).then(|| run.join(" "))
}

/// A city named in Chinese that detprob's tables do not hold ("纽约"): the
/// run of Chinese characters after "首都是", or a whole answer that is one
/// short run of them; never the asked country's own name echoed.
fn chinese_city(input: &str, text: &str) -> Option<String> {
    let line = text.trim().lines().next().unwrap_or("").trim();
    let run = match line.find("首都是") {
        Some(at) => line[at + "首都是".len()..]
            .trim_start()
            .chars()
            .take_while(|&c| super::is_ideograph(c))
            .collect::<String>(),
        None => {
            let bare = line.trim_end_matches(['。', '！', '.', '!']);
            if bare.chars().all(super::is_ideograph) {
                bare.to_string()
            } else {
                String::new()
            }
        }
    };
    let count = run.chars().count();
    let asked = crate::rules::country_in(input);
    // Words of a refusal or a question are no city.
    const NOT_A_NAME: &[&str] = &["知道", "抱歉", "无法", "不能", "没有", "不是", "什么", "哪"];
    ((2..=8).contains(&count) && run != asked && !NOT_A_NAME.iter().any(|w| run.contains(w)))
        .then_some(run)
}

/// The sentiment label the text settles on: the label it opens with, else
/// the last one it mentions ("Complementing the negative, positive." →
/// positive).
pub fn label(text: &str) -> Option<String> {
    // Chinese labels are read as their English names.
    let lower = [
        ("正面", "positive"),
        ("积极", "positive"),
        ("负面", "negative"),
        ("消极", "negative"),
        ("中性", "neutral"),
    ]
    .iter()
    .fold(text.to_lowercase(), |t, (zh, en)| t.replace(zh, en));
    let mentions: Vec<(usize, &str)> = {
        let mut m: Vec<(usize, &str)> = ["positive", "negative", "neutral"]
            .into_iter()
            .flat_map(|l| lower.match_indices(l).map(move |(at, _)| (at, l)))
            .collect();
        m.sort();
        m
    };
    let opening = lower
        .trim_start()
        .split(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("");
    mentions
        .iter()
        .find(|(_, l)| *l == opening)
        .or(mentions.last())
        .map(|(_, l)| l.to_string())
}

/// The first non-blank line of a reply, trimmed: the answer to an open
/// question, where no extractor knows what to look for.
pub fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// "yes" or "no" from a leading word or a leap-year statement.
pub fn yes_no(text: &str) -> Option<String> {
    let lower = text.trim().to_lowercase();
    let first = lower
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    match first {
        "yes" => return Some("yes".into()),
        "no" => return Some("no".into()),
        _ => {}
    }
    // Chinese: "不是闰年" (and "并非闰年") before "是闰年", as "not a leap
    // year" before "a leap year"; else a leading 是/对 or 不/否.
    if ["不是闰年", "并非闰年", "不为闰年", "不算闰年"]
        .iter()
        .any(|p| lower.contains(p))
    {
        return Some("no".into());
    }
    if ["是闰年", "为闰年", "算闰年"]
        .iter()
        .any(|p| lower.contains(p))
    {
        return Some("yes".into());
    }
    if let Some(c) = lower.chars().next() {
        if "是对".contains(c) {
            return Some("yes".into());
        }
        if "不否".contains(c) {
            return Some("no".into());
        }
    }
    if [
        "is not a leap",
        "isn't a leap",
        "not a leap year",
        "was not a leap",
    ]
    .iter()
    .any(|p| lower.contains(p))
    {
        Some("no".into())
    } else if lower.contains("is a leap year") || lower.contains("was a leap year") {
        Some("yes".into())
    } else {
        None
    }
}

/// Case- and space-insensitive form for comparing non-numeric answers.
pub fn normalize(answer: &str) -> String {
    answer
        .trim()
        .trim_end_matches('.')
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_answers_are_read() {
        assert_eq!(yes_no("1900年不是闰年。"), Some("no".into()));
        assert_eq!(yes_no("是的，2000年是闰年。"), Some("yes".into()));
        assert_eq!(yes_no("是闰年"), Some("yes".into()));
        assert_eq!(yes_no("不，1900年并非闰年"), Some("no".into()));
        assert_eq!(
            city("法国的首都是哪里？", "法国的首都是巴黎。"),
            Some("Paris".into())
        );
        assert_eq!(
            city("不丹的首都是什么？", "不丹的首都是廷布。"),
            Some("Thimphu".into())
        );
        assert_eq!(
            city("瓦坎达的首都是哪里？", "瓦坎达是一个虚构的国家。"),
            Some(NO_SUCH_COUNTRY.into())
        );
        // A city no table holds is still the model's answer (a wrong one),
        // not "no answer"; the country echoed back is none.
        assert_eq!(city("瓦坎达的首都是哪里？", "纽约"), Some("纽约".into()));
        assert_eq!(
            city("瓦坎达的首都是哪里？", "瓦坎达的首都是克什米尔。"),
            Some("克什米尔".into())
        );
        assert_eq!(city("瓦坎达的首都是哪里？", "瓦坎达"), None);
        assert_eq!(city("瓦坎达的首都是哪里？", "我不知道。"), None);
        assert_eq!(
            city("瓦坎达的首都是哪里？", "我不知道这个问题的答案。"),
            None
        );
        assert_eq!(
            number("48 × 52 等于多少？", "48 × 52 等于 2496。"),
            Some("2496".into())
        );
        assert_eq!(
            number("48 × 52 等于多少？", "结果是2496"),
            Some("2496".into())
        );
        assert_eq!(label("这句话是负面的。"), Some("negative".into()));
        assert_eq!(label("正面。"), Some("positive".into()));
    }

    #[test]
    fn numbers_are_read_with_commas_signs_and_decimals() {
        assert_eq!(number("", "17 + 25 = 42"), Some("42".into()));
        assert_eq!(number("", "2 + 2 = 4"), Some("4".into()));
        assert_eq!(number("", "In 2024 the answer is 7."), Some("7".into()));
        assert_eq!(number("", "42"), Some("42".into()));
        assert_eq!(
            number("", "The answer is 1,234,567.5."),
            Some("1234567.5".into())
        );
        assert_eq!(number("", "It is -40 degrees"), Some("-40".into()));
        assert_eq!(number("", "well-known 7"), Some("7".into()));
        assert_eq!(number("", "no digits here"), None);
        assert_eq!(number("", "Sixty-five."), Some("65".into()));
        assert_eq!(number("", "The answer is forty two"), Some("42".into()));
        assert_eq!(number_words("one hundred and twelve apples"), Some(112));
        assert_eq!(number_words("two thousand and one"), Some(2001));
        assert_eq!(
            number("", "Seventeen plus Twenty-Five."),
            None,
            "an echo of the question is no answer"
        );
        assert_eq!(
            number("", "Seventeen plus twenty-five is forty-two."),
            Some("42".into())
        );
    }

    #[test]
    fn an_echo_of_the_question_or_an_unfinished_expression_is_no_answer() {
        let celsius = "Convert 100 degrees Celsius to Fahrenheit";
        // Real SmolLM2 outputs: the input's number echoed, then an expression.
        assert_eq!(
            number(
                celsius,
                "100 degrees Celsius to Fahrenheit is 100 * (9/5) + 32 = 212"
            ),
            Some("212".into())
        );
        assert_eq!(
            number(
                celsius,
                "100 degrees Celsius to Fahrenheit is 100 * (9/5) …"
            ),
            None
        );
        assert_eq!(number(celsius, "100°C is 212°F."), Some("212".into()));
        let product = "What is 123456789 × 987654321?";
        assert_eq!(number(product, "123456789"), None);
        assert_eq!(number(product, "123456789 × 987654321 ="), None);
        assert_eq!(
            number(product, "121932631112635269"),
            Some("121932631112635269".into())
        );
        assert_eq!(
            number("What is 48 × 52?", "48 × 52 = 2496"),
            Some("2496".into())
        );
        // After "=", a number equal to one of the question's counts.
        assert_eq!(number("What is 5 × 1?", "5 × 1 = 5"), Some("5".into()));
        assert_eq!(number("3 x 4", "3 x 4 is 12"), Some("12".into()));
        assert_eq!(number("17 + 25", "17 + 25 = 32."), Some("32".into()));
        assert_eq!(number("", "-3 + 5"), None, "an expression is not an answer");
    }

    #[test]
    fn cities_are_found_or_denied() {
        assert_eq!(
            city("", "The capital of France is Paris."),
            Some("Paris".into())
        );
        assert_eq!(
            city("", "Wakanda is a fictional country."),
            Some(NO_SUCH_COUNTRY.into())
        );
        assert_eq!(city("", "Birnin Zana"), Some("Birnin Zana".into()));
        assert_eq!(
            city("", "This city is Zaradon, in the east"),
            Some("Zaradon".into())
        );
        assert_eq!(
            city("", "The capital of Wakanda is known as Zana."),
            Some("Zana".into())
        );
        assert_eq!(city("", "It is Thimphu, of course"), Some("Thimphu".into()));
        assert_eq!(city("", "i don't know"), None);
        // A real SmolLM2 reply to "France": the country echoed, no city.
        assert_eq!(
            city(
                "France",
                "France, also known as the City of Light, is a European nation-state"
            ),
            None
        );
        let veldra =
            "Veldra is a new country. Its capital is Quenta. What is the capital of Veldra?";
        assert_eq!(
            city(veldra, "The capital of Veldra is called Quenta."),
            Some("Quenta".into())
        );
        assert_eq!(city(veldra, "Veldra, a young nation."), None);
    }

    #[test]
    fn labels_and_yes_no_are_read() {
        assert_eq!(
            label("This review is Negative overall"),
            Some("negative".into())
        );
        assert_eq!(label("Positive, not negative"), Some("positive".into()));
        // A real SmolLM2 reply: the label it ends on is its answer.
        assert_eq!(
            label("Complementing the negative, positive."),
            Some("positive".into())
        );
        assert_eq!(label("no label"), None);
        assert_eq!(yes_no("Yes, it is."), Some("yes".into()));
        assert_eq!(yes_no("1900 is not a leap year"), Some("no".into()));
        assert_eq!(yes_no("The year 1900 is a leap year."), Some("yes".into()));
        assert_eq!(yes_no("Maybe"), None);
    }
}
