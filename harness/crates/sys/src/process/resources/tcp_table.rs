//! Parser for the buffers `GetExtendedTcpTable(TCP_TABLE_OWNER_PID_ALL)`
//! fills on Windows. Pure and compiled everywhere so it is unit-tested on
//! every OS; `windows.rs` does the FFI and calls it.
//!
//! Layout (iprtrmib.h / tcpmib.h, all fields little-endian `DWORD`s):
//! `MIB_TCPTABLE_OWNER_PID  { dwNumEntries, table[] }` of
//! `MIB_TCPROW_OWNER_PID    { dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid }` (24 bytes),
//! `MIB_TCP6TABLE_OWNER_PID { dwNumEntries, table[] }` of
//! `MIB_TCP6ROW_OWNER_PID   { ucLocalAddr[16], dwLocalScopeId, dwLocalPort, ucRemoteAddr[16], dwRemoteScopeId, dwRemotePort, dwState, dwOwningPid }` (56 bytes).
//! https://learn.microsoft.com/en-us/windows/win32/api/iphlpapi/nf-iphlpapi-getextendedtcptable

/// `MIB_TCP_STATE_CLOSE_WAIT`.
pub const MIB_TCP_STATE_CLOSE_WAIT: u32 = 8;

/// Which table the buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// Size of one row, and the byte offsets of `dwState` and `dwOwningPid` in it.
    const fn layout(self) -> (usize, usize, usize) {
        match self {
            Family::V4 => (24, 0, 20),
            Family::V6 => (56, 48, 52),
        }
    }

    pub const fn row_size(self) -> usize {
        self.layout().0
    }
}

/// One row: the fields the sampler needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub state: u32,
    pub pid: u32,
}

fn dword(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The rows of a filled table buffer; `None` if the buffer is shorter than
/// its own entry count says (never trust the count to index past the end).
pub fn parse(buf: &[u8], family: Family) -> Option<Vec<Row>> {
    let n = dword(buf, 0)? as usize;
    let (size, state_at, pid_at) = family.layout();
    if buf.len() < 4 + n.checked_mul(size)? {
        return None;
    }
    (0..n)
        .map(|i| {
            let row = 4 + i * size;
            Some(Row {
                state: dword(buf, row + state_at)?,
                pid: dword(buf, row + pid_at)?,
            })
        })
        .collect()
}

/// Rows owned by any of `pids`: (all, in CLOSE_WAIT).
pub fn tally(rows: &[Row], pids: &[u32]) -> (u64, u64) {
    let own: Vec<&Row> = rows.iter().filter(|r| pids.contains(&r.pid)).collect();
    let cw = own
        .iter()
        .filter(|r| r.state == MIB_TCP_STATE_CLOSE_WAIT)
        .count();
    (own.len() as u64, cw as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4_row(state: u32, pid: u32) -> Vec<u8> {
        [state, 0x0100_007F, 0x901F, 0x0100_007F, 0x50C3, pid]
            .iter()
            .flat_map(|d| d.to_le_bytes())
            .collect()
    }

    fn v6_row(state: u32, pid: u32) -> Vec<u8> {
        let mut r = Vec::new();
        let mut lo = [0u8; 16];
        lo[15] = 1; // ::1
        r.extend(lo);
        r.extend(0u32.to_le_bytes()); // scope
        r.extend(0x901Fu32.to_le_bytes());
        r.extend(lo);
        r.extend(0u32.to_le_bytes());
        r.extend(0x50C3u32.to_le_bytes());
        r.extend(state.to_le_bytes());
        r.extend(pid.to_le_bytes());
        r
    }

    fn table(rows: &[Vec<u8>]) -> Vec<u8> {
        let mut b = (rows.len() as u32).to_le_bytes().to_vec();
        for r in rows {
            b.extend(r);
        }
        b
    }

    #[test]
    fn row_sizes_match_the_documented_structs() {
        assert_eq!(v4_row(0, 0).len(), Family::V4.row_size());
        assert_eq!(v6_row(0, 0).len(), Family::V6.row_size());
    }

    #[test]
    fn parses_state_and_pid_of_each_family() {
        let b = table(&[v4_row(2, 10), v4_row(8, 42)]);
        assert_eq!(
            parse(&b, Family::V4),
            Some(vec![Row { state: 2, pid: 10 }, Row { state: 8, pid: 42 }])
        );
        let b = table(&[v6_row(8, 42)]);
        assert_eq!(parse(&b, Family::V6), Some(vec![Row { state: 8, pid: 42 }]));
        assert_eq!(parse(&table(&[]), Family::V6), Some(vec![]));
    }

    #[test]
    fn counts_rows_and_close_wait_of_the_pids() {
        // LISTEN (2) and ESTABLISHED (5) of ours, CLOSE_WAIT of ours twice,
        // CLOSE_WAIT of another process.
        let b = table(&[
            v4_row(2, 42),
            v4_row(5, 42),
            v4_row(8, 42),
            v4_row(8, 7),
            v4_row(8, 42),
        ]);
        let rows = parse(&b, Family::V4).unwrap();
        assert_eq!(tally(&rows, &[42]), (4, 2));
        assert_eq!(tally(&rows, &[7]), (1, 1));
        assert_eq!(tally(&rows, &[42, 7]), (5, 3));
        assert_eq!(tally(&rows, &[99]), (0, 0));
    }

    #[test]
    fn short_or_lying_buffers_are_rejected() {
        assert_eq!(parse(&[], Family::V4), None);
        assert_eq!(parse(&[1, 0], Family::V4), None);
        // Says 2 rows, holds 1.
        let mut b = table(&[v4_row(8, 1)]);
        b[0] = 2;
        assert_eq!(parse(&b, Family::V4), None);
        // A v4-sized buffer read as v6 is too short.
        assert_eq!(parse(&table(&[v4_row(8, 1)]), Family::V6), None);
        // An absurd count does not overflow.
        assert_eq!(parse(&u32::MAX.to_le_bytes(), Family::V6), None);
    }
}
