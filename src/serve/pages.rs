//! The classroom's pages, embedded in the binary: the projector's page and
//! the student's, with the words of the catalogue's `page.` section put in
//! as JSON (the script reads them; no text is built into the markup).

use crate::words::Lang;

/// The script both pages run.
pub const SCRIPT: &str = include_str!("pages/class.js");
/// Their style sheet.
pub const STYLE: &str = include_str!("pages/class.css");

/// The `<head>` both pages share (language, title, words, style, script).
const HEAD: &str = include_str!("pages/head.html");
const PROJECTOR: &str = include_str!("pages/projector.html");
const STUDENT: &str = include_str!("pages/join.html");

/// Which page.
#[derive(Debug, Clone, Copy)]
pub enum Page {
    Projector,
    Student,
}

/// The page's HTML in `lang`.
pub fn page(which: Page, lang: Lang) -> String {
    let (template, title) = match which {
        Page::Projector => (PROJECTOR, "page.projector_title"),
        Page::Student => (STUDENT, "page.student_title"),
    };
    let words = serde_json::to_string(&lang.section("page.")).expect("strings serialize");
    // Inside <script>, "<" could close the element: JSON allows it escaped.
    let words = words.replace('<', "\\u003c");
    template
        .replace("{head}", HEAD)
        .replace("{lang}", if lang == Lang::Zh { "zh-CN" } else { "en" })
        .replace("{title}", &crate::render::markup::escape(lang.text(title)))
        .replace("{words}", &words)
}
