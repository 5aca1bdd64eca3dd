//! Optional targets: `when_env: VAR` keeps a target only when the environment variable is
//! set and not empty. In: a validated scenario. Out: the scenario without the inactive
//! targets, and a note for each one left out.

use super::Scenario;

/// The variable that leaves a target out: `Some(VAR)` when `when_env` names one that is
/// unset or empty.
pub fn inactive(when_env: Option<&str>) -> Option<&str> {
    let var = when_env?;
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => None,
        _ => Some(var),
    }
}

/// Drop the inactive targets, recording why in `skipped_targets`. `Err` with a message when
/// no target is left.
pub fn apply(mut s: Scenario) -> Result<Scenario, String> {
    let mut kept = Vec::new();
    for t in std::mem::take(&mut s.targets) {
        match inactive(t.when_env.as_deref()) {
            Some(var) => s
                .skipped_targets
                .push(format!("target `{}` skipped: {var} is not set", t.name)),
            None => kept.push(t),
        }
    }
    if kept.is_empty() {
        return Err(format!(
            "every target was skipped ({}); set one of their variables or add a target \
             without `when_env`",
            s.skipped_targets.join("; ")
        ));
    }
    s.targets = kept;
    Ok(s)
}
