/// xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift generators",
/// 2016): a few cycles per number, good enough to pick a steal victim. Not for anything
/// that needs unpredictability.
#[derive(Debug)]
pub(crate) struct FastRand {
    state: u64,
}

impl FastRand {
    /// Seeds from `seed`; a zero seed is replaced because xorshift has a fixed point at 0.
    pub(crate) fn new(seed: u64) -> FastRand {
        FastRand {
            state: if seed == 0 {
                0x9E37_79B9_7F4A_7C15
            } else {
                seed
            },
        }
    }

    /// Returns a value in `0..n`; `n` must be non-zero.
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        let r = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32;
        // Lemire's multiply-shift reduction: unbiased enough for victim selection.
        ((u64::from(r) * u64::from(n)) >> 32) as u32
    }
}
