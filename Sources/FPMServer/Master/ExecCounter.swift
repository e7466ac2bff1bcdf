import FPMConfiguration
import FPMStatus
import FPMSystem
import Glibc

/// Exact request counts for exec pools. The program (php-cgi, a libfcgi program) accepts on
/// the pool's socket itself, so no Swift code sees its requests; the worker that execs it
/// preloads libFPMExecCounter.so (preload/exec_counter.c, built by `make`, mk/exec-counter.mk), which counts each FastCGI
/// BEGIN_REQUEST the program reads into the pool's counter ("accepted conn") and the worker's
/// slot ("requests"), through the scoreboard file the worker opens before dropping privileges.
///
/// Chosen over the alternatives: the kernel keeps no accept count for a listening socket, and
/// a worker accepting for the program would have to copy every byte through itself (php-cgi
/// only serves connections it accepted on its own listening socket). The library costs a
/// comparison per read() and two atomic adds per request. A statically linked or setuid
/// program ignores LD_PRELOAD: its pool then counts nothing, as before.
enum ExecCounter {
    static let libraryName = "libFPMExecCounter.so"
    /// The variable the library reads (its header's FPM_EXEC_COUNTER_ENV).
    static let variable = "SWIFT_FPM_EXEC_COUNTER"

    /// Beside the running binary (a SwiftPM build directory), else in ../lib/swift-fpm/ (an
    /// installed layout); nil when neither has it.
    static func libraryPath(executable: String? = Processes.executablePath()) -> String? {
        guard let executable, let slash = executable.lastIndex(of: "/") else { return nil }
        let directory = String(executable[..<slash])
        let candidates = [directory + "/" + libraryName, directory + "/../lib/swift-fpm/" + libraryName]
        return candidates.first { (try? FileSystem.status($0))?.kind == .regular }
    }

    /// The variable's value: the descriptor, then the byte offsets of the pool's counter and
    /// of the slot's request counter in the scoreboard file.
    static func specification(descriptor: Int32, slot: Int) -> String {
        "\(descriptor):\(Scoreboard.acceptedConnectionsOffset):\(Scoreboard.requestsOffset(slot: slot))"
    }

    /// Worker, before the privilege drop (the file is the master's, mode 0640): a descriptor
    /// on the pool's scoreboard for the library to map, or nil (then nothing is preloaded).
    static func openScoreboard(_ pool: PoolRuntime) -> Int32? {
        try? FileIO.open(pool.scoreboard.memory.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
    }
}
