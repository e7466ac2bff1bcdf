import FPMSystem
import Glibc

/// `catch_workers_output`: what a worker writes to its stdout or stderr becomes error-log
/// entries, as php-fpm's fpm_stdio does: one WARNING per line,
/// `[pool www] child 123 said into stderr: "main.swift:47: Fatal error: …"`, or the bare text
/// with `decorate_workers_output = no`; a line longer than an entry may hold (`log_limit`, the
/// entry's prefix and newline included) is wrapped into several entries.
///
/// The splitting is a value fed bytes and returning entries' texts, so it is tested alone;
/// `Master+WorkerOutput` reads the pipes and writes the entries.
struct WorkerOutputSplitter: Equatable {
    /// The most text bytes one entry carries.
    let maximum: Int
    /// `log_buffering = no`: what a read brought is written at once, a line's end or not.
    let buffering: Bool
    /// Text read but not yet written: the start of a line whose end has not come.
    private(set) var pending: [UInt8] = []

    init(maximum: Int, buffering: Bool = true) {
        self.maximum = max(1, maximum)
        self.buffering = buffering
    }

    /// What `bytes` complete: every whole line (without its newline), lines too long for one
    /// entry cut into pieces of `maximum` bytes. Without buffering, the rest is an entry too.
    mutating func feed(_ bytes: some Collection<UInt8>) -> [[UInt8]] {
        var entries: [[UInt8]] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                entries.append(pending)
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count == maximum {
                    entries.append(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        if !buffering, !pending.isEmpty {
            entries.append(pending)
            pending.removeAll(keepingCapacity: true)
        }
        return entries
    }

    /// The unfinished line, as an entry of its own (the pipe closed, the worker exited, or it
    /// waited too long for its end); nil when there is none.
    mutating func flush() -> [UInt8]? {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    /// How many text bytes a decorated entry holds within `limit` (`log_limit`, newline
    /// included) once its prefix is there: `[time] WARNING: [pool P] child N said into S: "` and
    /// the closing quote (php-fpm 8.2: with `log_limit = 600`, entries of 599 bytes and a newline).
    /// Undecorated, the text fills the whole line.
    static func maximum(limit: Int, decorated: Bool, prefix: Int) -> Int {
        decorated ? max(1, limit - 1 - prefix - 1) : max(1, limit - 1)
    }
}

/// One of a worker's output pipes (stdout, stderr or its log pipe), as the master holds it:
/// the read end, owned (closed by `close()`, or when the stream is dropped).
final class WorkerOutputStream {
    /// The pipe's number: its key in `WorkerOutputs` and its epoll tag, also once closed.
    let fd: Int32
    private var descriptor: OwnedDescriptor?
    let pid: pid_t
    let pool: String
    /// `stdout` or `stderr`.
    let name: String
    let decorated: Bool
    var splitter: WorkerOutputSplitter
    /// When the unfinished line began waiting for its end (monotonic ns), nil when none waits.
    var pendingSince: Int?

    /// Takes over `fd`.
    init(fd: Int32, pid: pid_t, pool: String, name: String, decorated: Bool, splitter: WorkerOutputSplitter) {
        self.fd = fd
        descriptor = OwnedDescriptor(owning: fd)
        self.pid = pid
        self.pool = pool
        self.name = name
        self.decorated = decorated
        self.splitter = splitter
    }

    /// Closes the pipe (once; later calls do nothing).
    func close() {
        descriptor.take()?.close()
    }

    /// The name of the stream that carries the worker's own log lines (`WorkerLogLine`).
    static let logName = "log"

    /// The decoration before the text: `[pool www] child 123 said into stderr: "`.
    var decoration: String { "[pool \(pool)] child \(pid) said into \(name): \"" }
}

/// The pipes a worker is forked with when its pool catches its output: the master keeps the
/// read ends (non-blocking), the child makes the write ends its stdout and stderr.
struct WorkerOutputPipes {
    var stdout: (read: Int32, write: Int32)
    var stderr: (read: Int32, write: Int32)

    static func make() throws(SystemError) -> WorkerOutputPipes {
        let out = try FileIO.pipe()
        let err: (read: Int32, write: Int32)
        do {
            err = try FileIO.pipe()
        } catch {
            FileIO.close(out.read)
            FileIO.close(out.write)
            throw error
        }
        let pipes = WorkerOutputPipes(stdout: out, stderr: err)
        // The master's until the fork; its worker keeps the write ends (`keepInChild`).
        for fd in [out.read, out.write, err.read, err.write] { DescriptorRegistry.register(fd) }
        do {
            try FileIO.setNonBlocking(out.read, true)
            try FileIO.setNonBlocking(err.read, true)
        } catch {
            pipes.closeAll()
            throw error
        }
        return pipes
    }

    /// In the worker they are made for: the write ends stay open; the read ends are the
    /// master's and close with its other descriptors.
    func keepInChild() {
        DescriptorRegistry.keep(stdout.write)
        DescriptorRegistry.keep(stderr.write)
    }

    func closeAll() {
        for fd in [stdout.read, stdout.write, stderr.read, stderr.write] { FileIO.close(fd) }
    }
}

/// Every caught output pipe of the running workers, by descriptor and by worker.
struct WorkerOutputs {
    var streams: [Int32: WorkerOutputStream] = [:]
    var byPID: [pid_t: [Int32]] = [:]

    mutating func add(_ stream: WorkerOutputStream) {
        streams[stream.fd] = stream
        byPID[stream.pid, default: []].append(stream.fd)
    }

    mutating func remove(_ fd: Int32) -> WorkerOutputStream? {
        guard let stream = streams.removeValue(forKey: fd) else { return nil }
        byPID[stream.pid]?.removeAll { $0 == fd }
        if byPID[stream.pid]?.isEmpty == true { byPID.removeValue(forKey: stream.pid) }
        return stream
    }
}
