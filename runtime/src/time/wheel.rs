//! The hierarchical timer wheel: timers bucketed by how far away they are.
//!
//! Time is counted in ticks of 1 µs from the driver's start. Level `L` has 64 slots, each
//! `64^L` ticks wide, so level 0 resolves single microseconds and nine levels reach
//! `64^9` µs (about 570 years; later deadlines are clamped to [`MAX_TICK`]). A timer lives on
//! the lowest level whose slot width covers the distance between its deadline and
//! `elapsed` (the wheel's own notion of now): the level is given by the highest bit in which
//! the two differ, divided by 6. When `elapsed` reaches a slot's start, the slot's timers
//! either fire (their deadline has come) or move down a level ("cascade"), so a timer
//! cascades at most once per level and never fires early.
//!
//! Each level keeps a 64-bit occupancy mask, so finding the next slot that needs work is a
//! rotate and a `trailing_zeros`, whatever the number of timers. Timers are entries in a
//! slab (a `Vec` with a free list) linked into per-slot doubly-linked lists by index:
//! inserting and cancelling are O(1) and need no `unsafe`.
//!
//! The layout and the level arithmetic follow the classic design of Varghese & Lauck,
//! "Hashed and Hierarchical Timing Wheels" (SOSP 1987), in the form Linux and Tokio use
//! (`tokio/src/runtime/time/wheel`); Tokio ticks in milliseconds, we tick in microseconds so
//! that a 1 ms sleep is not rounded up to the next millisecond boundary.

use std::task::Waker;

/// Slots per level.
const SLOTS: usize = 64;
/// log2(SLOTS).
const SLOT_BITS: u32 = 6;
/// Number of levels: 64^9 µs ≈ 570 years.
const LEVELS: usize = 9;
/// The largest deadline the wheel can hold, in ticks (µs); later deadlines are clamped.
pub(crate) const MAX_TICK: u64 = (1 << (SLOT_BITS as usize * LEVELS)) - 1;

const NIL: u32 = u32::MAX;

/// Index of a timer in the wheel's slab; owned by exactly one `Sleep`.
pub(crate) type Key = u32;

#[derive(Debug)]
enum State {
    /// In the free list.
    Free { next_free: u32 },
    /// Linked into `levels[level].slots[slot]`.
    Armed { level: u8, slot: u8 },
    /// Its deadline came; waiting for its owner to notice (or drop it).
    Fired,
}

#[derive(Debug)]
struct Entry {
    /// Deadline, in ticks.
    when: u64,
    waker: Option<Waker>,
    prev: u32,
    next: u32,
    state: State,
}

#[derive(Debug, Clone, Copy)]
struct Level {
    /// Bit `s` is set when `heads[s]` is not empty.
    occupied: u64,
    heads: [u32; SLOTS],
}

/// A timer wheel. Not thread-safe by itself: the time driver keeps one per shard behind a
/// mutex.
#[derive(Debug)]
pub(crate) struct Wheel {
    /// Every deadline at or before `elapsed` has fired.
    elapsed: u64,
    /// Allocated when the first timer is armed: until then [`EMPTY_LEVELS`] stands in, so a
    /// worker that never sleeps costs no wheel (2.3 KiB otherwise).
    levels: Option<Box<[Level; LEVELS]>>,
    entries: Vec<Entry>,
    free_head: u32,
    /// Timers linked into slots.
    armed: usize,
}

/// The levels of a wheel that has never had a timer armed: every slot empty.
static EMPTY_LEVELS: [Level; LEVELS] = [const {
    Level {
        occupied: 0,
        heads: [NIL; SLOTS],
    }
}; LEVELS];

