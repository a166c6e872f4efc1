//! HTML's building blocks — escaping, a bold title line, a table of text
//! cells — shared by the HTML handout and the renderers of the views it
//! embeds. A leaf of `render`, so those renderers write their own HTML from
//! their cells without importing the handout.

use std::fmt::Write as _;

/// `text` with HTML's special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c != '\n' && c != '\t' && super::style::acts_on_display(c) => {
                out.push_str(&super::style::shown_as_text(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` as a bold line of its own.
pub fn title(text: &str) -> String {
    format!("<p><strong>{}</strong></p>", escape(text.trim()))
}

/// A table of `headers` and `rows` (each cell on one line).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>");
    table_row(&mut out, "th", headers.iter().copied());
    for row in rows {
        table_row(&mut out, "td", row.iter().map(String::as_str));
    }
    out.push_str("</table>\n");
    out
}

/// One `<tr>` of `cells`, each in a `tag` element.
fn table_row<'a>(out: &mut String, tag: &str, cells: impl Iterator<Item = &'a str>) {
    out.push_str("<tr>");
    for cell in cells {
        let _ = write!(
            out,
            "<{tag}>{}</{tag}>",
            escape(cell.replace('\n', " ").trim())
        );
    }
    out.push_str("</tr>");
}
