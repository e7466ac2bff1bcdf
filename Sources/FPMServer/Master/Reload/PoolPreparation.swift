import FPMConfiguration
import FPMSystem
import Glibc

/// What a pool's once-per-generation preparation is told about its pool.
package struct PoolContext: Sendable {
    package var name: String
    /// The pool's `env[...]` settings, applied to the preparing process.
    package var environment: [(String, String)]
    package var configuration: PoolConfiguration?

    package init(name: String, environment: [(String, String)], configuration: PoolConfiguration? = nil) {
        self.name = name
        self.environment = environment
        self.configuration = configuration
    }
}

/// A pool's preparation: work an app needs done once per pool generation, before any worker's
/// `setUp` (a schema migration), which every worker doing it in its own `setUp` would race on.
///
/// The master never runs app code: it forks a child that takes the pool's environment and
/// privileges like a worker, and re-executes the binary on disk with `--prepare-pool NAME` (so
/// after a deploy the new code prepares for the new workers), the configuration to prepare for
/// on its standard input. At start (before any worker and before the loop) the master waits
/// for it with a deadline, reading its output, and a failure refuses the start. On reload it
/// must not stall the loop (signals, pm, request timeouts, status answers, the watchdog), so
/// `ProcessControl` runs it (`ReloadPreparation`): the child is watched from the loop, its
/// exit comes through the SIGCHLD reaping, the deadline is checked at the tick, and a failure
/// aborts the reload before anything changed, so the running generation keeps serving. The
/// decisions are here as values; the process handling is in the `Master` extension below and
/// `run(pool:…)` (the child's side).
package enum PoolPreparation {
    /// How long a preparation may take before it is killed and counts as failed: 60 s, or the
    /// whole seconds in the master's SWIFT_FPM_PREPARE_TIMEOUT (read once; for tests and for a
    /// migration known to take longer).
    package static let deadlineNanos: Int = {
        if let text = Processes.environment()["SWIFT_FPM_PREPARE_TIMEOUT"], let seconds = Int(text), seconds > 0 {
            return seconds * 1_000_000_000
        }
        return 60 * 1_000_000_000
    }()
    /// Output kept for the error log.
    package static let outputLimit = 4096
    /// The configuration is written to the child's standard input before it starts, so it must
    /// fit a pipe's buffer (64 KiB on Linux).
    package static let inputLimit = 60 * 1024

    /// The pools of `configuration` that have something to prepare, in order.
    package static func pools(in configuration: FPMConfiguration, handlers: [String: any RequestHandler]) -> [PoolConfiguration] {
        configuration.pools.filter { $0.exec == nil && handlers[$0.handler]?.preparesPool == true }
    }

    /// Why a preparation could not be started, as the error log's line.
    package struct NotStarted: Error {
        package var line: String
        init(_ line: String) { self.line = line }
    }

    package enum Outcome: Equatable, Sendable {
        case prepared
        case failed(String)
    }

    /// What an ended (or killed) preparation means, as the line the error log gets.
    package static func outcome(pool: String, status: ExitStatus?, output: String, timedOut: Bool,
                                deadlineNanos: Int = deadlineNanos) -> Outcome {
        let detail = output.split(separator: "\n").map { $0.hasPrefix("ERROR: ") ? $0.dropFirst(7) : $0 }
            .joined(separator: "; ")
        let tail = detail.isEmpty ? "" : ": \(detail)"
        if timedOut {
            return .failed("[pool \(pool)] preparation did not finish within \(deadlineNanos / 1_000_000_000) s and was killed\(tail)")
        }
        switch status {
        case .exited(code: 0)?: return .prepared
        case let status?: return .failed("[pool \(pool)] preparation failed (\(status))\(tail)")
        case nil: return .failed("[pool \(pool)] preparation could not be waited for\(tail)")
        }
    }

    /// The child's standard input: the configuration's path on the first line (empty for an
    /// embedded one), then its rendered text.
    package static func encodeInput(path: String?, text: String) -> String {
        (path ?? "") + "\n" + text
    }

    package static func decodeInput(_ input: String) -> (path: String?, text: String) {
        guard let newline = input.firstIndex(of: "\n") else { return (nil, input) }
        let path = String(input[..<newline])
        return (path.isEmpty ? nil : path, String(input[input.index(after: newline)...]))
    }

    /// The child's side (`fpm --prepare-pool NAME`): reads the configuration on standard input,
    /// runs the pool's handler's preparation, and exits 0, or prints the error and exits 1.
    package static func run(pool name: String, options: LaunchOptions, handlers: [String: any RequestHandler]) -> Int32 {
        var input: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while input.count <= inputLimit {
            let n = (try? chunk.withUnsafeMutableBytes { b throws(SystemError) in try FileIO.read(0, into: b) }) ?? 0
            if n == 0 { break }
            input += chunk[0..<n]
        }
        let (path, text) = decodeInput(String(decoding: input, as: UTF8.self))
        do {
            let configuration = try ConfigurationLoader.load(
                text: text, path: path, prefix: options.prefix, environment: Processes.environment(),
                fileSystem: path == nil ? .isolated : .system)
            guard let pool = configuration.pools.first(where: { $0.name == name }) else {
                printError("ERROR: no pool '\(name)' in the configuration")
                return ExitCodes.config
            }
            guard let handler = handlers[pool.handler] else {
                printError("ERROR: unknown handler '\(pool.handler)'")
                return ExitCodes.config
            }
            try handler.preparePool(PoolContext(name: pool.name, environment: pool.environment.map { ($0.name, $0.value) },
                                                configuration: pool))
            return ExitCodes.ok
        } catch {
            printError("ERROR: \(error)")
            return 1
        }
    }
}

