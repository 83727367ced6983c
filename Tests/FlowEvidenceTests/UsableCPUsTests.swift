// The default `--threads` and the spin decision count the CPUs a cgroup v2 quota allows, which
// Foundation's activeProcessorCount does not read (UsableCPUs.swift).
import Testing
import Foundation
@testable import TorscanCore

@Suite struct UsableCPUsTests {
    @Test func cpuMaxLines() {
        #expect(UsableCPUs.cpus(cpuMax: "max 100000\n") == nil)
        #expect(UsableCPUs.cpus(cpuMax: "100000 100000\n") == 1)
        #expect(UsableCPUs.cpus(cpuMax: "150000 100000\n") == 2)
        #expect(UsableCPUs.cpus(cpuMax: "50000 100000") == 1)
        #expect(UsableCPUs.cpus(cpuMax: "400000 100000") == 4)
        #expect(UsableCPUs.cpus(cpuMax: "") == nil)
        #expect(UsableCPUs.cpus(cpuMax: "0 100000") == nil)
        #expect(UsableCPUs.cpus(cpuMax: "100000") == nil)
    }

    /// A fake /sys/fs/cgroup: files by path.
    static func quota(_ files: [String: String], mountInfo: String, cgroup: String) -> Int? {
        UsableCPUs.cgroupV2Quota(mountInfo: mountInfo, cgroup: cgroup, read: { files[$0] })
    }

    static let pureV2 = "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"

    @Test func aContainerSeesItsOwnGroupAsTheRoot() {
        // Docker or Kubernetes with a cgroup namespace: "0::/", the group's files at the mount point.
        #expect(Self.quota(["/sys/fs/cgroup/cpu.max": "200000 100000\n"], mountInfo: Self.pureV2, cgroup: "0::/\n") == 2)
        #expect(Self.quota(["/sys/fs/cgroup/cpu.max": "max 100000\n"], mountInfo: Self.pureV2, cgroup: "0::/\n") == nil)
    }

    @Test func theSmallestQuotaOnThePathCounts() {
        let files = ["/sys/fs/cgroup/batch.slice/cpu.max": "300000 100000",
                     "/sys/fs/cgroup/batch.slice/job/cpu.max": "max 100000",
                     "/sys/fs/cgroup/batch.slice/job/torscan/cpu.max": "800000 100000"]
        #expect(Self.quota(files, mountInfo: Self.pureV2, cgroup: "0::/batch.slice/job/torscan\n") == 3)
        #expect(Self.quota([:], mountInfo: Self.pureV2, cgroup: "0::/batch.slice/job/torscan\n") == nil)
    }

    @Test func aMountOfASubtree() {
        // The hierarchy mounted from /kubepods/pod1 (its root field): the path is below that root.
        let info = "40 30 0:40 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
        let files = ["/sys/fs/cgroup/cpu.max": "100000 100000", "/sys/fs/cgroup/app/cpu.max": "250000 100000"]
        #expect(Self.quota(files, mountInfo: info, cgroup: "0::/kubepods/pod1/app\n") == 1)
        #expect(Self.quota(files, mountInfo: info, cgroup: "0::/elsewhere\n") == nil)   // not below the mount's root
    }

    @Test func noCgroupV2() {
        // cgroup v1 only (Foundation reads v1's quota itself), or no cgroup2 mount.
        let v1 = "31 23 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
        #expect(Self.quota(["/sys/fs/cgroup/cpu.max": "100000 100000"], mountInfo: v1, cgroup: "1:cpu:/\n0::/\n") == nil)
        #expect(Self.quota([:], mountInfo: Self.pureV2, cgroup: "1:cpu:/\n") == nil)
    }

    #if os(Linux)
    @Test func readsFilesThatReportNoSize() throws {
        // /proc files have a size of 0 in stat: they must still be read to their end.
        let info = try #require(UsableCPUs.read("/proc/self/mountinfo"))
        #expect(info.hasSuffix("\n") && info.split(separator: "\n").count > 3)
        #expect(UsableCPUs.read("/proc/self/cgroup")?.contains("::") == true)
        #expect(UsableCPUs.read("/nonexistent/cpu.max") == nil)
    }
    #endif
}
