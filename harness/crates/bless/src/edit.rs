//! Writing one cell into a scenario file's TOML with `toml_edit`, so every
//! byte outside the cell stays as it was: comments, refs, key order,
//! spacing. Inside the cell, a key that exists keeps its place and the
//! whitespace and trailing comment around its value; missing keys are
//! appended in the order `server`, `server_errors`, `steps`; a missing
//! `[expect.<impl>.<os>]` table is added after that implementation's other
//! tables.
//!
//! The cell states all three keys, so it never inherits a part from the
//! base (an empty list or table says "none" there). One comment line says
//! where the values came from; it is not added twice.
//!
//! The cell's `observed = { … }` marker ([`write_marker`]) goes last, after
//! the values; a cell that only gets a marker (its inherited values agree
//! with the run) is a table holding nothing else.

use crate::observed::Cell;
use netrepro_scenario::{ExpectKey, Impl, Observed};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, TableLike, Value};

/// The name of an OS key in scenario files (`[expect.naive.wine]`).
pub fn key_name(key: ExpectKey) -> &'static str {
    key.as_str()
}

fn strings<'a>(items: impl IntoIterator<Item = &'a str>) -> Value {
    let mut a: Array = items.into_iter().collect();
    a.fmt();
    Value::Array(a)
}

fn server_value(cell: &Cell) -> Value {
    match cell.server.as_slice() {
        [one] => Value::from(one.as_str()),
        many => strings(many.iter().map(|v| v.as_str())),
    }
}

fn steps_value(cell: &Cell) -> Value {
    let mut t = InlineTable::new();
    for (id, ms) in &cell.steps {
        t.insert(id, strings(ms.iter().map(String::as_str)));
    }
    t.fmt();
    Value::InlineTable(t)
}

/// Set `key` in `t` to `v`: in place (keeping the value's surrounding
/// whitespace and comment) or appended.
fn set(t: &mut dyn TableLike, key: &str, mut v: Value) {
    match t.get_mut(key) {
        Some(item) => {
            if let Some(old) = item.as_value() {
                *v.decor_mut() = old.decor().clone();
            }
            *item = Item::Value(v);
        }
        None => {
            t.insert(key, Item::Value(v));
        }
    }
}

/// Add `# comment` to the comments above the first key of a (non-inline)
/// table, unless that line is there already.
fn add_comment(t: &mut Table, comment: &str) {
    let line = format!("# {comment}\n");
    let Some(first) = t.iter().next().map(|(k, _)| k.to_string()) else {
        return;
    };
    let Some(mut key) = t.key_mut(&first) else {
        return;
    };
    let decor = key.leaf_decor_mut();
    let old = decor
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or("")
        .to_string();
    if old.lines().any(|l| l.trim_end() == line.trim_end()) {
        return;
    }
    decor.set_prefix(format!("{old}{line}"));
}

fn marker_value(o: &Observed) -> Value {
    let mut t = InlineTable::new();
    t.insert("os_version", Value::from(o.os_version.as_str()));
    if let Some(a) = &o.arch {
        t.insert("arch", Value::from(a.as_str()));
    }
    if let Some(w) = &o.wine {
        t.insert("wine", Value::from(w.as_str()));
    }
    t.insert("netrepro", Value::from(o.netrepro.as_str()));
    t.insert("date", Value::from(o.date.as_str()));
    t.fmt();
    Value::InlineTable(t)
}

/// The item of `[expect.<imp>.<key>]`, added (empty, after that
/// implementation's other tables) when missing. The file has already been
/// parsed by the scenario parser, so `[expect.<imp>]` exists; an error
/// says what shape was found instead.
fn cell_item(doc: &mut DocumentMut, imp: Impl, key: ExpectKey) -> Result<&mut Item, String> {
    let name = format!("expect.{}", imp.as_str());
    let imp_item = doc
        .get_mut("expect")
        .and_then(Item::as_table_like_mut)
        .and_then(|e| e.get_mut(imp.as_str()))
        .ok_or_else(|| format!("no [{name}] table"))?;
    let os = key_name(key);
    let exists = imp_item
        .as_table_like()
        .ok_or_else(|| format!("[{name}] is not a table"))?
        .contains_key(os);
    if !exists {
        match imp_item {
            Item::Table(t) => {
                let mut new = Table::new();
                // A blank line before the header, as between the catalog's tables.
                new.decor_mut().set_prefix("\n");
                t.insert(os, Item::Table(new));
            }
            Item::Value(Value::InlineTable(t)) => {
                t.insert(os, Value::InlineTable(InlineTable::new()));
            }
            _ => return Err(format!("[{name}] is not a table")),
        }
    }
    let item = imp_item
        .as_table_like_mut()
        .and_then(|t| t.get_mut(os))
        .ok_or_else(|| format!("[{name}.{os}] could not be created"))?;
    if item.as_table_like().is_none() {
        return Err(format!("[{name}.{os}] is not a table"));
    }
    Ok(item)
}

/// Set the `observed` marker of `[expect.<imp>.<key>]` (added if missing).
pub fn write_marker(
    doc: &mut DocumentMut,
    imp: Impl,
    key: ExpectKey,
    marker: &Observed,
) -> Result<(), String> {
    let item = cell_item(doc, imp, key)?;
    if let Some(t) = item.as_table_like_mut() {
        set(t, "observed", marker_value(marker));
    }
    if let Item::Value(Value::InlineTable(t)) = item {
        t.fmt();
    }
    Ok(())
}

