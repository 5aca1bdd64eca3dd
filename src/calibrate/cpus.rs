//! CPU affinity for `runner calibrate`: which CPUs this process may use, and pinning the
//! calling thread, so the client and the embedded server each get a core of their own and
//! the figures measure the client rather than the two sharing cores.
//!
//! In: the calling thread's affinity mask. Out: the CPUs in it; the thread pinned. Threads
//! a pinned thread spawns inherit its mask. Linux only: elsewhere no CPU is listed, and
//! calibrate lets client and server share the CPUs.

use std::io;

/// The CPUs the calling thread may run on, in order (empty when the mask cannot be read).
#[cfg(not(target_os = "linux"))]
pub fn allowed() -> Vec<usize> {
    Vec::new()
}

/// Pinning is not supported here.
#[cfg(not(target_os = "linux"))]
pub fn pin(_: &[usize]) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// The CPUs the calling thread may run on, in order (empty when the mask cannot be read).
#[cfg(target_os = "linux")]
pub fn allowed() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity writes only into it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Restrict the calling thread to `cpus`.
#[cfg(target_os = "linux")]
pub fn pin(cpus: &[usize]) -> io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET only sets bits below
    // CPU_SETSIZE (checked), and sched_setaffinity reads the set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(c, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn pinning_narrows_the_mask_and_restores_it() {
        let all = allowed();
        assert!(!all.is_empty());
        let one = [all[all.len() - 1]];
        // A thread of its own, so other tests keep their mask.
        std::thread::spawn(move || {
            pin(&one).unwrap();
            assert_eq!(allowed(), one);
            let child = std::thread::spawn(allowed).join().unwrap();
            assert_eq!(child, one, "a spawned thread inherits the mask");
            pin(&all).unwrap();
            assert_eq!(allowed(), all);
        })
        .join()
        .unwrap();
    }
}
