//! What kind of file system object a path is, in words, for refusals: a
//! report is written and a scenario file is read only if it is a regular
//! file, and the error says what it is instead.

/// "a directory", "a FIFO", "a character device", … for a non-regular file.
pub fn describe(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}
