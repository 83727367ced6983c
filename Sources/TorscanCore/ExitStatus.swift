// torscan's exit statuses (documented in README.md, "Exit status").

public enum ExitStatus: Int32, Sendable {
    /// Finished; every input was read whole.
    case success = 0
    /// A command-line or option error (bad flag, bad BPF expression, bad infohash).
    case usage = 64
    /// Finished, but at least one input was damaged (truncated, corrupt block, garbage): what could be read was read.
    case inputDamaged = 3
    /// No input could be read at all (missing, unreadable, not a capture).
    case noInput = 66
    /// `torscan eval` below a threshold, or `torscan verify` found a row that does not hold.
    case checkFailed = 4
    /// An output file could not be written.
    case cannotWrite = 73
}
