// The CPUs this process may use: the default thread count (`--threads`), and whether a waiting
// thread may spin (SpinBudget: a spinning thread holds a CPU the thread it waits for may need).
//
// Foundation's `activeProcessorCount` counts the CPUs of the process's affinity mask and a cgroup v1
// CPU quota (cpu.cfs_quota_us / cpu.cfs_period_us under /sys/fs/cgroup/cpu: checked here with a
// quota of one CPU, it gave 1 of 2), but it does not read cgroup v2's `cpu.max`, which containers
// get on current distributions and Kubernetes. There, a container limited to 2 CPUs on a 64-core
// host would run 64 threads that spin on its quota. So the v2 quota is read here too: Linux,
// Documentation/admin-guide/cgroup-v2.rst, "cpu.max: ... $MAX $PERIOD ... which indicates that the
// group may consume up to $MAX in each $PERIOD duration. 'max' for $MAX indicates no limit." A
// group is limited by its own quota and by its ancestors', so the smallest along the path counts.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

public enum UsableCPUs {
    /// At least 1: Foundation's count, lowered to a cgroup v2 CPU quota rounded up.
    public static let count: Int = {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        #if canImport(Glibc)
        if let quota = cgroupV2Quota(mountInfo: read("/proc/self/mountinfo"), cgroup: read("/proc/self/cgroup"), read: read) {
            return max(1, min(cores, quota))
        }
        #endif
        return cores
    }()

    /// The CPUs a `cpu.max` line allows, rounded up ("150000 100000": 2); nil for no limit or a line
    /// that is not one.
    static func cpus(cpuMax line: String) -> Int? {
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard f.count == 2, f[0] != "max", let quota = Int(f[0]), let period = Int(f[1]), quota > 0, period > 0 else { return nil }
        return (quota + period - 1) / period
    }

    /// The smallest quota (in CPUs) of this process's cgroup v2 group and its ancestors, or nil.
    /// `mountInfo` is /proc/self/mountinfo, `cgroup` is /proc/self/cgroup; `read` reads a file.
    static func cgroupV2Quota(mountInfo: String?, cgroup: String?, read: (String) -> String?) -> Int? {
        // The v2 hierarchy's line in /proc/self/cgroup is "0::/path".
        guard let path = cgroup?.split(separator: "\n").first(where: { $0.hasPrefix("0::") }).map({ String($0.dropFirst(3)) }),
              let mount = cgroupV2Mount(mountInfo) else { return nil }
        // The group's directory: the mount point plus the path below the mount's root (a container
        // sees its own group as "/", mounted with root "/").
        guard path == mount.root || path.hasPrefix(mount.root == "/" ? "/" : mount.root + "/") else { return nil }
        var relative = mount.root == "/" ? path : String(path.dropFirst(mount.root.count))
        var smallest: Int?
        while true {
            let dir = mount.point + (relative == "/" ? "" : relative)
            if let line = read(dir + "/cpu.max"), let n = cpus(cpuMax: line) { smallest = min(smallest ?? n, n) }
            guard relative != "/", !relative.isEmpty, let slash = relative.lastIndex(of: "/") else { break }
            relative = slash == relative.startIndex ? "/" : String(relative[..<slash])
        }
        return smallest
    }

    /// The mount point and root of the cgroup2 file system, from /proc/self/mountinfo (proc(5): field
    /// 4 is the root, field 5 the mount point, the file system type follows " - ").
    static func cgroupV2Mount(_ mountInfo: String?) -> (point: String, root: String)? {
        for line in mountInfo?.split(separator: "\n") ?? [] {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { continue }
            let f = halves[0].split(separator: " ")
            guard f.count >= 5 else { continue }
            return (String(f[4]), String(f[3]))
        }
        return nil
    }

    #if canImport(Glibc)
    /// A small file read to its end (files under /proc report a size of 0, so no size is trusted).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += chunk[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
    #endif
}
