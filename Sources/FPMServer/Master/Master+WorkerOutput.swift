import FPMConfiguration
import FPMSystem
import Glibc

/// `catch_workers_output = yes`: the master reads each worker's stdout and stderr pipes in its
/// event loop (non-blocking, at most `workerOutputReadBytes` per pipe per wakeup, so a worker
/// flooding its output costs the master a bounded slice of each turn) and logs them line by
/// line (`WorkerOutput.swift`). When a worker exits, what is still in its pipes (the message a
/// Swift `fatalError` wrote just before the trap) is read and logged before its exit line.
/// `no`: both go to /dev/null, as php-fpm does. php-fpm's fpm_stdio.
extension Master {
    /// The most read from one pipe per wakeup.
    static let workerOutputReadBytes = 16 << 10
    /// The most read from one pipe of an exited worker (a pipe holds 64 KiB; a process the
    /// worker started may still hold its write end).
    static let workerOutputDrainBytes = 256 << 10
    /// How long the start of a line waits for its end before it is logged on its own.
    static let workerOutputPartialNanos = 1_000_000_000

    /// The pipes for a new worker of `pool`, nil when the pool does not catch its output (or
    /// the pipes could not be made: the worker then writes to /dev/null).
    func prepareWorkerOutput(_ pool: PoolRuntime) -> WorkerOutputPipes? {
        guard pool.config.catchWorkersOutput else { return nil }
        do {
            return try WorkerOutputPipes.make()
        } catch {
            log.error("[pool \(pool.name)] failed to prepare the stdout and stderr pipes: \(error)")
            return nil
        }
    }

    /// The pipe a new worker's own log lines reach the master through (nil when it cannot be
    /// made: the worker's lines are then dropped, never written to the master's log directly).
    func prepareWorkerLog(_ pool: PoolRuntime) -> (read: Int32, write: Int32)? {
        do {
            let pipe = try FileIO.pipe()
            do { try FileIO.setNonBlocking(pipe.read, true) } catch { FileIO.close(pipe.read); FileIO.close(pipe.write); throw error }
            DescriptorRegistry.register(pipe.read)
            DescriptorRegistry.register(pipe.write)
            return pipe
        } catch {
            log.error("[pool \(pool.name)] failed to prepare the log pipe: \(error)")
            return nil
        }
    }

    /// In the child, once the master's descriptors are closed (the pipe's read end with them):
    /// the master's log descriptor goes, lines go through the pipe.
    func useWorkerLog(_ pipe: (read: Int32, write: Int32)?) {
        log.forward(to: pipe?.write ?? -1)
    }

    /// In the master after fork: keep the read end and watch it like a caught output.
    func adoptWorkerLog(_ pipe: (read: Int32, write: Int32)?, pid: pid_t, pool: PoolRuntime) {
        guard let pipe else { return }
        FileIO.close(pipe.write)
        watchWorkerOutput(fd: pipe.read, pid: pid, pool: pool.name, name: WorkerOutputStream.logName, decorated: false)
    }

    /// In the child, once the master's descriptors are closed (every output pipe's read end
    /// with them): stdout and stderr become the pipes, or /dev/null. The worker's own log
    /// lines keep their destination (a copy of the master's stderr when that is the log).
    func useWorkerOutput(_ pipes: WorkerOutputPipes?, pool: PoolRuntime) {
        do {
            if let pipes {
                try StandardStreams.redirect(stdout: pipes.stdout.write, stderr: pipes.stderr.write)
                if pipes.stdout.write > 2 { FileIO.close(pipes.stdout.write) }
                if pipes.stderr.write > 2 { FileIO.close(pipes.stderr.write) }
            } else {
                try StandardStreams.discard()
            }
        } catch {
            log.error("[pool \(pool.name)] child \(Processes.pid): \(error)")
        }
    }

    /// In the master after fork: keep the read ends and watch them.
    func adoptWorkerOutput(_ pipes: WorkerOutputPipes?, pid: pid_t, pool: PoolRuntime) {
        guard let pipes else { return }
        FileIO.close(pipes.stdout.write)
        FileIO.close(pipes.stderr.write)
        for (fd, name) in [(pipes.stdout.read, "stdout"), (pipes.stderr.read, "stderr")] {
            watchWorkerOutput(fd: fd, pid: pid, pool: pool.name, name: name, decorated: pool.config.decorateWorkersOutput)
        }
    }

    /// One pipe into the event loop, its entries sized for `log_limit`.
    func watchWorkerOutput(fd: Int32, pid: pid_t, pool: String, name: String, decorated: Bool) {
        let stream = WorkerOutputStream(fd: fd, pid: pid, pool: pool, name: name, decorated: decorated,
                                        splitter: WorkerOutputSplitter(maximum: 1))
        let prefix = LogLine.format(level: .warning, message: stream.decoration, time: SystemClock.wallClock(),
                                    debugTimestamp: log.level == .debug).utf8.count - 1
        stream.splitter = WorkerOutputSplitter(
            maximum: WorkerOutputSplitter.maximum(limit: log.limit, decorated: decorated, prefix: prefix),
            buffering: configuration.global.logBuffering)
        do {
            try epoll.add(fd, events: Epoll.input, data: Wakeup.workerOutput(fd: fd).tag)
            workerOutputs.add(stream)
        } catch {
            log.error("[pool \(pool)] unable to watch child \(pid)'s \(name): \(error)")
            stream.close()
        }
    }

