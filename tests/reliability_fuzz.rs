//! Fuzzing the decoders of stored records and keys: random bytes and mutations of valid
//! records (flipped bits, cut or stretched lengths, spliced records, huge length fields)
//! must decode to a value or an error, never panic, and never make one allocation larger
//! than a bound set by the input's length.
//!
//! `FUZZ_INPUTS=10000000 FUZZ_SEED=7 cargo test --release --test reliability_fuzz -- --nocapture`
//! (or `scripts/fuzz-records 10000000 7`) runs a long campaign; the default is a short one.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
    sync::atomic::{AtomicUsize, Ordering},
    time::Instant,
};

use workflow::fuzz_support::{decode_every_record, record_samples};

/// The system allocator, noting the largest allocation made on a thread that asked for it.
struct Watching;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn note(size: usize) {
    if WATCHED.with(Cell::get) {
        LARGEST.fetch_max(size, Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

/// SplitMix64: reproducible inputs from a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One input: random bytes, or a valid record mutated a few times.
fn input(rng: &mut Rng, samples: &[Vec<u8>], out: &mut Vec<u8>) {
    out.clear();
    if rng.below(8) == 0 {
        let len = rng.below(48);
        out.extend((0..len).map(|_| rng.next() as u8));
        if rng.below(2) == 0 && !out.is_empty() {
            out[0] = 1; // the current format version, so the payload is decoded
        }
        return;
    }
    out.extend_from_slice(&samples[rng.below(samples.len())]);
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(7) {
            0 if len > 0 => out[rng.below(len)] ^= 1 << rng.below(8),
            1 if len > 0 => out[rng.below(len)] = rng.next() as u8,
            2 if len > 0 => out.truncate(rng.below(len)),
            3 => {
                // A varint length field claiming up to 2^63 elements.
                let at = rng.below(len + 1);
                let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
                let take = 1 + rng.below(huge.len());
                out.splice(at..at, huge[..take].iter().copied());
            }
            4 => {
                let other = &samples[rng.below(samples.len())];
                let from = rng.below(other.len());
                let at = rng.below(len + 1);
                out.splice(at..at, other[from..].iter().copied());
            }
            5 if len > 1 => {
                let from = rng.below(len);
                let to = from + rng.below(len - from);
                out.drain(from..to);
            }
            _ => out.push(rng.next() as u8),
        }
    }
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn record_decoders_survive_arbitrary_bytes() {
    let count = setting("FUZZ_INPUTS", 100_000);
    let seed = setting("FUZZ_SEED", 0x5eed);
    let samples = record_samples();
    assert!(samples.len() >= 10);
    for sample in &samples {
        assert!(
            decode_every_record(sample) >= 1,
            "a valid sample is accepted"
        );
    }
    let mut rng = Rng(seed);
    let mut bytes = Vec::with_capacity(4096);
    let mut accepted = 0_u64;
    let mut largest_seen = 0;
    let started = Instant::now();
    for n in 0..count {
        input(&mut rng, &samples, &mut bytes);
        LARGEST.store(0, Ordering::Relaxed);
        WATCHED.with(|w| w.set(true));
        let result = std::panic::catch_unwind(|| decode_every_record(&bytes));
        WATCHED.with(|w| w.set(false));
        let Ok(decoded) = result else {
            panic!("input {n} (seed {seed}) panicked a decoder: {bytes:?}");
        };
        accepted += decoded as u64;
        // A length field may make serde reserve up to 1 MiB ahead (its cautious size hint);
        // beyond that, allocations follow the bytes actually there.
        let largest = LARGEST.load(Ordering::Relaxed);
        let bound = (1 << 20) + 64 * bytes.len() + 4096;
        assert!(
            largest <= bound,
            "input {n} (seed {seed}, {} bytes) made a {largest}-byte allocation: {bytes:?}",
            bytes.len()
        );
        largest_seen = largest_seen.max(largest);
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{count} inputs (seed {seed}) in {seconds:.1}s ({:.0}/s): {accepted} decodes accepted, \
         largest allocation {largest_seen} bytes",
        count as f64 / seconds
    );
    assert!(
        accepted > 0,
        "mutations of valid records are sometimes still valid"
    );
}
