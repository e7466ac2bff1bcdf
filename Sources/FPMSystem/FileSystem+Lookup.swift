import Glibc

/// What the configuration loader asks of the real system (FPMConfiguration's
/// `ConfigurationFileSystem.system`): whole files, globs, file kinds, accounts.
extension FileSystem {
    /// True when `path` exists and is a regular file (links followed).
    /// The corresponding C function is `stat`.
    package static func isRegularFile(_ path: String) -> Bool {
        (try? status(path))?.kind == .regular
    }

    /// The whole of a file, however long. The corresponding C functions are `open` and `read`.
    package static func contents(of path: String) throws(SystemError) -> [UInt8] {
        let fd = try FileIO.open(path, O_RDONLY)
        defer { FileIO.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let failure = chunk.withUnsafeMutableBytes { buffer -> Result<Int, SystemError> in
                do throws(SystemError) { return .success(try FileIO.read(fd, into: buffer)) } catch { return .failure(error) }
            }
            switch failure {
            case .success(0): return bytes
            case .success(let n): bytes.append(contentsOf: chunk[0..<n])
            case .failure(let error): throw error
            }
        }
    }

    /// What `glob` found.
    package enum GlobResult: Sendable, Equatable {
        /// The matching paths as glob(3) sorts them; directories end in `/` (GLOB_MARK).
        case paths([String])
        /// Nothing matched (GLOB_NOMATCH).
        case noMatch
        /// Any other failure (GLOB_ERR: a directory that is missing or cannot be read); glob's result.
        case failed(Int32)
    }

    /// glob(3) with GLOB_ERR | GLOB_MARK. The corresponding C function is `glob`.
    package static func glob(_ pattern: String) -> GlobResult {
        var result = glob_t()
        defer { globfree(&result) }
        let status = Glibc.glob(pattern, GLOB_ERR | GLOB_MARK, nil, &result)
        switch status {
        case 0:
            var paths: [String] = []
            for index in 0..<Int(result.gl_pathc) {
                guard let pointer = result.gl_pathv[index] else { continue }
                paths.append(String(cString: pointer))
            }
            return .paths(paths)
        case GLOB_NOMATCH:
            return .noMatch
        default:
            return .failed(status)
        }
    }
}
