//! Human-readable listings of a registry.

use super::spec::EnvSpec;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The ids grouped by [`EnvSpec::group`] (groups and ids sorted), `num_cols` ids per row, each
/// padded to the longest id. Groups are headed `===== group =====` and separated by a blank
/// line. An empty registry gives an empty string.
pub(crate) fn pprint<'a>(
    specs: impl Iterator<Item = &'a EnvSpec>,
    num_cols: usize,
    exclude_groups: &[&str],
) -> String {
    let num_cols = num_cols.max(1);
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for spec in specs {
        let group = spec.group();
        if !exclude_groups.contains(&group.as_str()) {
            groups.entry(group).or_default().push(spec.id());
        }
    }
    let width = groups
        .values()
        .flatten()
        .map(|id| id.chars().count())
        .max()
        .unwrap_or(0);
    let mut blocks = Vec::with_capacity(groups.len());
    for (group, mut ids) in groups {
        ids.sort();
        let mut block = format!("===== {group} =====");
        for row in ids.chunks(num_cols) {
            block.push('\n');
            let line: Vec<String> = row.iter().map(|id| format!("{id:<width$}")).collect();
            block.push_str(line.join(" ").trim_end());
        }
        blocks.push(block);
    }
    blocks.join("\n\n")
}

/// One row per spec: id, step limit, reward threshold, description (columns aligned).
pub(crate) fn table<'a>(specs: impl Iterator<Item = &'a EnvSpec>) -> String {
    let rows: Vec<[String; 4]> = specs
        .map(|s| {
            [
                s.id(),
                s.max_episode_steps
                    .map_or_else(|| "-".to_string(), |n| n.to_string()),
                s.reward_threshold
                    .map_or_else(|| "-".to_string(), |r| r.to_string()),
                s.description.clone(),
            ]
        })
        .collect();
    let header = [
        "id".to_string(),
        "max_steps".to_string(),
        "threshold".to_string(),
        "description".to_string(),
    ];
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        );
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, entry: &str) -> EnvSpec {
        EnvSpec::new(id).unwrap().with_entry_point(entry)
    }

    #[test]
    fn groups_and_columns() {
        let specs = [
            spec("CartPole-v1", "envs::classic_control::cartpole::CartPole"),
            spec("Acrobot-v1", "envs::classic_control::acrobot::Acrobot"),
            spec("Pendulum-v1", "envs::classic_control::pendulum::Pendulum"),
            spec("MountainCar-v0", "envs::classic_control::mc::MountainCar"),
            spec("Bandit-v0", "envs::toy::bandit::Bandit"),
            spec("ns/Foo-v0", ""),
        ];
        let out = pprint(specs.iter(), 3, &[]);
        let expected = "\
===== classic_control =====
Acrobot-v1     CartPole-v1    MountainCar-v0
Pendulum-v1

===== ns =====
ns/Foo-v0

===== toy =====
Bandit-v0";
        assert_eq!(out, expected);
        let out = pprint(specs.iter(), 3, &["classic_control", "ns"]);
        assert_eq!(out, "===== toy =====\nBandit-v0");
        assert_eq!(pprint([].iter(), 3, &[]), "");
    }

    #[test]
    fn table_lists_fields() {
        let specs = [EnvSpec::new("CartPole-v1")
            .unwrap()
            .with_max_episode_steps(500)
            .with_reward_threshold(475.0)
            .with_description("Balance a pole")];
        let out = table(specs.iter());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "id           max_steps  threshold  description");
        assert_eq!(
            lines[1],
            "CartPole-v1        500        475  Balance a pole"
        );
    }
}
