//! The last look at an edited file before it is offered: same line ends as
//! before, parses, and changes nothing but the cells bless meant to write.

use crate::source::BlessError;
use crate::{edit, Action, CellPlan};
use netrepro_scenario::{ExpectKey, Impl, Provenance, Scenario};
use std::collections::BTreeMap;
use std::path::Path;

/// Lines bless writes end in `\n`; in a file whose lines all end in CRLF
/// (a Windows checkout) they get CRLF too. A file that mixes both is left
/// mixed: there is no single style to follow.
pub(crate) fn same_line_ends(before: &str, after: String) -> String {
    let crlf = before.matches("\r\n").count();
    if crlf > 0 && crlf == before.matches('\n').count() {
        after.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        after
    }
}

/// The new text must parse, keep everything but the expectations, and
/// change no cell but the written ones (and `wine` through `windows`).
pub(crate) fn check_after(
    before: &Scenario,
    path: &Path,
    after: &str,
    cells: &mut [CellPlan],
) -> Result<(), BlessError> {
    let bug = |detail: String| BlessError::Edit {
        file: path.to_path_buf(),
        detail: format!("{detail} (a bug in bless; nothing is written)"),
    };
    let new = netrepro_scenario::parse_str(after, path)
        .map_err(|e| bug(format!("the edited file does not parse: {e}")))?;
    let strip = |s: &Scenario| Scenario {
        expect: BTreeMap::new(),
        ..s.clone()
    };
    if strip(&new) != strip(before) {
        return Err(bug("the edit changed more than the expectations".into()));
    }
    for c in cells.iter() {
        if let Some(m) = &c.marker {
            let now = new.expect.get(&c.impl_).map(|e| e.provenance(c.key));
            if now != Some(Provenance::Observed(m)) {
                return Err(bug(format!(
                    "the {} cell of [expect.{}] does not read back as observed",
                    c.key.as_str(),
                    c.impl_.as_str()
                )));
            }
        }
    }
    let written: Vec<(Impl, ExpectKey)> = cells
        .iter()
        .filter(|c| matches!(c.action, Action::Filled | Action::Rewritten))
        .map(|c| (c.impl_, c.key))
        .collect();
    for imp in before.expect.keys().chain(new.expect.keys()) {
        for key in ExpectKey::ALL {
            let p = key.platform();
            let was = before.expect.get(imp).map(|e| e.resolve(p));
            let now = new.expect.get(imp).map(|e| e.resolve(p));
            if was == now || written.contains(&(*imp, key)) {
                continue;
            }
            if key == ExpectKey::Wine && written.contains(&(*imp, ExpectKey::Windows)) {
                if let Some(c) = cells
                    .iter_mut()
                    .find(|c| c.impl_ == *imp && c.key == ExpectKey::Windows)
                {
                    let note = "also changes what applies under Wine, which takes from \
                                windows what its own cell does not state"
                        .to_string();
                    if !c.notes.contains(&note) {
                        c.notes.push(note);
                    }
                }
                continue;
            }
            return Err(bug(format!(
                "the edit changed the {} cell of [expect.{}]",
                edit::key_name(key),
                imp.as_str()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::same_line_ends;

    #[test]
    fn written_lines_follow_a_crlf_file() {
        let before = "a = 1\r\nb = 2\r\n";
        let after = "a = 1\r\nb = 2\r\nc = 3\n".to_string();
        assert_eq!(same_line_ends(before, after), "a = 1\r\nb = 2\r\nc = 3\r\n");
        let lf = "a = 1\nc = 3\n".to_string();
        assert_eq!(same_line_ends("a = 1\n", lf.clone()), lf);
        let mixed = "a = 1\r\nb = 2\nc = 3\n".to_string();
        assert_eq!(same_line_ends("a = 1\r\nb = 2\n", mixed.clone()), mixed);
    }
}
