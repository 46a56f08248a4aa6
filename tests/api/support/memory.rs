//! The process's resident memory, read from Linux's /proc/self, for the test
//! binaries that measure what one burst of requests adds to it
//! (`tests/*_memory.rs`, each a process of its own). They include this file
//! by its path; the api suite, whose tests share one process, does not.

/// The growth of the peak resident size from a starting point.
pub struct PeakGrowth {
    before: u64,
}

impl PeakGrowth {
    /// Resets the peak resident size to the current one (Linux's
    /// clear_refs) and starts measuring from there.
    pub fn start() -> Self {
        std::fs::write("/proc/self/clear_refs", "5").expect("resetting the peak resident size");
        Self {
            before: status_bytes("VmRSS:"),
        }
    }

    /// Bytes the peak resident size has grown by since `start`.
    pub fn bytes(&self) -> u64 {
        status_bytes("VmHWM:").saturating_sub(self.before)
    }
}

fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("this test reads Linux's /proc/self/status");
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .unwrap_or_else(|| panic!("/proc/self/status has {field}"));
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}
