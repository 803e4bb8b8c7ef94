#![no_main]

libfuzzer_sys::fuzz_target!(|d: &[u8]| keyward_fuzz::authorize_query(d));
