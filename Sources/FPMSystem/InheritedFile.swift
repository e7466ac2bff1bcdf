import Glibc
import SystemPackage

/// An anonymous file a process hands to the image it re-executes into: created in a folder,
/// unlinked at once (nothing is left behind whatever happens next), written, rewound, and its
/// descriptor left open across `exec`. The reload's inheritance travels this way: an environment
/// variable could not hold a large configuration.
package enum InheritedFile {
    /// Writes `bytes` to a new unlinked file in `directory`; the descriptor is close-on-exec
    /// until the caller clears it, positioned at the start.
    /// The corresponding C functions are `open`, `unlink`, `write` and `lseek`.
    package static func create(in directory: String, contents bytes: [UInt8]) throws(SystemError) -> Int32 {
        let path = "\(directory)/swift-fpm.\(getpid()).inherit.\(SystemClock.monotonicNanos())"
        let fd = try FileIO.open(path, O_RDWR | O_CREAT | O_EXCL, mode: 0o600)
        FileIO.unlink(path)
        do throws(SystemError) {
            try FileIO.writeAll(fd, bytes)
            _ = try retrying("lseek") { lseek(fd, 0, SEEK_SET) }
        } catch {
            FileIO.close(fd)
            throw error
        }
        return fd
    }

    /// Reads the whole file from its current position and closes it.
    /// The corresponding C function is `read`.
    package static func consume(_ fd: Int32, limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        defer { FileIO.close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while out.count < limit {
            let result = chunk.withUnsafeMutableBytes { b -> Result<Int, SystemError> in
                do throws(SystemError) { return .success(try FileIO.read(fd, into: b)) } catch { return .failure(error) }
            }
            let n = try result.get()
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}