impl Default for Wheel {
    fn default() -> Self {
        Wheel::new()
    }
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            levels: None,
            entries: Vec::new(),
            free_head: NIL,
            armed: 0,
        }
    }

    fn levels(&self) -> &[Level; LEVELS] {
        self.levels.as_deref().unwrap_or(&EMPTY_LEVELS)
    }

    fn levels_mut(&mut self) -> &mut [Level; LEVELS] {
        self.levels.get_or_insert_with(|| Box::new(EMPTY_LEVELS))
    }

    /// The wheel's now, in ticks: every deadline at or before it has fired.
    #[cfg(test)]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Number of timers waiting in slots.
    #[cfg(test)]
    pub(crate) fn armed(&self) -> usize {
        self.armed
    }

    /// Whether no timer is armed (fired timers not yet released do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.armed == 0
    }

    /// Moves an empty wheel's [`elapsed`](Self::elapsed) on to `now` (never back): the
    /// time driver skips advancing a wheel with no timers, and calls this before arming
    /// one, so the timer's level is reckoned from the present.
    ///
    /// # Panics
    /// In debug builds, if a timer is armed (jumping over its slot would lose it).
    pub(crate) fn catch_up(&mut self, now: u64) {
        debug_assert!(self.is_empty(), "catch_up over armed timers");
        self.elapsed = self.elapsed.max(now.min(MAX_TICK));
    }

    /// Adds a timer for tick `when` (clamped to [`MAX_TICK`]). Returns `None`, storing
    /// nothing, if `when` is not after [`elapsed`](Self::elapsed): the timer is already due.
    pub(crate) fn insert(&mut self, when: u64, waker: Waker) -> Option<Key> {
        let when = when.min(MAX_TICK);
        if when <= self.elapsed {
            return None;
        }
        let key = self.alloc(when, waker);
        self.link(key);
        Some(key)
    }

    /// Moves timer `key` to tick `when`, re-arming it if it had fired. Returns `false` (and
    /// leaves the timer fired) if `when` is already due.
    pub(crate) fn reset(&mut self, key: Key, when: u64) -> bool {
        let when = when.min(MAX_TICK);
        if matches!(self.entries[key as usize].state, State::Armed { .. }) {
            self.unlink(key);
        }
        let entry = &mut self.entries[key as usize];
        entry.when = when;
        if when <= self.elapsed {
            entry.state = State::Fired;
            return false;
        }
        self.link(key);
        true
    }

    /// Whether `key` has fired. If not, stores `waker` (unless it would wake the same task
    /// as the stored one) to be woken when it does, and returns the waker it replaced: the
    /// caller drops it after releasing its lock, since dropping a waker runs arbitrary code
    /// (which may cancel a timer of this wheel).
    pub(crate) fn poll_swap(&mut self, key: Key, waker: &Waker) -> (bool, Option<Waker>) {
        let entry = &mut self.entries[key as usize];
        match entry.state {
            State::Fired => (true, None),
            State::Armed { .. } => match &mut entry.waker {
                Some(stored) if stored.will_wake(waker) => (false, None),
                slot => (false, slot.replace(waker.clone())),
            },
            State::Free { .. } => panic!("timer key {key} is not allocated"),
        }
    }

    /// [`poll_swap`](Self::poll_swap), dropping the replaced waker at once.
    #[cfg(test)]
    fn poll(&mut self, key: Key, waker: &Waker) -> bool {
        self.poll_swap(key, waker).0
    }

    /// Cancels timer `key` (fired or not) and frees its slot in O(1). Returns the stored
    /// waker, for the caller to drop after releasing its lock (see `poll_swap`).
    pub(crate) fn remove(&mut self, key: Key) -> Option<Waker> {
        if matches!(self.entries[key as usize].state, State::Armed { .. }) {
            self.unlink(key);
        }
        let entry = &mut self.entries[key as usize];
        assert!(
            !matches!(entry.state, State::Free { .. }),
            "timer key {key} removed twice"
        );
        let waker = entry.waker.take();
        entry.state = State::Free {
            next_free: self.free_head,
        };
        self.free_head = key;
        waker
    }

    /// The tick at which the wheel next has work (a slot whose timers fire or cascade), or
    /// `None` with no timers. Never later than the earliest deadline.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        if self.is_empty() {
            return None;
        }
        (0..LEVELS).find_map(|level| self.level_next(level).map(|(_, at)| at))
    }

    /// Advances the wheel to tick `now`, pushing the wakers of timers that fired, in
    /// deadline order, onto `fired`. Stops early, returning `true`, once `fired` holds
    /// `max` or more wakers so the caller can wake them outside its lock and call again.
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<Waker>, max: usize) -> bool {
        let now = now.min(MAX_TICK);
        loop {
            let next = (0..LEVELS)
                .find_map(|level| self.level_next(level).map(|(slot, at)| (level, slot, at)));
            match next {
                Some((level, slot, at)) if at <= now => {
                    self.elapsed = at;
                    self.process_slot(level, slot, fired);
                    if fired.len() >= max {
                        return true;
                    }
                }
                _ => {
                    // No slot starts at or before `now`, so moving `elapsed` there leaves
                    // every armed timer on a correct level (see `level_for`).
                    self.elapsed = self.elapsed.max(now);
                    return false;
                }
            }
        }
    }

    /// Wakers of every armed timer, which are disarmed (marked fired). Used at shutdown.
    pub(crate) fn drain(&mut self, fired: &mut Vec<Waker>) {
        let Some(levels) = self.levels.as_deref_mut() else {
            return; // Never armed.
        };
        for level in levels.iter_mut() {
            for head in level.heads.iter_mut() {
                let mut key = std::mem::replace(head, NIL);
                while key != NIL {
                    let entry = &mut self.entries[key as usize];
                    key = entry.next;
                    entry.state = State::Fired;
                    entry.prev = NIL;
                    entry.next = NIL;
                    fired.extend(entry.waker.take());
                }
            }
            level.occupied = 0;
        }
        self.armed = 0;
    }

    fn alloc(&mut self, when: u64, waker: Waker) -> Key {
        let entry = Entry {
            when,
            waker: Some(waker),
            prev: NIL,
            next: NIL,
            state: State::Fired,
        };
        if self.free_head == NIL {
            let key = u32::try_from(self.entries.len())
                .ok()
                .filter(|&k| k != NIL)
                .expect("more than 2^32 - 1 live timers in one shard");
            self.entries.push(entry);
            key
        } else {
            let key = self.free_head;
            let State::Free { next_free } = self.entries[key as usize].state else {
                unreachable!("free list holds a used entry")
            };
            self.free_head = next_free;
            self.entries[key as usize] = entry;
            key
        }
    }

    /// Links an entry whose `when` is after `elapsed` into its slot.
    fn link(&mut self, key: Key) {
        let when = self.entries[key as usize].when;
        debug_assert!(when > self.elapsed);
        let level = level_for(self.elapsed, when);
        let slot = slot_for(when, level);
        let head = self.levels()[level].heads[slot];
        if head != NIL {
            self.entries[head as usize].prev = key;
        }
        let entry = &mut self.entries[key as usize];
        entry.prev = NIL;
        entry.next = head;
        entry.state = State::Armed {
            level: level as u8,
            slot: slot as u8,
        };
        let lvl = &mut self.levels_mut()[level];
        lvl.heads[slot] = key;
        lvl.occupied |= 1 << slot;
        self.armed += 1;
    }

    fn unlink(&mut self, key: Key) {
        let entry = &self.entries[key as usize];
        let State::Armed { level, slot } = entry.state else {
            unreachable!("unlinking a timer that is not armed")
        };
        let (prev, next) = (entry.prev, entry.next);
        let (level, slot) = (level as usize, slot as usize);
        if prev == NIL {
            let lvl = &mut self.levels_mut()[level];
            lvl.heads[slot] = next;
            if next == NIL {
                lvl.occupied &= !(1 << slot);
            }
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
        let entry = &mut self.entries[key as usize];
        entry.prev = NIL;
        entry.next = NIL;
        entry.state = State::Fired;
        self.armed -= 1;
    }

    /// The next occupied slot of `level` and the tick at which it starts.
    fn level_next(&self, level: usize) -> Option<(usize, u64)> {
        let occupied = self.levels()[level].occupied;
        if occupied == 0 {
            return None;
        }
        let shift = SLOT_BITS * level as u32;
        let now_slot = ((self.elapsed >> shift) as usize) % SLOTS;
        // Every armed slot lies after `now_slot` within the current window of this level
        // (a timer in the current slot would belong to a lower level), so rotating the mask
        // to start at `now_slot` finds the nearest one.
        let zeros = occupied.rotate_right(now_slot as u32).trailing_zeros() as usize;
        let slot = (now_slot + zeros) % SLOTS;
        let window = SLOTS as u64 * (1u64 << shift);
        let start = (self.elapsed & !(window - 1)) + ((slot as u64) << shift);
        debug_assert!(start > self.elapsed, "armed slot at or before elapsed");
        Some((slot, start))
    }

    /// Fires or cascades every timer in `levels[level].slots[slot]`; `elapsed` is the
    /// slot's start.
    fn process_slot(&mut self, level: usize, slot: usize, fired: &mut Vec<Waker>) {
        let lvl = &mut self.levels_mut()[level];
        let mut key = std::mem::replace(&mut lvl.heads[slot], NIL);
        lvl.occupied &= !(1 << slot);
        while key != NIL {
            let entry = &mut self.entries[key as usize];
            let next = entry.next;
            self.armed -= 1;
            if entry.when <= self.elapsed {
                entry.state = State::Fired;
                entry.prev = NIL;
                entry.next = NIL;
                fired.extend(entry.waker.take());
            } else {
                // Its deadline is inside this slot, so it lands on a lower level.
                self.link(key);
            }
            key = next;
        }
    }
}

