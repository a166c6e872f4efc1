//! Classroom demos on the real model: every shipped scenario runs in the tour
//! (with fewer seeds), takeaways follow the run's numbers, and a malformed
//! scenario is a one-line error naming the file, the line and the field.

mod common;

use common::{assert_input_error, detprob, json};

fn stdout_of(args: &[&str]) -> String {
    let out = detprob().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The tour's length: the numbered scenarios in `demos/`, counted as the
/// build counts them.
fn tour_length() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/demos"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".toml") && n.starts_with(|c: char| c.is_ascii_digit()))
        .count()
}

/// The heading of step `i` of the tour: `i/N · `.
fn step(i: usize) -> String {
    format!("{i}/{} · ", tour_length())
}

/// A tour's terminal output cut into the screens a class sees: each starts
/// at its heading on a rule (`━━ n/N · title`).
fn screens(text: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = text.match_indices("━━ ").map(|(i, _)| i).collect();
    starts.retain(|&i| i == 0 || text[..i].ends_with('\n'));
    starts
        .iter()
        .enumerate()
        .map(|(k, &i)| &text[i..starts.get(k + 1).copied().unwrap_or(text.len())])
        .collect()
}

/// Runs the tour as a projector of 80 × 24 would show it (`--no-pause`
/// output, as piped) and checks that every screen fits: at most 23 lines
/// (the 24th holds the prompt under it), none wider than 80 columns, the
/// claim on every page of a paged step. Returns the output and the steps
/// that needed more than one page.
/// The first cell of every table row in `text`, one after another: what a
/// table's first column says, however its cells wrapped.
fn first_column(text: &str) -> String {
    text.lines()
        .filter_map(|l| l.strip_prefix("│ "))
        .filter_map(|l| l.split_once(" ┆").map(|(cell, _)| cell.trim()))
        .collect()
}

fn tour_on_projector(args: &[&str], claim: &str) -> (String, Vec<String>) {
    let out = detprob()
        .args(args)
        .env("COLUMNS", "80")
        .env("LINES", "24")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // The tour's closing line follows the last screen.
    let body = text.trim_end();
    let body = &body[..body.rfind('\n').unwrap()];
    let mut paged = Vec::new();
    for screen in screens(body) {
        let lines: Vec<&str> = screen.trim_end().lines().collect();
        // A long heading wraps: the claim follows it within three lines.
        let heading_lines = lines.iter().take_while(|l| !l.starts_with(claim)).count();
        assert!(
            (1..=2).contains(&heading_lines),
            "no claim under the heading:\n{screen}"
        );
        let heading = lines[..heading_lines].join(" ");
        let heading = heading.trim_end_matches(['━', ' ']);
        assert!(
            lines.len() <= 23,
            "{} lines on one screen:\n{screen}",
            lines.len()
        );
        for line in &lines {
            let width = textwrap::core::display_width(line);
            assert!(width <= 80, "{width} columns: {line:?}\n{screen}");
        }
        // A paged step's heading ends with its page: (1/2) or （1/2）.
        let page = heading
            .trim_end_matches([')', '）'])
            .rsplit(['(', '（'])
            .next()
            .filter(|p| {
                p.split_once('/')
                    .is_some_and(|(a, b)| a.parse::<u8>().is_ok() && b.parse::<u8>().is_ok())
            });
        if page.is_some_and(|p| p.starts_with("1/")) {
            paged.push(heading.to_string());
        }
    }
    (text, paged)
}

