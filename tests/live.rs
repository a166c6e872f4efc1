//! `detprob live` driven as a teacher would, in a real terminal (tmux, when
//! present): type a question, change the temperature, replay the seed, see
//! "reproduced", quit with exit 0. Without a terminal it refuses in one line.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::assert_input_error;

struct Tmux(String);

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.0])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.0];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Waits until the screen shows `text`.
    fn expect(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{text:?} never appeared:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

/// `detprob live --lang LANG` in a new tmux session of `columns` × `rows`,
/// or `None` (a visible skip) when tmux is not installed outside CI.
fn start_live(lang: &str, columns: &str, rows: &str) -> Option<Tmux> {
    start(
        &format!("live --lang {lang}"),
        &format!("live-{lang}"),
        columns,
        rows,
    )
}

/// `detprob ARGS` in a new tmux session named after `what`, or `None`
/// without tmux.
fn start(args: &str, what: &str, columns: &str, rows: &str) -> Option<Tmux> {
    if !common::has_tool("tmux") {
        return None;
    }
    let name = format!("detprob-{what}-{}", std::process::id());
    let command = format!(
        "{} {args}; echo EXIT=$?; sleep 30",
        env!("CARGO_BIN_EXE_detprob")
    );
    let status = Command::new("tmux")
        .args(["new-session", "-d", "-s", &name, "-x", columns, "-y", rows])
        .arg(&command)
        .status()
        .unwrap();
    assert!(status.success());
    Some(Tmux(name))
}

#[test]
fn a_teacher_types_a_question_changes_the_temperature_and_replays_a_seed() {
    let Some(tmux) = start_live("en", "100", "32") else {
        return;
    };
    tmux.expect("Type a question and press Enter.");
    tmux.keys(&["-l", "What is 17 + 25?"]);
    tmux.keys(&["Enter"]);
    tmux.expect("Rule: arithmetic");
    tmux.expect("red, underlined");
    tmux.keys(&["Right"]);
    tmux.expect("T = 1 · seed 1");
    tmux.expect("Next token at T = 1");
    // A first sample at the new temperature, then the same seed again.
    tmux.keys(&["s"]);
    tmux.keys(&["s"]);
    let screen = tmux.expect("Reproduced: identical");
    assert!(screen.contains("Answer: 42"), "{screen}");
    tmux.keys(&["q"]);
    tmux.expect("EXIT=0");
}

#[test]
fn without_a_terminal_live_says_what_to_use_instead() {
    assert_input_error(&["live"], "detprob live needs a terminal");
}

/// A Chinese class at 80×24: live starts on the Chinese-capable model, the
/// rule answers the question typed in Chinese, `r` counts the answers the
/// task reads (not eight phrasings), and no broken character shows.
#[test]
fn a_chinese_question_in_an_80_by_24_terminal_shows_whole_characters() {
    let Some(tmux) = start_live("zh", "80", "24") else {
        return;
    };
    tmux.expect("qwen2.5-coder-0.5b");
    tmux.keys(&["-l", "1900年是闰年吗？"]);
    tmux.keys(&["Enter"]);
    let screen = tmux.expect("规则：leap-year");
    assert!(screen.contains("答案：no"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.keys(&["r"]);
    let screen = tmux.expect("个不同的答案");
    assert!(
        !screen.contains('\u{FFFD}'),
        "a broken character on screen:\n{screen}"
    );
    let counted = screen.lines().find(|l| l.contains("个不同的答案")).unwrap();
    assert!(
        counted.contains("“yes”")
            || counted.contains("“no”")
            || counted.contains("没有答案")
            || counted.contains("截断"),
        "the answers counted are not the task's: {counted}"
    );
    tmux.keys(&["q"]);
    tmux.expect("EXIT=0");
}

#[test]
fn a_long_tour_step_pages_on_a_projector_with_its_claim_pinned() {
    // Step 7 asks four questions of SmolLM2, whose answers wander: in
    // English at 80 × 24 it needs two pages.
    let Some(tmux) = start("tour --only 7 --lang en", "tour-en", "80", "24") else {
        return;
    };
    let first = tmux.expect("Space: more (page 1 of 2)");
    assert!(
        first.contains("7/22 · 错误类型 · Error types (1/2)"),
        "{first}"
    );
    assert!(
        first.contains("Claim: Program: logic errors, code bugs."),
        "{first}"
    );
    assert!(
        !first.contains("Takeaway (computed from this run)"),
        "{first}"
    );
    tmux.keys(&["Space"]);
    let second = tmux.expect("7/22 · 错误类型 · Error types (2/2)");
    assert!(
        second.contains("Claim: Program: logic errors, code bugs."),
        "the claim stays:\n{second}"
    );
    assert!(
        second.contains("Takeaway (computed from this run)"),
        "{second}"
    );
    assert!(second.lines().count() <= 24);
    tmux.expect("EXIT=0");
}

#[test]
fn a_comparison_shows_its_rows_on_screen_as_they_finish() {
    // Step 7 asks four questions: while the later ones compute, the
    // finished rows are already under the claim, above the progress bar.
    let Some(tmux) = start("tour --only 7 --lang zh", "tour-rows", "80", "24") else {
        return;
    };
    let started = Instant::now();
    let partial = loop {
        let screen = tmux.screen();
        assert!(
            !screen.contains("结论（根据本次运行计算）"),
            "the step finished before any row was shown:\n{screen}"
        );
        if screen.contains("│ 1900年是闰年吗？") {
            break screen;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{screen}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        partial.contains("原文观点：普通程序：逻辑错误"),
        "{partial}"
    );
    assert!(
        !partial.contains("│ 我喜欢这部电影。"),
        "the last row is shown only when it is done:\n{partial}"
    );
    assert!(partial.lines().count() <= 24, "{partial}");
    let done = tmux.expect("结论（根据本次运行计算）");
    assert!(done.contains("│ 我喜欢这部电影。"), "{done}");
    tmux.expect("EXIT=0");
}

#[test]
fn a_huge_paste_is_one_event_cut_at_the_input_limit_and_keys_still_work() {
    let Some(tmux) = start("live --lang en", "live-paste", "80", "24") else {
        return;
    };
    tmux.expect("Type a question");
    // 10,000 characters pasted as a terminal pastes them (bracketed).
    let paste = std::env::temp_dir().join(format!("detprob-paste-{}", std::process::id()));
    std::fs::write(&paste, "x".repeat(10_000)).unwrap();
    tmux.run(&["load-buffer", paste.to_str().unwrap()]);
    tmux.run(&["paste-buffer", "-p", "-t", &tmux.0]);
    let _ = std::fs::remove_file(&paste);
    tmux.expect("│xxxxxxxxxx");
    let started = Instant::now();
    tmux.keys(&["C-c"]);
    tmux.expect("EXIT=0");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "Ctrl-C after a paste took {:?}",
        started.elapsed()
    );
}
