import FPMSystem
import Glibc

/// pm.warm_template: the decisions and messages of a pool's warm template, as values (unit-tested);
/// the processes are in `Master+WarmTemplate` (the master's side) and `WarmTemplateProcess`
/// (the template's).
///
/// A template is a child of the master that took the pool's identity like a worker, ran the
/// handler's `warmUp` once, and from then on forks the pool's workers when the master asks,
/// so what `warmUp` built is shared copy-on-write by all of them.
///
/// How a worker forked by the template is the master's child: the master is a child subreaper
/// (`PR_SET_CHILD_SUBREAPER`) and the template double-forks — it forks a short-lived middle
/// process, which forks the worker and exits at once; the orphaned worker is re-parented to the
/// master, the nearest subreaper, before the template has reaped the middle. Only then does the
/// template release the worker (a byte on a pipe) and report its pid, so by the time the worker
/// runs, its parent is the master: the master receives its SIGCHLD and reaps it, its
/// `PR_SET_PDEATHSIG` is about the master, and its `getppid()` check passes. Chosen over
/// `clone3(CLONE_PARENT)`, which would make the worker the master's child in one step but
/// bypasses glibc's fork bookkeeping (atfork handlers, the cached thread id that PI futexes
/// and pthread calls use), and over a subreaper alone (workers re-parented only when the
/// template dies: until then the master could neither reap nor be the parent the worker
/// checks). The cost is one extra fork of a small process per worker.
///
/// The descriptors a worker needs from the master (its control channel, the write ends of its
/// output and log pipes) are made by the master as for any worker and passed to the template
/// with the request (SCM_RIGHTS); the pool's listener, hand-off socket and access log the
/// template holds since its own fork, as a worker would.
package enum WarmTemplate {
    /// What the master asks: fork a worker for `slot`, with these descriptors attached, in
    /// this order: the control channel's worker end, then (when `output`) the stdout and stderr
    /// pipes' write ends, then (when `log`) the log pipe's write end.
    package struct Request: Equatable, Sendable {
        package var slot: Int32
        package var output: Bool
        package var log: Bool

        package init(slot: Int32, output: Bool, log: Bool) {
            self.slot = slot
            self.output = output
            self.log = log
        }

        package static let size = 8
        package var descriptorCount: Int { 1 + (output ? 2 : 0) + (log ? 1 : 0) }

        package var bytes: [UInt8] {
            let flags: UInt32 = (output ? 1 : 0) | (log ? 2 : 0)
            return withUnsafeBytes(of: UInt32(bitPattern: slot).littleEndian) { Array($0) }
                + withUnsafeBytes(of: flags.littleEndian) { Array($0) }
        }

        package init?(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count == Request.size else { return nil }
            let slot = bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian
            let flags = bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
            guard flags & ~3 == 0 else { return nil }
            self.init(slot: Int32(bitPattern: slot), output: flags & 1 != 0, log: flags & 2 != 0)
        }
    }

    /// What the template says, one line each: `ready NANOS` after `warmUp`, `failed TEXT` when
    /// it threw, `pid PID` for a forked worker, `error TEXT` when a fork failed.
    package enum Reply: Equatable, Sendable {
        case ready(warmUpNanos: Int)
        case failed(String)
        case forked(pid: Int32)
        case error(String)

        package var line: String {
            switch self {
            case .ready(let nanos): return "ready \(nanos)\n"
            case .failed(let text): return "failed \(Reply.oneLine(text))\n"
            case .forked(let pid): return "pid \(pid)\n"
            case .error(let text): return "error \(Reply.oneLine(text))\n"
            }
        }

        package init?(line: Substring) {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard let word = parts.first else { return nil }
            let rest = parts.count > 1 ? String(parts[1]) : ""
            switch word {
            case "ready": guard let n = Int(rest), n >= 0 else { return nil }; self = .ready(warmUpNanos: n)
            case "failed": self = .failed(rest)
            case "pid": guard let p = Int32(rest), p > 0 else { return nil }; self = .forked(pid: p)
            case "error": self = .error(rest)
            default: return nil
            }
        }

        static func oneLine(_ text: String) -> String {
            text.split(whereSeparator: \.isNewline).joined(separator: "; ")
        }
    }

    /// A worker asked for while the pool's template still runs `warmUp` (after a replacement)
    /// is held, not waited for, so the master's loop never stalls on app code: how many are
    /// held after one more, never more than the pool may still run.
    package static func heldSpawns(pending: Int, running: Int, maxChildren: Int) -> Int {
        min(pending + 1, max(0, maxChildren - running))
    }

    /// When the template is ready: how many held workers to fork now. An ondemand pool forks
    /// none from the count: its waiting connections decide, as for any pending connection.
    package static func spawnsOnReady(pending: Int, running: Int, maxChildren: Int, ondemand: Bool) -> Int {
        ondemand ? 0 : max(0, min(pending, maxChildren - running))
    }

    /// One pool's template as the master tracks it.
    package struct Record: Equatable, Sendable {
        package var pool: String
        package var pid: Int32
        /// The master's end of the socketpair.
        package var socket: Int32
        /// Set once `warmUp` finished; nil while it runs.
        package var warmUpNanos: Int?

        package init(pool: String, pid: Int32, socket: Int32, warmUpNanos: Int? = nil) {
            self.pool = pool
            self.pid = pid
            self.socket = socket
            self.warmUpNanos = warmUpNanos
        }
    }

    /// What a reaped pid was, as far as templates go.
    package enum Exit: Equatable, Sendable {
        /// The pool's running template died: the master makes a new one (the workers it
        /// forked are the master's children and go on).
        case running(Record)
        /// A template the master had already given up (failed warm-up, no answer, a reload).
        case retired
    }

    /// The master's templates, by pool, and the pids of the ones given up whose exit is
    /// still to be reaped.
    package struct Registry: Sendable {
        package private(set) var byPool: [String: Record] = [:]
        package private(set) var retired: Set<Int32> = []

        package init() {}

        package mutating func started(_ record: Record) { byPool[record.pool] = record }

        package mutating func warmedUp(pool: String, nanos: Int) { byPool[pool]?.warmUpNanos = nanos }

        /// Gives the pool's template up (its exit, when reaped, is expected); the record, so
        /// the caller can close its socket and signal it.
        package mutating func retire(pool: String) -> Record? {
            guard let record = byPool.removeValue(forKey: pool) else { return nil }
            retired.insert(record.pid)
            return record
        }

        /// Every template, running or given up, forgotten: the pids to kill and wait for.
        package mutating func takeAll() -> (running: [Record], retired: [Int32]) {
            defer { byPool = [:]; retired = [] }
            return (byPool.values.sorted { $0.pool < $1.pool }, retired.sorted())
        }

        /// Whether `pid` was a template, and which kind; nil for any other child.
        package mutating func exited(_ pid: Int32) -> Exit? {
            if retired.remove(pid) != nil { return .retired }
            guard let record = byPool.values.first(where: { $0.pid == pid }) else { return nil }
            byPool[record.pool] = nil
            return .running(record)
        }

        /// Whether a template exited while its pool still wants one: a new one is made unless
        /// the master is stopping or the pool no longer has the directive.
        package static func remake(after exit: Exit, serving: Bool, poolWantsTemplate: Bool) -> Bool {
            guard case .running = exit else { return false }
            return serving && poolWantsTemplate
        }
    }
}