#[test]
fn the_tour_runs_every_scenario_without_pausing_when_stdin_is_not_a_terminal() {
    // The defaults a class gets, on an 80 × 24 projector.
    let (text, paged) = tour_on_projector(&["tour", "--part", "1", "--lang", "en"], "Claim:");
    eprintln!("paged steps (en): {paged:?}");
    // The target allows three paged steps in the whole tour; part 0 pages
    // two (steps 14 and 18, its ladder and its training run), which leaves
    // part 1 one.
    assert!(paged.len() <= 1, "paged: {paged:?}");
    for i in 1..=13 {
        assert!(text.contains(&step(i)), "step {i} missing");
    }
    assert!(!text.contains(&step(14)), "part 0 ran with --part 1");
    for key in [
        "定义",
        "逻辑控制",
        "开发方式",
        "输入处理",
        "输出结果",
        "扩展性",
        "错误类型",
        "执行机制",
        "适用场景",
        "确定性 vs 概率性",
        "规则驱动 vs 数据驱动",
        "可解释性",
        "泛化能力",
    ] {
        assert!(text.contains(key), "{key} missing");
    }
    assert_eq!(
        text.matches("Takeaway (computed from this run):").count(),
        13
    );
    assert!(text.contains("Tour finished: 13 steps"));
    // Step 2 says what the model's likeliest first token reads as, beside
    // the rule's answer, whichever way it came out.
    let flat = text.replace('\n', " ");
    assert!(
        flat.contains("At T=0 the likeliest first token, “")
            && (flat
                .contains(", as the rule answers; but the rule leap-year gives “no” every run")
                || flat.contains("; the rule leap-year answers “no” every run")),
        "{text}"
    );
}

/// Step 20 sets two tasks of one model side by side: on a projector they
/// share one table, so the step fits one screen in both languages.
#[test]
fn tasks_side_by_side_fit_one_projector_screen() {
    for (lang, claim, row) in [
        ("en", "Claim:", "reversal, k = 2"),
        ("zh", "原文观点：", "倒序，k = 2"),
    ] {
        let (text, paged) = tour_on_projector(&["tour", "--only", "20", "--lang", lang], claim);
        assert!(paged.is_empty(), "{lang}: paged {paged:?}\n{text}");
        assert_eq!(text.matches(row).count(), 1, "{text}");
        // One header rule: framed (╞═══) or, compact, open (════).
        let tables = text.lines().filter(|l| l.starts_with(['╞', '═'])).count();
        assert_eq!(tables, 1, "one table:\n{text}");
    }
}

#[test]
fn the_chinese_tour_fits_a_projector_and_asks_in_chinese() {
    let (text, paged) = tour_on_projector(&["tour", "--part", "1", "--lang", "zh"], "原文观点：");
    eprintln!("paged steps (zh): {paged:?}");
    // As in English: part 0 pages two steps, part 1 may page one.
    assert!(paged.len() <= 1, "paged: {paged:?}");
    assert_eq!(text.matches("结论（根据本次运行计算）：").count(), 13);
    let flat = text.replace(['\n', ' '], "");
    assert!(
        flat.contains("T=0时模型最可能的第一个词元“")
            && (flat.contains("与规则的答案相同") || flat.contains("而规则leap-year每次都答“no”")),
        "{text}"
    );
    assert!(
        text.contains("由人类编写的明确指令序列"),
        "the claim is quoted from the source"
    );
    // Wakanda's truth is in words of detprob's own: in Chinese too.
    assert!(
        text.contains("没有这个国家（虚构）") && !text.contains("no such country"),
        "{text}"
    );
    // A Chinese class is asked in Chinese, of a model that writes Chinese,
    // and the larger model of the family answers step 6's product.
    for question in [
        "123456789 × 987654321 等于多少？",
        "1900年是闰年吗？",
        "法国",
        "澳大利亚的首都是哪里？",
        "不丹的首都是哪里？",
        "瓦坎达的首都是哪里？",
        "这部电影不好看。",
        "48 × 52 等于多少？",
        "饭菜是凉的，服务员也不理我们。",
    ] {
        // Table cells and paragraphs wrap: read the text without breaks,
        // and a table's first column as one text.
        let flat = |t: &str| t.replace(['\n', ' '], "");
        assert!(
            flat(&text).contains(&flat(question))
                || flat(&first_column(&text)).contains(&flat(question)),
            "{question} is not asked:\n{text}"
        );
    }
    for english in [
        "What is the capital of",
        "Is 1900 a leap year",
        "What is 48 × 52",
    ] {
        assert!(!text.contains(english), "{english} asked in the zh tour");
    }
    assert!(text.contains("qwen2.5-coder-0.5b"), "the zh tour's model");
    assert!(
        text.replace(['\n', ' '], "")
            .contains("（问qwen2.5-coder-1.5b）"),
        "step 6 names the larger model"
    );
    // The handout of the same tour, in Markdown.
    let handout = stdout_of(&["tour", "--only", "3", "--lang", "zh", "-f", "markdown"]);
    assert!(
        handout.starts_with("# 普通程序与大语言模型：导览"),
        "{handout}"
    );
    assert_eq!(handout.matches("\n## ").count(), 1, "{handout}");
    assert!(
        handout.contains("结论（根据本次运行计算）：") && handout.contains("| 规则 |"),
        "{handout}"
    );
}

