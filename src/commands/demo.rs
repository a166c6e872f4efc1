//! `detprob demo` and `detprob tour`. The tour is the one command that prints
//! as it goes: each step appears when it is ready, and on a terminal the tour
//! waits for Enter before the next.

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::{ClassroomArgs, DemoArgs, TourArgs};
use crate::demo::{self, Overrides};
use crate::error::invalid;
use crate::lm;
use crate::options::parse_seeds;
use crate::progress;
use crate::render::{self, Format, Printed, Render, View};
use crate::report::demo::{DemoRun, DemoStep, ScenarioList, TourReport};
use crate::scenario::Scenario;

/// The demo's model; with `--model` or `--model-file` it serves every step,
/// else steps may ask the models they name as well. A class in Chinese
/// gets a model that answers Chinese unless the user named one.
fn load_models(args: &ClassroomArgs, lang: crate::words::Lang) -> anyhow::Result<demo::Models> {
    let model = &args.model;
    let fixed = model.model.is_some() || model.model_file.is_some();
    let main = lm::load(&super::class_model_choice(model, lang)?, model.engine)?;
    Ok(demo::Models::new(main, model.engine, fixed))
}

fn overrides(args: &ClassroomArgs) -> anyhow::Result<Overrides> {
    if let Some(runs) = args.runs {
        crate::options::check_runs(runs, "--runs")?;
    }
    Ok(Overrides {
        seeds: args.seeds.as_ref().map(|s| s.0.clone()),
        runs: args.runs,
    })
}

pub fn run(args: DemoArgs, lang: crate::words::Lang) -> anyhow::Result<Box<dyn Render>> {
    let builtin = Scenario::builtin();
    if args.list {
        return Ok(Box::new(ScenarioList(builtin)));
    }
    let scenario = match (&args.file, &args.name) {
        (Some(path), _) => Scenario::from_file(path)?,
        (None, Some(name)) => builtin
            .iter()
            .find(|s| {
                s.name == *name
                    || s.name.split_once('-').is_some_and(|(_, n)| n == name)
                    || name.parse::<u32>().is_ok_and(|n| n == s.order)
            })
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = builtin.iter().map(|s| s.name.as_str()).collect();
                invalid(format!(
                    "unknown scenario '{name}' (scenarios: {})",
                    names.join(", ")
                ))
            })?,
        (None, None) => return Err(invalid("name a scenario, or use --list or --file FILE").into()),
    };
    let overrides = overrides(&args.classroom)?;
    let mut models = load_models(&args.classroom, lang)?;
    let position = (scenario.order as usize, builtin.len());
    let step = run_step(&mut models, &scenario, &overrides, position, lang, None)?;
    Ok(Box::new(DemoRun {
        step,
        model: models.main.info.label(),
        position,
    }))
}

/// Runs one scenario, with "step n of m: title" on stderr while it works;
/// `screen` draws what is done so far (a comparison's finished rows) as a
/// clean screen above the bar.
fn run_step(
    models: &mut demo::Models,
    scenario: &Scenario,
    overrides: &Overrides,
    (number, count): (usize, usize),
    lang: crate::words::Lang,
    screen: Option<&dyn Fn(crate::report::demo::SoFar) -> String>,
) -> anyhow::Result<DemoStep> {
    let title = lang.fill(
        "tour.progress",
        &[
            ("n", &number),
            ("count", &count),
            ("title", &lang.pick(&scenario.title)),
        ],
    );
    // A bar of the step's inputs, models or training steps, named by the
    // part being worked on: never a bare spinner for a long step.
    let working = progress::spinner(&title);
    let step = demo::run(
        models,
        &scenario.in_language(lang),
        overrides,
        &|what, done, of| {
            let what = crate::comparison::shorten(what, 32);
            let label = if what.is_empty() {
                title.clone()
            } else {
                format!("{title} · {what}")
            };
            progress::relabel(&working, &render::style::terminal_safe(&label));
            working.set_length(of as u64);
            working.set_position(done as u64);
        },
        &|so_far| {
            if let Some(screen) = screen {
                // Redrawn in place: home, each line cleared to its end, and
                // the rest of the screen below.
                let text = screen(so_far).replace('\n', "\x1b[K\n");
                working.suspend(|| {
                    let mut stdout = std::io::stdout().lock();
                    let _ = write!(stdout, "\x1b[H{text}\x1b[J");
                    let _ = stdout.flush();
                });
            }
        },
    );
    working.finish_and_clear();
    step
}

/// What a key pressed under a paged step asks for.
#[derive(Debug, PartialEq, Eq)]
enum Key {
    /// Space: the step's next page.
    More,
    /// Enter: on to the next step.
    Next,
}

/// Shows `prompt` and waits for Space (more) or Enter (next step); other
/// keys are ignored, Ctrl-C ends the tour (exit 130, as the signal would).
/// Falls back to a line read where
/// the terminal cannot give single keys.
fn wait_for_key(stdout: &mut std::io::StdoutLock, prompt: &str) -> anyhow::Result<Key> {
    use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
    use ratatui::crossterm::terminal;
    write!(stdout, "{prompt}")?;
    stdout.flush()?;
    if terminal::enable_raw_mode().is_err() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(Key::More);
    }
    let key = loop {
        match event::read() {
            Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => match k.code {
                KeyCode::Char(' ') | KeyCode::PageDown | KeyCode::Down => break Some(Key::More),
                KeyCode::Enter => break Some(Key::Next),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => break None,
                _ => {}
            },
            Ok(_) => {}
            Err(_) => break Some(Key::More),
        }
    };
    let _ = terminal::disable_raw_mode();
    writeln!(stdout)?;
    match key {
        Some(key) => Ok(key),
        None => std::process::exit(130),
    }
}

