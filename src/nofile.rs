//! The open-file limit: read it, and raise it to the hard limit as bench_serving does, so
//! thousands of concurrent connections (client and embedded server alike) do not fail with
//! "too many open files".
//!
//! In: the process's `RLIMIT_NOFILE`. Out: the soft limit in force.

/// This process's soft open-file limit.
pub fn limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 1024,
        rlim_max: 1024,
    };
    // SAFETY: getrlimit only writes the struct passed to it.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    lim.rlim_cur
}

/// Raise this process's open-file limit to its hard limit (as bench_serving does), so many
/// concurrent connections do not fail with "too many open files". Returns the soft limit in
/// force afterwards.
pub fn raise() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        // An unlimited hard limit cannot be the soft one (the kernel caps open files at
        // `nr_open`, 1,048,576 by default).
        let target = lim.rlim_max.min(1 << 20);
        if lim.rlim_cur < target {
            let raised = libc::rlimit {
                rlim_cur: target,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
        lim.rlim_cur
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nofile_limit_is_raised_to_the_hard_limit() {
        let soft = raise();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!(soft, lim.rlim_cur);
        assert_eq!(soft, lim.rlim_max.min(1 << 20));
    }
}