#[test]
fn a_takeaway_reports_what_the_model_did_in_that_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    let scenario = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/demos/01-definition.toml"
    ))
    .unwrap()
    .replace("What is 123456789 × 987654321?", "What is 2 + 2?")
    .replace("seeds = \"1..5\"", "seeds = \"1..3\"");
    std::fs::write(&file, scenario).unwrap();
    let step = json(&["demo", "--file", file.to_str().unwrap(), "-f", "json"]);
    let samples = step["result"]["reports"][0]["model"]["samples"]
        .as_array()
        .unwrap();
    assert_eq!(samples.len(), 6, "2 temperatures × 3 seeds");
    // The run is seeded, so what the model did is fixed: the samples are
    // pinned here, and the takeaway must state exactly those counts (its
    // branches are tested one by one on the fake model).
    let outcomes: Vec<(f64, Option<&str>)> = samples
        .iter()
        .map(|s| (s["temperature"].as_f64().unwrap(), s["answer"].as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (0.0, Some("4")),
            (0.0, Some("4")),
            (0.0, Some("4")),
            (0.7, None),
            (0.7, None),
            (0.7, None),
        ]
    );
    assert_eq!(
        step["takeaway"]["en"].as_str().unwrap(),
        "“What is 2 + 2?” (right answer “4”): the rule answered “4” in all 6 runs (right); \
         the model's 6 samples: 3 right, 3 cut off at 48 tokens before an answer. \
         Different outcomes at each temperature: 1 at T=0, 1 at T=0.7; from the rule: 1."
    );
}

#[test]
fn a_malformed_scenario_names_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.toml");
    let good =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/demos/05-output.toml"))
            .unwrap();
    std::fs::write(
        &file,
        good.replace("view = \"repeat\"", "view = \"slideshow\""),
    )
    .unwrap();
    let line = good.lines().position(|l| l.starts_with("view")).unwrap() + 1;
    let path = file.to_str().unwrap();
    assert_input_error(
        &["demo", "--file", path],
        &format!("broken.toml:{line}: field `view`"),
    );
    std::fs::write(&file, good.replace("runs = 6", "runs = \"six\"")).unwrap();
    assert_input_error(&["demo", "--file", path], "field `runs`");
    // A list the command line would refuse is refused from a file too.
    let many = vec!["0.5"; 5_000].join(", ");
    let line = good
        .lines()
        .position(|l| l.starts_with("temperatures"))
        .unwrap();
    let swapped: Vec<String> = good
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == line {
                format!("temperatures = [{many}]")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&file, swapped.join("\n")).unwrap();
    assert_input_error(&["demo", "--file", path], "needs 1 to 100 temperatures");
    assert_input_error(&["demo", "no-such-scenario"], "unknown scenario");
}

#[test]
fn demo_list_shows_every_scenario() {
    let text = stdout_of(&["demo", "--list"]);
    // Rows whose scenario column starts "NN-" (long titles wrap onto
    // continuation lines, which do not).
    let rows = text
        .lines()
        .filter(|l| {
            l.split('┆')
                .nth(1)
                .is_some_and(|c| c.trim().as_bytes().get(2) == Some(&b'-'))
        })
        .count();
    assert_eq!(rows, tour_length(), "{text}");
    assert!(text.contains("05-output") && text.contains("输出结果"));
}

#[test]
fn the_tour_runs_only_the_chosen_steps_and_refuses_steps_it_does_not_have() {
    let text = stdout_of(&["tour", "--only", "3,5", "--runs", "2", "--lang", "en"]);
    assert!(text.contains(&step(3)) && text.contains(&step(5)), "{text}");
    assert!(
        !text.contains(&step(4)) && !text.contains(&step(1)),
        "{text}"
    );
    assert!(text.contains("Tour finished: 2 steps"), "{text}");
    let text = stdout_of(&[
        "tour", "--from", "12", "--part", "1", "--seeds", "1", "--lang", "en",
    ]);
    assert!(text.contains(&step(12)) && text.contains(&step(13)) && !text.contains(&step(11)));
    assert!(!text.contains(&step(14)), "{text}");
    assert_input_error(&["tour", "--only", "23"], "there is no step 23");
    assert_input_error(
        &["tour", "--only", "3", "--part", "0"],
        "none of the chosen steps is in that part",
    );
    assert_input_error(&["tour", "--from", "0"], "there is no step 0");
    assert_input_error(&["tour", "--only", "two"], "--only");
}

