// What built this torscan: its version and the git commit (embedded by Plugins/GitCommitPlugin).

public enum BuildInfo {
    public static let version = "0.1.0"
    /// `git rev-parse HEAD` at build time, `-dirty` when tracked files differed; "unknown" outside a checkout.
    public static let gitCommit = GeneratedBuildInfo.gitCommit
}