/// Write `cell` as `[expect.<imp>.<key>]` of `doc` (see [`cell_item`]).
pub fn write_cell(
    doc: &mut DocumentMut,
    imp: Impl,
    key: ExpectKey,
    cell: &Cell,
    comment: &str,
) -> Result<(), String> {
    let cell_item = cell_item(doc, imp, key)?;
    {
        let t = cell_item
            .as_table_like_mut()
            .ok_or_else(|| "the cell is not a table".to_string())?;
        set(t, "server", server_value(cell));
        set(
            t,
            "server_errors",
            strings(cell.server_errors.iter().map(String::as_str)),
        );
        set(t, "steps", steps_value(cell));
    }
    match cell_item {
        Item::Table(t) => add_comment(t, comment),
        // No room for a comment inside braces; spacing as toml_edit writes it.
        Item::Value(Value::InlineTable(t)) => t.fmt(),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use netrepro_scenario::Verdict;

    fn cell() -> Cell {
        Cell {
            server: vec![Verdict::Crashed],
            server_errors: vec!["reset".into()],
            steps: vec![("b-served".into(), vec!["eof".into(), "reset".into()])],
        }
    }

    fn edit(src: &str, key: ExpectKey) -> String {
        let mut doc: DocumentMut = src.parse().unwrap();
        write_cell(&mut doc, Impl::Naive, key, &cell(), "Observed here").unwrap();
        doc.to_string()
    }

    #[test]
    fn an_existing_cell_keeps_its_comments_and_value_spacing() {
        let src = "[expect.naive]\nserver = \"survived\"\n\n\
                   [expect.naive.wine]\n# Not observed yet.\nserver = \"unknown\"   # so far\n\
                   server_errors = []\nsteps = {}\n\n[expect.hardened]\nserver = \"survived\"\n";
        assert_eq!(
            edit(src, ExpectKey::Wine),
            "[expect.naive]\nserver = \"survived\"\n\n\
             [expect.naive.wine]\n# Not observed yet.\n# Observed here\nserver = \"crashed\"   # so far\n\
             server_errors = [\"reset\"]\nsteps = { b-served = [\"eof\", \"reset\"] }\n\n\
             [expect.hardened]\nserver = \"survived\"\n"
        );
    }

    #[test]
    fn a_missing_cell_is_added_after_its_implementation_tables() {
        let src =
            "[expect.naive]\nserver = \"survived\"\n\n[expect.naive.macos]\nserver = \"hung\"\n\n\
                   [expect.hardened]\nserver = \"survived\"\n";
        assert_eq!(
            edit(src, ExpectKey::Windows),
            "[expect.naive]\nserver = \"survived\"\n\n[expect.naive.macos]\nserver = \"hung\"\n\n\
             [expect.naive.windows]\n# Observed here\nserver = \"crashed\"\n\
             server_errors = [\"reset\"]\nsteps = { b-served = [\"eof\", \"reset\"] }\n\n\
             [expect.hardened]\nserver = \"survived\"\n"
        );
    }

    #[test]
    fn writing_twice_changes_nothing_more() {
        let src =
            "[expect.naive]\nserver = \"survived\"\n[expect.hardened]\nserver = \"survived\"\n";
        let once = edit(src, ExpectKey::Windows);
        assert_eq!(edit(&once, ExpectKey::Windows), once);
    }

    fn marker() -> Observed {
        Observed {
            os_version: "Windows 6.1.7601".into(),
            arch: Some("x86_64".into()),
            wine: Some("8.0".into()),
            netrepro: "0.1.0".into(),
            date: "2026-11-26".into(),
        }
    }

    fn mark(src: &str) -> String {
        let mut doc: DocumentMut = src.parse().unwrap();
        write_marker(&mut doc, Impl::Naive, ExpectKey::Wine, &marker()).unwrap();
        doc.to_string()
    }

    const MARKER: &str = "observed = { os_version = \"Windows 6.1.7601\", arch = \"x86_64\", \
                          wine = \"8.0\", netrepro = \"0.1.0\", date = \"2026-11-26\" }";

    #[test]
    fn a_marker_goes_after_the_values_or_into_a_table_of_its_own() {
        let src = "[expect.naive]\nserver = \"survived\"\n\n[expect.naive.wine]\n# seen\n\
                   server = \"hung\"   # so far\nsteps = {}\n\n[expect.hardened]\nserver = \"survived\"\n";
        assert_eq!(
            mark(src),
            format!(
                "[expect.naive]\nserver = \"survived\"\n\n[expect.naive.wine]\n# seen\n\
                 server = \"hung\"   # so far\nsteps = {{}}\n{MARKER}\n\n\
                 [expect.hardened]\nserver = \"survived\"\n"
            )
        );
        // Replaced in place, not added twice.
        assert_eq!(mark(&mark(src)), mark(src));
        let bare =
            "[expect.naive]\nserver = \"survived\"\n\n[expect.hardened]\nserver = \"survived\"\n";
        assert_eq!(
            mark(bare),
            format!(
                "[expect.naive]\nserver = \"survived\"\n\n[expect.naive.wine]\n{MARKER}\n\n\
                 [expect.hardened]\nserver = \"survived\"\n"
            )
        );
    }

    #[test]
    fn inline_tables_are_edited_inline() {
        let src =
            "[expect]\nnaive = { server = \"survived\", windows = { server = \"unknown\" } }\n\
                   hardened = { server = \"survived\" }\n";
        let out = edit(src, ExpectKey::Windows);
        assert_eq!(
            out,
            "[expect]\nnaive = { server = \"survived\", windows = { server = \"crashed\", \
             server_errors = [\"reset\"], steps = { b-served = [\"eof\", \"reset\"] } } }\n\
             hardened = { server = \"survived\" }\n"
        );
    }
}
