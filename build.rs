//! Lists what the binary embeds from two directories, so adding a file is
//! all it takes: every numbered scenario in `demos/` (the tour, in file-name
//! order) and every source and data file of `src/rules/` (counted by the
//! "rules vs model size" step).

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let root = Path::new(&root);
    println!("cargo:rerun-if-changed=demos");
    println!("cargo:rerun-if-changed=src/rules");

    // The tour's scenarios: `NN-name.toml`, in order.
    let scenarios = names(&root.join("demos"), |name| {
        name.ends_with(".toml") && name.as_bytes().first().is_some_and(u8::is_ascii_digit)
    });
    let mut code =
        String::from("/// The scenarios shipped in `demos/` (file name, text), in tour order.\n");
    writeln!(
        code,
        "pub const BUILTIN: [(&str, &str); {}] = [",
        scenarios.len()
    )
    .unwrap();
    for name in &scenarios {
        let path = root.join("demos").join(name);
        writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    std::fs::write(Path::new(&out).join("scenarios.rs"), code).expect("OUT_DIR is writable");

    // The rules' Rust source and their data tables.
    let rules = root.join("src").join("rules");
    let sources = names(&rules, |name| name.ends_with(".rs"));
    let data = names(&rules, |name| !name.ends_with(".rs"));
    let mut code = String::new();
    for (what, list) in [("RULE_SOURCES", &sources), ("RULE_DATA", &data)] {
        writeln!(code, "const {what}: [&str; {}] = [", list.len()).unwrap();
        for name in list {
            let path = rules.join(name);
            writeln!(code, "    include_str!({:?}),", path.display().to_string()).unwrap();
        }
        code.push_str("];\n");
    }
    std::fs::write(Path::new(&out).join("rule_sources.rs"), code).expect("OUT_DIR is writable");
}

/// The names of the files in `dir` that `keep` accepts, sorted.
fn names(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| keep(name))
        .collect();
    names.sort();
    names
}