#[test]
fn every_input_of_a_tour_step_goes_to_its_own_rule_and_is_scored() {
    // Step 9 mixes a product and a review: each must reach the rule that
    // fits it, and both have a right answer to score against.
    let step = json(&["demo", "9", "--seeds", "1", "-f", "json"]);
    let reports = step["result"]["reports"].as_array().unwrap();
    let rules: Vec<&str> = reports
        .iter()
        .map(|r| r["rule"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["arithmetic", "sentiment"]);
    for r in reports {
        assert!(!r["truth"].is_null(), "{}", r["input"]);
        for s in r["model"]["samples"].as_array().unwrap() {
            assert!(s["correct"].is_boolean(), "every sample is scored: {s}");
        }
    }
    // The takeaway's counts are the samples' counts.
    let takeaway = step["takeaway"]["en"].as_str().unwrap();
    let review = &reports[1]["model"]["samples"];
    let right = review
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["correct"] == true)
        .count();
    let n = review.as_array().unwrap().len();
    // The review is the table's second row.
    assert!(
        takeaway.contains("score per row: ") && takeaway.contains(&format!(", {right}/{n}")),
        "{takeaway}"
    );
}

#[test]
fn the_chinese_tour_labels_and_takeaways_come_from_the_catalogue() {
    let text = stdout_of(&[
        "tour", "--only", "4,5", "--seeds", "1", "--runs", "2", "--lang", "zh",
    ]);
    for english in [
        "TAKEAWAY",
        "CLAIM",
        "LIVE RUN",
        "POINT OUT",
        "Input:",
        "truth:",
        "distinct outputs",
        "not in table",
        "samples",
    ] {
        assert!(
            !text.contains(english),
            "English {english:?} in the zh tour:\n{text}"
        );
    }
    assert!(
        text.contains("结论（根据本次运行计算）") && text.contains("表中没有"),
        "{text}"
    );
}

#[test]
fn part_0_of_the_tour_measures_emergence_in_chinese_with_every_takeaway_computed() {
    // Steps 17 and 18 train networks (about 40 s together): the test below
    // runs their views on a short budget instead. Step 20 has its own
    // test. On an 80 × 24 projector, as a class sees it: every screen fits
    // and only the ladder (step 14) is paged; step 18 is the tour's third.
    let (text, paged) = tour_on_projector(
        &[
            "tour",
            "--part",
            "0",
            "--only",
            "14,15,16,19,21",
            "--lang",
            "zh",
        ],
        "原文观点：",
    );
    assert!(
        paged.len() == 1 && paged[0].starts_with("━━ 14/22 · "),
        "paged: {paged:?}"
    );
    // Text wrapped to the screen, read as one line.
    let flat = text.replace(['\n', ' '], "");
    for (i, key) in [
        (14, "涌现能力的定义"),
        (15, "评价指标不够平滑"),
        (16, "复杂任务由多个子任务构成"),
        (19, "误区1"),
        (21, "误区3"),
    ] {
        // The heading names the note's term (a Chinese title quotes it).
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("━━ {i}/22 · ")) && l.contains(key)),
            "{key} missing:\n{text}"
        );
    }
    assert_eq!(
        text.matches("结论（根据本次运行计算）：").count(),
        5,
        "part 1 ran with --part 0"
    );
    // Step 14 is the ladder: four real models by size, the Qwen pair
    // named as the one same-family step, every sentence from its run.
    for model in [
        "smollm2-135m",
        "gemma3-270m",
        "qwen2.5-coder-0.5b",
        "qwen2.5-coder-1.5b",
    ] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(model)),
            "no row of {model}:\n{text}"
        );
    }
    // The span across families is confounded: with a same-family step,
    // the takeaway does not tell it.
    assert!(!flat.contains("从最小的模型"), "{text}");
    // One sentence for the same-family step, every length in it.
    let family = flat
        .split("唯一的同族比较，qwen2.5-coder-0.5b→qwen2.5-coder-1.5b")
        .collect::<Vec<_>>();
    assert_eq!(family.len(), 2, "{text}");
    let sentence = family[1].split('。').next().unwrap();
    assert!(
        sentence.contains("k=1时完全正确率") && sentence.contains("k=2时完全正确率"),
        "{sentence}"
    );
    assert!(flat.contains("只有同族的一步才单独体现规模"), "{text}");
    // Step 15 asks Gemma: one metric takeaway, from its run. Step 21 trains
    // the same recipe with three seeds and says whether the jump moved.
    assert_eq!(
        flat.matches("gemma3-270m，k位数加法，从k=").count(),
        1,
        "{text}"
    );
    assert!(flat.contains("对3个种子取平均"), "{text}");
    assert!(
        flat.contains("跳变点随种子而变") || flat.contains("每次都在宽度"),
        "{text}"
    );
    assert_eq!(flat.matches("子任务准确率从80%平滑升到95%").count(), 2);
    for english in [
        "exact match",
        "per digit",
        "Takeaway",
        "length k",
        "measured",
    ] {
        assert!(
            !text.contains(english),
            "English {english:?} in the zh tour:\n{text}"
        );
    }
}

