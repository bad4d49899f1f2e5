//! Platforms without a sampler: nothing is known.

use super::Root;
use crate::process::sample::ResourceSample;

pub fn sample(_root: &Root) -> ResourceSample {
    ResourceSample::default()
}