/// Clears the terminal and puts the cursor at the top left.
const CLEAR_SCREEN: &str = "\x1b[2J\x1b[H";

/// The tour's steps that `--only` or `--from` select (numbered from 1).
fn selected_steps(args: &TourArgs, count: usize) -> anyhow::Result<Vec<usize>> {
    let steps: Vec<usize> = match (&args.only, args.from) {
        (Some(list), _) => parse_seeds(list)
            .map_err(|_| {
                invalid(format!(
                    "--only: '{list}' is not a list of steps like 2,5,7 or 4..6"
                ))
            })?
            .into_iter()
            .map(|n| n as usize)
            .collect(),
        (None, Some(from)) => (from..=count).collect(),
        (None, None) => (1..=count).collect(),
    };
    if let Some(bad) = steps.iter().find(|&&n| n == 0 || n > count) {
        return Err(invalid(format!(
            "the tour has steps 1 to {count}; there is no step {bad}"
        ))
        .into());
    }
    if steps.is_empty() {
        return Err(invalid(format!("--from: the tour has steps 1 to {count}")).into());
    }
    Ok(steps)
}

pub fn tour(args: TourArgs, view: &View) -> anyhow::Result<Box<dyn Render>> {
    let lang = view.lang;
    let overrides = overrides(&args.classroom)?;
    let all = Scenario::builtin();
    let steps = selected_steps(&args, all.len())?;
    let scenarios: Vec<(usize, &Scenario)> = steps
        .iter()
        .map(|&n| (n, &all[n - 1]))
        .filter(|(_, s)| args.part.includes(s.part))
        .collect();
    if scenarios.is_empty() {
        return Err(invalid("--part: none of the chosen steps is in that part of the note").into());
    }
    let format = view.format;
    let interactive = format == Format::Terminal
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal();
    let pause = !args.no_pause && interactive;
    let predict = args.predict && interactive;
    let mut models = load_models(&args.classroom, lang)?;
    let label = models.main.info.label();
    let style = &view.style;
    let started = std::time::Instant::now();
    let mut stdout = std::io::stdout().lock();
    let on_terminal = stdout.is_terminal();
    let safe = |text: String| -> String {
        if on_terminal {
            render::style::terminal_safe(&text).into_owned()
        } else {
            text
        }
    };
    let mut steps = Vec::new();
    write!(stdout, "{}", render::demo::tour_head(&label, view))?;
    let wait_for_enter = |stdout: &mut std::io::StdoutLock, text: &str| -> anyhow::Result<()> {
        write!(stdout, "{text}")?;
        stdout.flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(())
    };
    for (i, &(number, scenario)) in scenarios.iter().enumerate() {
        // Slides: with pauses on a terminal, each step starts on a clean screen.
        if pause || predict {
            write!(stdout, "{CLEAR_SCREEN}")?;
        }
        if predict {
            write!(
                stdout,
                "{}",
                render::demo::predict_screen(scenario, Some((number, all.len())), lang, style)
            )?;
            wait_for_enter(&mut stdout, render::demo::predict(lang))?;
        }
        let position = (number, all.len());
        if pause && !predict {
            // The claim stays on screen while the step computes.
            let claim = render::demo::step_claim(scenario, Some(position), lang, style);
            write!(stdout, "{}", safe(claim))?;
            stdout.flush()?;
        }
        // With pauses, a comparison's rows appear as they finish.
        let so_far = |done: crate::report::demo::SoFar| {
            safe(render::demo::step_so_far(
                scenario,
                Some(position),
                done,
                lang,
                style,
            ))
        };
        let screen: Option<&dyn Fn(crate::report::demo::SoFar) -> String> =
            (pause && !predict).then_some(&so_far);
        let step = run_step(&mut models, scenario, &overrides, position, lang, screen)?;
        if !pause {
            match render::demo::tour_step(&step, position, view) {
                Some(text) => write!(stdout, "{}", safe(text))?,
                None => steps.push(step),
            }
            stdout.flush()?;
            continue;
        }
        let pages = render::demo::step_screens(&step, Some(position), lang, style);
        for (page, text) in pages.iter().enumerate() {
            // The prompt takes the line under the page (a screen's last).
            let text = text.strip_suffix('\n').unwrap_or(text);
            write!(stdout, "{CLEAR_SCREEN}{}", safe(text.to_string()))?;
            stdout.flush()?;
            if page + 1 < pages.len() {
                let more = lang.fill(
                    "tour.more",
                    &[("page", &(page + 1)), ("pages", &pages.len())],
                );
                if wait_for_key(&mut stdout, &more)? == Key::Next {
                    break;
                }
            }
        }
        if i + 1 < scenarios.len() {
            wait_for_enter(&mut stdout, render::demo::press_enter(lang))?;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(match format {
        Format::Json => Box::new(TourReport { steps, seconds }),
        _ => Box::new(Printed(render::demo::tour_foot(
            scenarios.len(),
            seconds,
            view,
        ))),
    })
}
