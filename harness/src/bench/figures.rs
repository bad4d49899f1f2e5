//! What one `netrepro bench` run measured: absolute figures (each a
//! positive finite number with its unit) and ratios between two of them,
//! plus notes for what could not be measured. Printed as one text table,
//! ratios first, or as JSON (`--json`). A ratio is always computed from
//! two figures of the same run, so it is exactly `a / b` of what is
//! printed (the test of `bench all --quick --json` checks that).

use netrepro_sys::outln;
use serde::Serialize;

/// One absolute figure, e.g. netrepro's storm in connect+RST cycles/s.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Unique in the run, e.g. `storm.netrepro`; ratios refer to it.
    pub id: String,
    /// Which benchmark measured it: storm, udp, overhead, scaling, accept.
    pub bench: &'static str,
    pub what: String,
    pub value: f64,
    pub unit: &'static str,
}

/// `a / b` of two figures of the same run.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub id: String,
    pub bench: &'static str,
    pub what: String,
    pub a: String,
    pub b: String,
    pub value: f64,
}

/// Everything one run printed.
#[derive(Debug, Default, Serialize)]
pub struct Results {
    /// `--quick`: small counts, figures noisier.
    pub quick: bool,
    pub ratios: Vec<Ratio>,
    pub figures: Vec<Figure>,
    /// What was not measured, and why (a server that died, a failed bind).
    pub notes: Vec<String>,
}

impl Results {
    pub fn new(quick: bool) -> Results {
        Results {
            quick,
            ..Results::default()
        }
    }

    /// Record a figure; one that is not a positive finite number (nothing
    /// was measured) becomes a note instead, so every figure printed is a
    /// real measurement.
    pub fn figure(
        &mut self,
        bench: &'static str,
        id: impl Into<String>,
        what: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) {
        let (id, what) = (id.into(), what.into());
        if value.is_finite() && value > 0.0 {
            self.figures.push(Figure {
                id,
                bench,
                what,
                value,
                unit,
            });
        } else {
            self.note(format!("{bench}: {what}: nothing measured ({value})"));
        }
    }

    /// Record `a / b` of two figures already recorded; if either is
    /// missing, a note says so.
    pub fn ratio(&mut self, bench: &'static str, id: &str, what: &str, a: &str, b: &str) {
        let value = |id: &str| self.figures.iter().find(|f| f.id == id).map(|f| f.value);
        match (value(a), value(b)) {
            (Some(x), Some(y)) => self.ratios.push(Ratio {
                id: id.to_string(),
                bench,
                what: what.to_string(),
                a: a.to_string(),
                b: b.to_string(),
                value: x / y,
            }),
            _ => self.note(format!(
                "{bench}: {what}: no ratio ({a} or {b} not measured)"
            )),
        }
    }

    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    /// The text table: ratios first, then the figures, then the notes.
    pub fn print_text(&self) {
        let mode = if self.quick { " (--quick)" } else { "" };
        let w = self
            .ratios
            .iter()
            .map(|r| r.what.len())
            .chain(self.figures.iter().map(|f| f.what.len()))
            .max()
            .unwrap_or(0);
        outln!("netrepro bench{mode}");
        outln!("ratios");
        for r in &self.ratios {
            outln!("  {:<8} {:<w$} {:>10.3}", r.bench, r.what, r.value);
        }
        outln!("figures");
        for f in &self.figures {
            outln!(
                "  {:<8} {:<w$} {:>10} {}",
                f.bench,
                f.what,
                number(f.value),
                f.unit
            );
        }
        if !self.notes.is_empty() {
            outln!("notes");
            for n in &self.notes {
                outln!("  {}", netrepro_sys::escape::terminal(n));
            }
        }
    }

    pub fn print_json(&self) {
        match serde_json::to_string_pretty(self) {
            Ok(text) => outln!("{text}"),
            Err(e) => netrepro_sys::errln!("error: cannot write the figures as JSON: {e}"),
        }
    }
}

/// Large figures without decimals, small ones with two.
fn number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_is_a_over_b_and_an_empty_figure_is_a_note() {
        let mut r = Results::new(true);
        r.figure("storm", "x", "x", 30.0, "/s");
        r.figure("storm", "y", "y", 40.0, "/s");
        r.figure("storm", "z", "z", 0.0, "/s");
        r.figure("storm", "n", "n", f64::NAN, "/s");
        r.ratio("storm", "x/y", "x over y", "x", "y");
        r.ratio("storm", "x/z", "x over z", "x", "z");
        assert_eq!(r.figures.len(), 2);
        assert_eq!(r.ratios.len(), 1);
        assert_eq!(r.ratios[0].value, 0.75);
        assert_eq!(r.notes.len(), 3, "{:?}", r.notes);
    }
}
