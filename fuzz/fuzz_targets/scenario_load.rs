//! Scenario loader: any text, as YAML or TOML (first byte picks), through `${VAR}`
//! interpolation (with a fake environment), parsing, validation and planning. Errors are
//! fine; a panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runner::scenario::load::interpolate;
use runner::scenario::locate::Format;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = if first % 2 == 0 { Format::Yaml } else { Format::Toml };
    let _ = interpolate(text, "f", |name| (name.len() % 3 != 0).then(|| format!("v{name}")));
    if let Ok(s) = runner::scenario::load_str(text, "fuzz", format) {
        let plan = runner::plan::build(&s);
        let _ = plan.render(&s);
    }
});
