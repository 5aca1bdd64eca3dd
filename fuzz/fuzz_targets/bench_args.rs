//! `runner bench`'s argument parser: NUL-separated arguments through clap, then the flags →
//! scenario translation (no network, no files read). Usage errors are fine; a panic is a bug.
#![no_main]

use clap::Parser as _;
use libfuzzer_sys::fuzz_target;
use runner::bench::BenchArgs;

#[derive(clap::Parser)]
#[command(infer_long_args = true)]
struct Cli {
    #[command(flatten)]
    bench: BenchArgs,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let args = std::iter::once("bench").chain(text.split('\0'));
    if let Ok(cli) = Cli::try_parse_from(args) {
        let _ = runner::bench::setup::build(&cli.bench, &|_| true);
    }
});
