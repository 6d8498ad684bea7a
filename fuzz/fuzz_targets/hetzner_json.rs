#![no_main]
//! Fuzzes the parsers of [`Family::Hetzner`] on a worker-sized stack: any input must give a value
//! or a typed error.

use libfuzzer_sys::fuzz_target;
use skydeck_core::parsers::{feed_on_worker_stack, Family};

fuzz_target!(|data: &[u8]| {
    feed_on_worker_stack(Family::Hetzner, data);
});
