// How long a thread of `--threads N` watches for the other side before it sleeps (BatchQueue.wait),
// adapted to how the waits end (issue 6).
//
// Why spin long: on a virtual machine, a thread that sleeps leaves its virtual CPU idle, the host
// hands the CPU to another guest, and the wake-up waits until the host gives it back: that wait
// shows as stolen time (/proc/stat), not as ours. With a fixed 30 us spin, two threads on this
// machine's shared host slept about 700 times in a 1 GB run and the run took 0.70-2.05 s (median
// 1.23 s; 0.01-1.6 s stolen), slower than one thread at times; spinning up to 1 ms: 124 sleeps, 0.63-
// 1.34 s (median 0.82 s; 0.01-0.7 s stolen). 3 and 20 ms were no better (interleaved, six rounds).
//
// Why adapt: spinning pays only when the other side comes back within the spin. When it does not
// (a reader waiting for a slow disk, more threads than cores), each wait would burn the whole spin
// for nothing. So the budget halves after some waits in a row that had to sleep and doubles after
// one that ended while spinning, between `floor` (the old fixed 30 us) and `ceiling`.
struct SpinBudget {
    static let floor: UInt64 = 30_000
    static let defaultCeiling: UInt64 = 1_000_000

    let ceiling: UInt64
    /// Nanoseconds the next wait spins before it sleeps.
    private(set) var nanoseconds: UInt64

    /// `ceiling` below `floor` means spin `floor` always (more threads than cores: a spinning thread
    /// would hold a core the one it waits for needs).
    init(ceiling: UInt64 = SpinBudget.defaultCeiling) {
        self.ceiling = max(Self.floor, ceiling)
        nanoseconds = self.ceiling
    }

    /// Waits in a row that slept.
    private var sleptInARow = 0
    /// Sleeps in a row that halve the budget. One would not do: on a shared host a wait now and then
    /// outlasts any spin (the other thread's CPU was taken), and halving at each made the next waits
    /// sleep more (275 sleeps in a 1 GB run against 98 with a fixed 1 ms; median 0.91 s against 0.80 s).
    static let sleepsToShrink = 4

    /// After a wait: whether it ended while spinning (the other side came back in time) or slept.
    mutating func record(endedSpinning: Bool) {
        if endedSpinning {
            sleptInARow = 0
            nanoseconds = min(ceiling, nanoseconds &* 2)
        } else {
            sleptInARow += 1
            if sleptInARow == Self.sleepsToShrink {
                sleptInARow = 0
                nanoseconds = max(Self.floor, nanoseconds / 2)
            }
        }
    }
}
