// `--out FILE`: write to a temporary file beside the target, flush it to disk, then rename, so an
// interrupted run never leaves a half-written report (rename(2) is atomic within a file system).
import Foundation

public enum AtomicFileError: Error, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)
    public var description: String {
        switch self { case .cannotWrite(let p, let r): "cannot write \(p): \(r)" }
    }
}

public enum AtomicFile {
    static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        return dir + "/." + url.lastPathComponent + ".torscan-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
    }

    /// For files written by a library that wants a path (a ZIP archive): `produce` writes the temporary
    /// path beside `path`, which is then flushed to disk and renamed over `path`.
    public static func write(to path: String, produce: (String) throws -> Void) throws(AtomicFileError) {
        let temp = temporaryPath(for: path)
        do { try produce(temp) } catch {
            unlink(temp)
            throw .cannotWrite(path: path, reason: String(describing: error))
        }
        let fd = open(temp, O_RDONLY)
        let synced = fd >= 0 && fsync(fd) == 0
        let reason = String(cString: strerror(errno))
        if fd >= 0 { close(fd) }
        guard synced, rename(temp, path) == 0 else {
            unlink(temp)
            throw .cannotWrite(path: path, reason: reason)
        }
    }

    public static func write(_ data: Data, to path: String) throws(AtomicFileError) {
        let temp = temporaryPath(for: path)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        var ok = true
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { if errno == EINTR { continue }; ok = false; return }
                offset += n
            }
        }
        let reason = String(cString: strerror(errno))
        if ok { ok = fsync(fd) == 0 }
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            unlink(temp)
            throw .cannotWrite(path: path, reason: reason)
        }
    }
}