    /// A pipe is readable: one bounded read, its complete lines logged.
    func readWorkerOutput(_ fd: Int32, now: Int) {
        guard let stream = workerOutputs.streams[fd] else { return }
        switch readOnce(stream, limit: Self.workerOutputReadBytes) {
        case .data, .empty:
            break
        case .closed:
            if let rest = stream.splitter.flush() { writeEntry(rest, of: stream, suffix: ", pipe is closed") }
            closeWorkerOutput(fd)
            return
        }
        if stream.splitter.pending.isEmpty {
            stream.pendingSince = nil
        } else if stream.pendingSince == nil {
            stream.pendingSince = now
        }
    }

    /// A worker was reaped: what its pipes still hold, then they close.
    func drainWorkerOutput(pid: pid_t) {
        guard let fds = workerOutputs.byPID[pid] else { return }
        for fd in fds {
            guard let stream = workerOutputs.streams[fd] else { continue }
            var budget = Self.workerOutputDrainBytes
            while budget > 0, case .data(let n) = readOnce(stream, limit: min(budget, Self.workerOutputReadBytes)) {
                budget -= n
            }
            if let rest = stream.splitter.flush() { writeEntry(rest, of: stream) }
            closeWorkerOutput(fd)
        }
    }

    /// The start of a line that waited long enough for its end is logged alone (php-fpm's
    /// workers mark the end of each request instead; a Swift worker's `print(…, terminator: "")`
    /// would otherwise wait until the worker exits).
    func flushWaitingWorkerOutput(now: Int) {
        for stream in workerOutputs.streams.values {
            guard let since = stream.pendingSince, now - since >= Self.workerOutputPartialNanos else { continue }
            if let rest = stream.splitter.flush() { writeEntry(rest, of: stream) }
            stream.pendingSince = nil
        }
    }

    enum OutputRead { case data(Int), empty, closed }

    private func readOnce(_ stream: WorkerOutputStream, limit: Int) -> OutputRead {
        withUnsafeTemporaryAllocation(byteCount: limit, alignment: 1) { buffer -> OutputRead in
            let n: Int?
            do {
                n = try FileIO.readNonBlocking(stream.fd, into: buffer)
            } catch {
                log.error("[pool \(stream.pool)] unable to read what child \(stream.pid) said into \(stream.name): \(error)")
                return .closed
            }
            guard let n else { return .empty }
            if n == 0 { return .closed }
            for entry in stream.splitter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) {
                writeEntry(entry, of: stream)
            }
            return .data(n)
        }
    }

    func writeEntry(_ text: [UInt8], of stream: WorkerOutputStream, suffix: String = "") {
        if stream.name == WorkerOutputStream.logName {
            let (severity, message) = WorkerLogLine.decode(text)
            log.log(severity, WorkerLogLine.attributed(message, pool: stream.pool, pid: stream.pid))
        } else if stream.decorated {
            log.warning(stream.decoration + String(decoding: text, as: UTF8.self) + "\"" + suffix)
        } else {
            log.writeUndecorated(text)
        }
    }

    func closeWorkerOutput(_ fd: Int32) {
        guard let stream = workerOutputs.remove(fd) else { return }
        epoll.remove(fd)
        stream.close()
    }
}

extension ErrorLog {
    /// `decorate_workers_output = no`: the worker's text as it is, one line, at WARNING level
    /// (so `log_level` filters it as php-fpm does).
    func writeUndecorated(_ text: [UInt8]) {
        guard LogSeverity.warning >= level else { return }
        if case .syslog = destination {
            Syslog.write(priority: LOG_WARNING, String(decoding: text, as: UTF8.self))
            return
        }
        var line = text
        line.append(UInt8(ascii: "\n"))
        try? FileIO.writeAll(fd, line)
    }
}

/// Across a reload's exec: the pipes of the running workers go to the next image (an unfinished
/// line is logged first, as it would not survive the exec).
extension Master {
    func inheritedWorkerOutputs() -> [ReloadInheritance.Output] {
        workerOutputs.streams.values.sorted { $0.fd < $1.fd }.map { stream in
            if let rest = stream.splitter.flush() { writeEntry(rest, of: stream) }
            stream.pendingSince = nil
            return ReloadInheritance.Output(pid: stream.pid, fd: stream.fd, stream: stream.name,
                                            decorated: stream.decorated, pool: stream.pool)
        }
    }

    func adoptInheritedWorkerOutput(_ outputs: [ReloadInheritance.Output]) {
        for output in outputs {
            try? FileIO.setCloseOnExec(output.fd, true)
            guard control.children[output.pid] != nil || Processes.isAlive(output.pid) else {
                FileIO.close(output.fd)
                continue
            }
            watchWorkerOutput(fd: output.fd, pid: output.pid, pool: output.pool, name: output.stream,
                              decorated: output.decorated)
        }
    }
}
