import Glibc
import SystemPackage

/// A file-backed shared mapping. The master creates it before forking (workers inherit the
/// mapping); other processes (`fpmctl`) can map the same file read-only.
package final class SharedMemory: @unchecked Sendable {
    package let base: UnsafeMutableRawPointer
    package let size: Int
    package let path: String
    package let writable: Bool

    private init(base: UnsafeMutableRawPointer, size: Int, path: String, writable: Bool) {
        self.base = base
        self.size = size
        self.path = path
        self.writable = writable
    }

    /// Creates (replacing atomically) a zero-filled file of `size` bytes at `path` and maps it.
    /// The file is new (`PrivateFiles.createNew`: nothing planted is adopted), readable by its
    /// owner and `group` only with the default mode.
    package static func create(path: String, size: Int, mode: mode_t = 0o640, group: gid_t? = nil) throws(SystemError) -> SharedMemory {
        let tmp = PrivateFiles.temporaryName(for: path, "new")
        let fd = try PrivateFiles.createNew(tmp, mode: mode, group: group)
        defer { FileIO.close(fd) }
        do throws(SystemError) {
            _ = try retrying("ftruncate(\(tmp))") { ftruncate(fd, off_t(size)) }
            let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
            guard let p, p != MAP_FAILED else { throw SystemError("mmap(\(path))", Errno(rawValue: errno)) }
            try FileIO.rename(tmp, path)
            return SharedMemory(base: p, size: size, path: path, writable: true)
        } catch {
            FileIO.unlink(tmp)
            throw error
        }
    }

    /// Maps an existing file, read-only unless asked otherwise.
    package static func open(path: String, writable: Bool = false) throws(SystemError) -> SharedMemory {
        let fd = try FileIO.open(path, (writable ? O_RDWR : O_RDONLY) | O_NOFOLLOW)
        defer { FileIO.close(fd) }
        var st = stat()
        _ = try checked("fstat(\(path))") { fstat(fd, &st) }
        let size = Int(st.st_size)
        guard size > 0 else { throw SystemError("mmap(\(path))", .invalidArgument) }
        let p = mmap(nil, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw SystemError("mmap(\(path))", Errno(rawValue: errno)) }
        return SharedMemory(base: p, size: size, path: path, writable: writable)
    }

    /// Unmaps the region. The owner calls this once it is no longer needed (a worker unmaps
    /// other pools' scoreboards after fork).
    package func unmap() {
        munmap(base, size)
    }

    package func removeFile() {
        FileIO.unlink(path)
    }
}