#[test]
fn the_training_views_run_from_a_scenario_with_computed_takeaways() {
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [
        ("17-scale.toml", "train_steps = 150\nwidths = [4, 32]\n"),
        ("18-grokking.toml", "train_steps = 120\n"),
        (
            "22-grokking-steered.toml",
            "train_steps = 150\ntrain_fractions = [0.3, 0.5]\nweight_decays = [0.0, 1.0]\n",
        ),
    ] {
        let text = std::fs::read_to_string(format!("{}/demos/{name}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .replace("train_steps = 1500\n", "")
            .replace("train_steps = 2000\n", "")
            .replace("train_fractions = [0.2, 0.3, 0.5]\n", "")
            .replace("weight_decays = [0.0, 0.3]\n", "")
            .replace("widths = [4, 8, 16, 32, 64, 128]\n", "");
        let file = dir.path().join(name);
        std::fs::write(&file, format!("{text}{extra}")).unwrap();
        let step = json(&["demo", "--file", file.to_str().unwrap(), "-f", "json"]);
        let takeaway = step["takeaway"]["en"].as_str().unwrap();
        match step["result"]["view"].as_str().unwrap() {
            "scale" => {
                let points = step["result"]["report"]["points"].as_array().unwrap();
                assert_eq!(points.len(), 2);
                let digit = points[0]["per_digit_accuracy"].as_f64().unwrap();
                assert!(
                    takeaway.contains(&format!("{:.1}%", 100.0 * digit)),
                    "{takeaway}"
                );
            }
            "grok" => {
                let rows = step["result"]["report"]["rows"].as_array().unwrap();
                assert_eq!(rows.last().unwrap()["step"], 120);
                assert!(takeaway.contains("steps per second"), "{takeaway}");
            }
            "phase" => {
                // One cell per fraction and weight decay, and one sentence
                // per weight decay saying what its cells did.
                let report = &step["result"]["report"];
                assert_eq!(report["cells"].as_array().unwrap().len(), 4);
                for threshold in report["thresholds"].as_array().unwrap() {
                    let wd = threshold["weight_decay"].as_f64().unwrap();
                    let said = match threshold["smallest_fraction"].as_f64() {
                        Some(f) => format!(
                            "{:.0}% of the pairs, generalized (test ≥ 95% at step {})",
                            100.0 * f,
                            threshold["at_step"].as_u64().unwrap()
                        ),
                        None => "no amount of data here generalized within 150 steps".into(),
                    };
                    assert!(
                        takeaway.contains(&format!("Weight decay {wd}"))
                            && takeaway.contains(&said),
                        "{said:?} for {wd} not in {takeaway}"
                    );
                }
            }
            other => panic!("unexpected view {other}"),
        }
        // The Chinese takeaway is computed alike, with no English sentence.
        let zh = step["takeaway"]["zh"].as_str().unwrap();
        assert!(!zh.contains(" the "), "{zh}");
    }
}
