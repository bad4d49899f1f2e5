//! Platforms without a sampler: nothing is known.

use super::Root;
use crate::observe::ResourceSample;

pub(super) fn sample(_root: &Root) -> ResourceSample {
    ResourceSample::default()
}
