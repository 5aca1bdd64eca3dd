//! Results files that stay readable when the disk fills or a file-size limit strikes mid-sweep.
//!
//! In: an open results file and the bytes of one whole record (a line, a CSV row, a details
//! file's records). Out: the record written and flushed, or nothing: a write that fails part way is cut
//! back to the file's previous length, so every line on disk is a complete finished run; the
//! error names the file.

use std::fs::File;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use crate::scenario::secrets::redact;

/// Append `bytes` to `file` (opened for appending) whole, or leave it as it was.
/// Registered secrets (`scenario::secrets`) are replaced on the way.
pub fn append(file: &mut File, path: &Path, bytes: &[u8]) -> Result<()> {
    let text = String::from_utf8_lossy(bytes);
    let bytes = redact(&text);
    let bytes = bytes.as_bytes();
    let len = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if let Err(e) = file.write_all(bytes).and_then(|()| file.flush()) {
        // Best effort: a file that cannot even be cut back is reported by the write error.
        let _ = file.set_len(len);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_adds_whole_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        append(&mut f, &path, b"{\"a\":1}\n").unwrap();
        append(&mut f, &path, b"{\"a\":2}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"a\":2}\n"
        );
    }
}
