fn main() {
    // A file-size limit (RLIMIT_FSIZE) or a full disk must be a write error runner reports,
    // with the finished runs kept; by default SIGXFSZ would kill the process mid-write.
    // SAFETY: setting a signal's disposition to SIG_IGN at start, before any thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    std::process::exit(runner::cli::main().code());
}