/// The level a timer due at `when` belongs on, seen from `elapsed` (< `when`): the highest
/// bit in which the two differ, in units of `SLOT_BITS`.
fn level_for(elapsed: u64, when: u64) -> usize {
    let masked = (elapsed ^ when) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros();
    (significant / SLOT_BITS) as usize
}

fn slot_for(when: u64, level: usize) -> usize {
    ((when >> (SLOT_BITS * level as u32)) as usize) % SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// A waker that records its id into a shared log when woken.
    struct Recorder {
        id: u64,
        log: Arc<std::sync::Mutex<Vec<u64>>>,
        wakes: AtomicUsize,
    }

    impl Wake for Recorder {
        fn wake(self: Arc<Self>) {
            self.wakes.fetch_add(1, Ordering::Relaxed);
            self.log.lock().unwrap().push(self.id);
        }
    }

    fn waker(id: u64, log: &Arc<std::sync::Mutex<Vec<u64>>>) -> Waker {
        Waker::from(Arc::new(Recorder {
            id,
            log: log.clone(),
            wakes: AtomicUsize::new(0),
        }))
    }

    fn advance_all(wheel: &mut Wheel, now: u64) -> usize {
        let mut fired = Vec::new();
        while wheel.advance(now, &mut fired, 16) {}
        let n = fired.len();
        fired.into_iter().for_each(Waker::wake);
        n
    }

    /// The levels are allocated by the first armed timer, not before: an idle wheel advances,
    /// drains and reports no expiration without them, and a timer already due arms nothing.
    #[test]
    fn levels_allocated_by_the_first_armed_timer() {
        let log: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();
        let mut wheel = Wheel::new();
        assert!(wheel.levels.is_none());
        assert_eq!(wheel.next_expiration(), None);
        assert_eq!(advance_all(&mut wheel, 1_000), 0);
        wheel.drain(&mut Vec::new());
        assert_eq!(wheel.insert(1_000, waker(1, &log)), None, "already due");
        assert!(wheel.levels.is_none());
        let key = wheel.insert(5_000, waker(2, &log)).expect("armed");
        assert!(wheel.levels.is_some());
        assert!(wheel.next_expiration().is_some_and(|t| t <= 5_000));
        assert_eq!(advance_all(&mut wheel, 5_000), 1);
        assert_eq!(*log.lock().unwrap(), [2]);
        wheel.remove(key);
        assert_eq!(wheel.armed(), 0);
    }

    #[test]
    fn level_arithmetic() {
        assert_eq!(level_for(0, 1), 0);
        assert_eq!(level_for(0, 63), 0);
        assert_eq!(level_for(0, 64), 1);
        assert_eq!(level_for(0, 4095), 1);
        assert_eq!(level_for(0, 4096), 2);
        assert_eq!(level_for(100, 127), 0);
        assert_eq!(level_for(100, 128), 1);
        assert_eq!(level_for(0, MAX_TICK), LEVELS - 1);
        assert_eq!(slot_for(130, 1), 2);
    }

    #[test]
    fn due_timer_is_not_stored() {
        let log = Arc::default();
        let mut wheel = Wheel::new();
        assert_eq!(advance_all(&mut wheel, 10), 0);
        assert_eq!(wheel.insert(10, waker(0, &log)), None);
        assert_eq!(wheel.insert(5, waker(0, &log)), None);
        assert!(wheel.insert(11, waker(0, &log)).is_some());
        assert_eq!(wheel.armed(), 1);
    }

    #[test]
    fn fires_at_deadline_never_before() {
        let log = Arc::default();
        for when in [1, 2, 63, 64, 65, 1000, 4095, 4096, 70_000, 1 << 30] {
            let mut wheel = Wheel::new();
            let key = wheel.insert(when, waker(when, &log)).unwrap();
            assert_eq!(advance_all(&mut wheel, when - 1), 0, "fired early: {when}");
            assert!(!wheel.poll(key, &waker(when, &log)));
            assert!(wheel.next_expiration().unwrap() <= when);
            assert_eq!(advance_all(&mut wheel, when), 1, "did not fire: {when}");
            assert!(wheel.poll(key, &waker(when, &log)));
            assert_eq!(wheel.armed(), 0);
            wheel.remove(key);
        }
    }

    #[test]
    fn fires_in_deadline_order_across_levels() {
        let log: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();
        let mut wheel = Wheel::new();
        // A deterministic shuffle of deadlines spanning four levels.
        let mut deadlines: Vec<u64> = (1..=2000u64).map(|i| (i * 7919) % 300_000 + 1).collect();
        for &when in &deadlines {
            wheel.insert(when, waker(when, &log)).unwrap();
        }
        // Advance in uneven steps.
        let mut now = 0;
        while now < 300_001 {
            now += 977;
            advance_all(&mut wheel, now);
        }
        deadlines.sort_unstable();
        assert_eq!(*log.lock().unwrap(), deadlines);
        assert_eq!(wheel.armed(), 0);
    }

    #[test]
    fn removed_timer_never_fires_and_slot_is_reused() {
        let log: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();
        let mut wheel = Wheel::new();
        let a = wheel.insert(100, waker(1, &log)).unwrap();
        let b = wheel.insert(100, waker(2, &log)).unwrap();
        let c = wheel.insert(100, waker(3, &log)).unwrap();
        wheel.remove(b); // middle of its slot's list
        wheel.remove(c); // head of the list
        let d = wheel.insert(5000, waker(4, &log)).unwrap();
        assert!(d == b || d == c, "freed slab slots are reused");
        assert_eq!(advance_all(&mut wheel, 10_000), 2);
        assert_eq!(*log.lock().unwrap(), vec![1, 4]);
        wheel.remove(a);
        wheel.remove(d);
        assert_eq!(wheel.next_expiration(), None);
    }

    #[test]
    fn reset_moves_and_rearms() {
        let log: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();
        let mut wheel = Wheel::new();
        let key = wheel.insert(1000, waker(7, &log)).unwrap();
        assert!(wheel.reset(key, 50));
        assert_eq!(advance_all(&mut wheel, 50), 1);
        assert!(wheel.poll(key, &waker(7, &log)));
        // Re-arm a fired timer for later.
        assert!(wheel.reset(key, 3000));
        assert!(!wheel.poll(key, &waker(8, &log)));
        assert_eq!(advance_all(&mut wheel, 2999), 0);
        assert_eq!(advance_all(&mut wheel, 3000), 1);
        // The newest waker is the one woken.
        assert_eq!(*log.lock().unwrap(), vec![7, 8]);
        // A reset into the past marks it fired without arming.
        assert!(!wheel.reset(key, 10));
        assert!(wheel.poll(key, &waker(9, &log)));
    }

    #[test]
    fn advance_stops_at_max_and_resumes() {
        let log: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();
        let mut wheel = Wheel::new();
        for i in 0..100u64 {
            wheel.insert(10 + i, waker(i, &log)).unwrap();
        }
        let mut fired = Vec::new();
        assert!(wheel.advance(1000, &mut fired, 10));
        assert_eq!(fired.len(), 10);
        while wheel.advance(1000, &mut fired, 10) {}
        assert_eq!(fired.len(), 100);
        assert_eq!(wheel.elapsed(), 1000);
    }

    /// The time driver leaves an empty wheel's `elapsed` behind and catches it up before
    /// arming a timer: from then on the wheel behaves as if it had been advanced all along.
    #[test]
    fn an_empty_wheel_caught_up_arms_timers_from_the_present() {
        let log = Arc::default();
        let mut wheel = Wheel::new();
        assert!(wheel.is_empty());
        assert_eq!(wheel.next_expiration(), None);
        wheel.catch_up(1_000_000);
        assert_eq!(wheel.elapsed(), 1_000_000);
        assert!(
            wheel.insert(1_000_000, waker(0, &log)).is_none(),
            "due already"
        );
        let key = wheel.insert(1_000_010, waker(1, &log)).unwrap();
        assert!(!wheel.is_empty());
        // Ten ticks away from the caught-up present: level 0, due exactly then.
        assert_eq!(wheel.next_expiration(), Some(1_000_010));
        assert_eq!(advance_all(&mut wheel, 1_000_009), 0);
        assert_eq!(advance_all(&mut wheel, 1_000_010), 1);
        assert!(wheel.poll(key, &waker(1, &log)));
        assert!(wheel.is_empty(), "a fired timer is not armed");
        wheel.catch_up(5);
        assert_eq!(wheel.elapsed(), 1_000_010, "never moved back");
    }

    #[test]
    fn far_deadlines_are_clamped() {
        let log = Arc::default();
        let mut wheel = Wheel::new();
        let key = wheel.insert(u64::MAX, waker(0, &log)).unwrap();
        assert_eq!(wheel.next_expiration().map(|t| t <= MAX_TICK), Some(true));
        assert_eq!(advance_all(&mut wheel, MAX_TICK - 1), 0);
        assert_eq!(advance_all(&mut wheel, u64::MAX), 1);
        assert!(wheel.poll(key, &waker(0, &log)));
    }

    /// Random inserts, cancels, resets and advances checked against a plain map of
    /// deadlines: after each advance exactly the timers due by then have fired, in
    /// deadline order, and the next expiration is never after the earliest deadline.
    #[test]
    fn matches_a_reference_model() {
        let mut rng = crate::util::FastRand::new(0x5eed);
        for _round in 0..20 {
            let log: Arc<std::sync::Mutex<Vec<u64>>> = Arc::default();
            let mut wheel = Wheel::new();
            // id -> (key, deadline) of armed timers.
            let mut armed: std::collections::BTreeMap<u64, (Key, u64)> = Default::default();
            let mut fired_keys = Vec::new();
            let mut now = 0u64;
            for id in 0..3_000u64 {
                match rng.below(10) {
                    0..=4 => {
                        // Spread deadlines over several levels.
                        let span = [64, 4_096, 262_144, 1 << 24][rng.below(4) as usize];
                        let when = now + 1 + u64::from(rng.below(span));
                        let key = wheel.insert(when, waker(id, &log)).unwrap();
                        armed.insert(id, (key, when));
                    }
                    5 if !armed.is_empty() => {
                        let pick = *armed
                            .keys()
                            .nth(rng.below(armed.len() as u32) as usize)
                            .unwrap();
                        let (key, _) = armed.remove(&pick).unwrap();
                        wheel.remove(key);
                    }
                    6 if !armed.is_empty() => {
                        let pick = *armed
                            .keys()
                            .nth(rng.below(armed.len() as u32) as usize)
                            .unwrap();
                        let (key, _) = armed[&pick];
                        let when = now + 1 + u64::from(rng.below(100_000));
                        assert!(wheel.reset(key, when));
                        // The stored waker still reports the original id.
                        armed.insert(pick, (key, when));
                    }
                    _ => {
                        if let Some(earliest) = armed.values().map(|&(_, w)| w).min() {
                            assert!(wheel.next_expiration().unwrap() <= earliest);
                        }
                        now += u64::from(rng.below(50_000));
                        log.lock().unwrap().clear();
                        advance_all(&mut wheel, now);
                        let mut due: Vec<(u64, u64)> = armed
                            .iter()
                            .filter(|(_, &(_, w))| w <= now)
                            .map(|(&id, &(_, w))| (w, id))
                            .collect();
                        due.sort_unstable();
                        let got = log.lock().unwrap().clone();
                        // Same set, and deadlines non-decreasing in firing order.
                        let mut got_sorted = got.clone();
                        got_sorted.sort_unstable();
                        let mut want: Vec<u64> = due.iter().map(|&(_, id)| id).collect();
                        want.sort_unstable();
                        assert_eq!(got_sorted, want, "wrong set fired at {now}");
                        let when_of = |id: &u64| armed[id].1;
                        assert!(got.windows(2).all(|p| when_of(&p[0]) <= when_of(&p[1])));
                        for (_, id) in due {
                            fired_keys.push(armed.remove(&id).unwrap().0);
                        }
                        assert_eq!(wheel.armed(), armed.len());
                    }
                }
            }
            for key in fired_keys {
                wheel.remove(key);
            }
        }
    }

    #[test]
    fn drain_hands_back_every_waker() {
        let log = Arc::default();
        let mut wheel = Wheel::new();
        let keys: Vec<Key> = (1..=50u64)
            .map(|i| wheel.insert(i * 1000, waker(i, &log)).unwrap())
            .collect();
        let mut fired = Vec::new();
        wheel.drain(&mut fired);
        assert_eq!(fired.len(), 50);
        assert_eq!(wheel.armed(), 0);
        assert_eq!(wheel.next_expiration(), None);
        for key in keys {
            wheel.remove(key);
        }
    }
}
