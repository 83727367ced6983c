// The classifier's own version, recorded in every run manifest (chain of custody): a firewall or a
// second analyst can tell which detector rules produced a label. Bump it whenever a detector's
// decisions can change (a new signal, a changed threshold), not for refactors.

public enum ClassifierVersion {
    public static let version = "0.1.0"
}