extension Master {
    /// Runs the preparation of every pool of `configuration` that has one, one after the
    /// other; returns the failures (one line each, naming the pool).
    func preparePools(for configuration: FPMConfiguration) -> [String] {
        var failures: [String] = []
        for pool in PoolPreparation.pools(in: configuration, handlers: handlers) {
            let started = SystemClock.monotonicNanos()
            switch prepare(pool, in: configuration) {
            case .prepared:
                log.notice("[pool \(pool.name)] prepared in \((SystemClock.monotonicNanos() - started) / 1_000_000) ms")
            case .failed(let line):
                failures.append(line)
            }
        }
        return failures
    }

    /// Forks `pool`'s preparation; its pid and the read end of its output, or the line saying
    /// why it could not be started.
    func launchPreparation(_ pool: PoolConfiguration, in configuration: FPMConfiguration)
        -> Result<(pid: pid_t, output: Int32), PoolPreparation.NotStarted> {
        let input = PoolPreparation.encodeInput(path: configuration.path, text: configuration.renderEffective())
        guard input.utf8.count <= PoolPreparation.inputLimit else {
            return .failure(.init("[pool \(pool.name)] preparation not started: the configuration is larger than \(PoolPreparation.inputLimit) bytes"))
        }
        let stdin: (read: Int32, write: Int32)
        let output: (read: Int32, write: Int32)
        do {
            stdin = try FileIO.pipe()
            do { output = try FileIO.pipe() } catch { FileIO.close(stdin.read); FileIO.close(stdin.write); throw error }
        } catch {
            return .failure(.init("[pool \(pool.name)] preparation not started: \(error)"))
        }
        // Fits the pipe's buffer (checked above): written before the child exists, no deadlock.
        try? FileIO.writeAll(stdin.write, input)
        FileIO.close(stdin.write)
        let child: pid_t
        do {
            child = try Processes.fork()
        } catch {
            FileIO.close(stdin.read); FileIO.close(output.read); FileIO.close(output.write)
            return .failure(.init("[pool \(pool.name)] preparation not started: \(error)"))
        }
        if child == 0 { preparationChild(pool, stdin: stdin.read, output: output.write) }
        FileIO.close(stdin.read)
        FileIO.close(output.write)
        return .success((child, output.read))
    }

    /// One pool's preparation at start, before the loop: fork, wait with the deadline, reap.
    func prepare(_ pool: PoolConfiguration, in configuration: FPMConfiguration) -> PoolPreparation.Outcome {
        let child: pid_t
        let output: Int32
        switch launchPreparation(pool, in: configuration) {
        case .success(let launched): (child, output) = (launched.pid, launched.output)
        case .failure(let notStarted): return .failed(notStarted.line)
        }
        let deadline = SystemClock.monotonicNanos() + PoolPreparation.deadlineNanos
        var text: [UInt8] = []
        var timedOut = false
        var chunk = [UInt8](repeating: 0, count: 4096)
        // Its output until it closes it (it exits), or the deadline.
        while true {
            let left = (deadline - SystemClock.monotonicNanos()) / 1_000_000
            if left <= 0 { timedOut = true; break }
            let ready = (try? Poll.wait(output, for: Poll.readable, timeoutMillis: Int32(min(left, 1000)))) ?? Poll.failed
            if ready == 0 { continue }
            let n = (try? chunk.withUnsafeMutableBytes { b throws(SystemError) in try FileIO.read(output, into: b) }) ?? 0
            if n == 0 { break }
            if text.count < PoolPreparation.outputLimit { text += chunk[0..<min(n, PoolPreparation.outputLimit - text.count)] }
        }
        FileIO.close(output)
        var status = Processes.reap(child)
        while status == nil && !timedOut {
            if SystemClock.monotonicNanos() >= deadline { timedOut = true; break }
            var none: [pollfd] = []
            _ = try? Poll.wait(&none, timeoutMillis: 5)
            status = Processes.reap(child)
        }
        if status == nil {
            Processes.signal(child, SIGKILL)
            for _ in 0..<1000 where status == nil {
                var none: [pollfd] = []
                _ = try? Poll.wait(&none, timeoutMillis: 5)
                status = Processes.reap(child)
            }
        }
        return PoolPreparation.outcome(pool: pool.name, status: status, output: String(decoding: text, as: UTF8.self),
                                       timedOut: timedOut)
    }

    /// In the forked child: the pool's environment and privileges, as a worker's, then the
    /// binary on disk re-executed to prepare.
    func preparationChild(_ pool: PoolConfiguration, stdin: Int32, output: Int32) -> Never {
        Signals.resetDispositions()
        Signals.unblockAll()
        do {
            try FileIO.dup2(stdin, 0)
            try FileIO.dup2(output, 1)
            try FileIO.dup2(output, 2)
        } catch {
            Processes.exitNow(ExitCodes.software)
        }
        Descriptors.closeAll(from: 3)
        _ = applyEnvironment(pool)
        do {
            try applyProcessSettings(pool)
        } catch {
            printError("ERROR: \(error)")
            Processes.exitNow(ExitCodes.config)
        }
        try? Processes.setParentDeathSignal(SIGKILL)
        let executable = Master.currentExecutable()
        var arguments = [executable, "--prepare-pool", pool.name]
        if let prefix = options.prefix { arguments += ["-p", prefix] }
        let error = Processes.exec(executable, arguments)
        printError("ERROR: cannot run \(executable): \(error)")
        Processes.exitNow(127)
    }
}
