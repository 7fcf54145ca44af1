//! Every environment's documentation follows one template, with Gymnasium's section names in
//! Gymnasium's order (`gymnasium/envs/classic_control/cartpole.py` is the model): this test reads
//! the doc comment of each environment type from its source file.

/// The sections, in order.
const SECTIONS: [&str; 8] = [
    "# Description",
    "# Action Space",
    "# Observation Space",
    "# Rewards",
    "# Starting State",
    "# Episode End",
    "# Arguments",
    "# Version History",
];

/// Every environment type of the crate: (type, its source file).
const ENVIRONMENTS: [(&str, &str); 13] = [
    (
        "CartPole",
        include_str!("../src/classic_control/cartpole.rs"),
    ),
    (
        "MountainCar",
        include_str!("../src/classic_control/mountain_car.rs"),
    ),
    (
        "ContinuousMountainCar",
        include_str!("../src/classic_control/continuous_mountain_car.rs"),
    ),
    (
        "Acrobot",
        include_str!("../src/classic_control/acrobot/mod.rs"),
    ),
    (
        "Pendulum",
        include_str!("../src/classic_control/pendulum.rs"),
    ),
    ("KArmedBandit", include_str!("../src/toy/bandit.rs")),
    ("GridWorld", include_str!("../src/toy/gridworld.rs")),
    ("FrozenLake", include_str!("../src/toy_text/frozen_lake.rs")),
    (
        "CliffWalking",
        include_str!("../src/toy_text/cliff_walking.rs"),
    ),
    ("Taxi", include_str!("../src/toy_text/taxi.rs")),
    ("Blackjack", include_str!("../src/toy_text/blackjack.rs")),
    ("TextGenEnv", include_str!("../src/text/text_gen_env.rs")),
    (
        "CompletionBandit",
        include_str!("../src/text/completion_bandit.rs"),
    ),
];

/// The `///` lines right above `pub struct <name>` (attributes skipped), without the `///`.
fn doc_of(name: &str, source: &str) -> Vec<String> {
    let lines: Vec<&str> = source.lines().collect();
    let decl = format!("pub struct {name}");
    let at = lines
        .iter()
        .position(|l| {
            l.starts_with(&decl)
                && l[decl.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric())
        })
        .unwrap_or_else(|| panic!("no `{decl}` in its source file"));
    let mut doc = Vec::new();
    for line in lines[..at].iter().rev() {
        let line = line.trim_start();
        if line.starts_with("#[") {
            continue;
        }
        match line.strip_prefix("///") {
            Some(text) => doc.push(text.trim().to_string()),
            None => break,
        }
    }
    doc.reverse();
    doc
}

/// What is wrong with the doc of `name` (empty when it follows the template).
fn template_problems(name: &str, source: &str) -> Vec<String> {
    let doc = doc_of(name, source);
    let mut problems = Vec::new();
    if !doc
        .first()
        .is_some_and(|l| !l.is_empty() && !l.starts_with('#'))
    {
        problems.push(format!("{name}: the doc starts with a one-line summary"));
    }
    let template: Vec<&str> = doc
        .iter()
        .map(String::as_str)
        .filter(|l| SECTIONS.contains(l))
        .collect();
    if template != SECTIONS {
        problems.push(format!(
            "{name}: sections missing or out of order: {template:?}"
        ));
    }
    let section = |title: &str| -> Vec<&str> {
        doc.iter()
            .map(String::as_str)
            .skip_while(|l| *l != title)
            .skip(1)
            .take_while(|l| !l.starts_with("# "))
            .filter(|l| !l.is_empty())
            .collect()
    };
    for title in SECTIONS {
        if section(title).is_empty() {
            problems.push(format!("{name}: {title} is missing or empty"));
        }
    }
    if !section("# Observation Space")
        .iter()
        .any(|l| l.starts_with("| Num |") && l.contains("| Min | Max |"))
    {
        problems.push(format!(
            "{name}: the observation space has no `| Num | ... | Min | Max |` table"
        ));
    }
    problems
}

#[test]
fn every_environment_has_the_template_sections_in_order() {
    let problems: Vec<String> = ENVIRONMENTS
        .iter()
        .flat_map(|(name, source)| template_problems(name, source))
        .collect();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn the_doc_reader_finds_sections() {
    let source =
        "/// Summary.\n///\n/// # Description\n/// Text.\n#[derive(Debug)]\npub struct Thing;\n";
    let doc = doc_of("Thing", source);
    assert_eq!(doc, ["Summary.", "", "# Description", "Text."]);
    let problems = template_problems("Thing", source);
    assert!(problems.iter().any(|p| p.contains("out of order")));
    assert!(problems.iter().any(|p| p.contains("# Rewards is missing")));
    assert!(problems.iter().any(|p| p.contains("Min | Max")));
    assert!(template_problems("CartPole", ENVIRONMENTS[0].1).is_empty());
}
