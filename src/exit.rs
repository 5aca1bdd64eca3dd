//! Every exit code runner ends with, in one place: the contract the README's "Exit codes"
//! states. In: how a command ended. Out: the process's exit code ([`Exit::code`]).

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Ok,
    /// 1: a runtime failure, including a run in which every request failed.
    Failure,
    /// 2: invalid usage: a flag, a scenario file, refused input.
    Usage,
    /// 3: a run outside a capacity search did not meet the scenario's SLO.
    SloNotMet,
    /// 4: `runner diff` found a regression.
    Regression,
    /// 130 (128 + SIGINT): interrupted with Ctrl-C.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub const fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::SloNotMet => 3,
            Exit::Regression => 4,
            Exit::Interrupted => 130,
        }
    }

    /// [`Exit::Ok`] when `ok`, else [`Exit::Failure`].
    pub const fn ok_if(ok: bool) -> Exit {
        if ok { Exit::Ok } else { Exit::Failure }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Exit; 6] = [
        Exit::Ok,
        Exit::Failure,
        Exit::Usage,
        Exit::SloNotMet,
        Exit::Regression,
        Exit::Interrupted,
    ];

    #[test]
    fn the_readme_lists_every_exit_code() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let at = readme
            .find("## Exit codes")
            .expect("an `## Exit codes` section");
        // The table's rows, `| code | meaning |`, up to the next section.
        let section = readme[at..].split("\n## ").next().unwrap();
        let listed: Vec<i32> = section
            .lines()
            .filter_map(|l| l.strip_prefix('|')?.split('|').next()?.trim().parse().ok())
            .collect();
        let para = section;
        let codes: Vec<i32> = ALL.iter().map(|e| e.code()).collect();
        assert_eq!(listed, codes, "{para}");
    }
}
