import FPMConfiguration
import FPMStatus
import FPMSystem
import Glibc

/// pm.warm_template, the template's side: become the pool's process like a worker would
/// (descriptors, identity, environment), run `warmUp` once, then fork a worker each time the
/// master asks (`WarmTemplate` says how the worker ends up the master's child).
extension Master {
    /// The child side of `startWarmTemplate`; never returns.
    func warmTemplateMain(pool: PoolRuntime, socket: (master: Int32, template: Int32), output: WorkerOutputPipes?,
                          logPipe: (read: Int32, write: Int32)?) -> Never {
        // As a worker's start (`childMain`), with the template's socket kept as its channel.
        closeMasterDescriptors(keepingFor: pool, channel: (socket.master, socket.template), output: output, logPipe: logPipe)
        useWorkerLog(logPipe)
        for other in pools where other !== pool { other.scoreboard.memory.unmap() }
        useWorkerOutput(output, pool: pool)
        Signals.resetDispositions()
        Signals.ignore(SIGPIPE)
        Signals.unblockAll()
        let config = pool.config
        let env = applyEnvironment(config)
        installSlowlogTrace(pool)
        do {
            try applyProcessSettings(config)
        } catch {
            reply(.failed("\(error)"), on: socket.template)
            Processes.exitNow(ExitCodes.config)
        }
        try? Processes.setParentDeathSignal(SIGKILL)
        if Processes.parentPID != pid { Processes.exitNow(ExitCodes.software) }
        ProcessTitle.set("fpm: pool \(pool.name) template", name: "fpm: template")
        let started = SystemClock.monotonicNanos()
        do {
            try pool.handler?.warmUp(PoolContext(name: pool.name, environment: env, configuration: config))
        } catch {
            reply(.failed("\(error)"), on: socket.template)
            Processes.exitNow(ExitCodes.software)
        }
        reply(.ready(warmUpNanos: SystemClock.monotonicNanos() - started), on: socket.template)
        serveWarmTemplate(pool: pool, socket: socket.template, ownLog: logPipe?.write, environment: env)
    }

    /// The template's loop: one request from the master, one worker, one reply. Ends when the
    /// master closes its end (a reload, a stop) or dies.
    private func serveWarmTemplate(pool: PoolRuntime, socket: Int32, ownLog: Int32?, environment: [(String, String)]) -> Never {
        var payload = [UInt8](repeating: 0, count: WarmTemplate.Request.size)
        var descriptors = [Int32](repeating: -1, count: 4)
        while true {
            guard SocketIO.waitReadable(socket, timeoutMillis: -1) else { continue }
            let (received, count) = payload.withUnsafeMutableBytes { bytes in
                descriptors.withUnsafeMutableBufferPointer { SocketIO.receive(socket, into: bytes, descriptors: $0) }
            }
            let fds = Array(descriptors[0..<count])
            switch received {
            case .endOfStream: Processes.exitNow(0)
            case .wouldBlock: for fd in fds { FileIO.close(fd) }; continue
            case .bytes(let n):
                guard let request = payload.withUnsafeBytes({ WarmTemplate.Request(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }),
                      request.descriptorCount == fds.count
                else {
                    for fd in fds { FileIO.close(fd) }
                    reply(.error("malformed request"), on: socket)
                    continue
                }
                let answer = forkWorker(pool: pool, request: request, descriptors: fds, socket: socket, ownLog: ownLog,
                                        environment: environment)
                for fd in fds { FileIO.close(fd) }
                reply(answer, on: socket)
            }
        }
    }

    /// The double fork: a middle process forks the worker and exits, the worker (re-parented
    /// to the master, the subreaper) waits on `go` until the template has reaped the middle.
    private func forkWorker(pool: PoolRuntime, request: WarmTemplate.Request, descriptors fds: [Int32], socket: Int32,
                            ownLog: Int32?, environment: [(String, String)]) -> WarmTemplate.Reply {
        let go: (read: Int32, write: Int32)
        let found: (read: Int32, write: Int32)
        do {
            go = try FileIO.pipe()
            do { found = try FileIO.pipe() } catch { FileIO.close(go.read); FileIO.close(go.write); throw error }
        } catch {
            return .error("\(error)")
        }
        defer { FileIO.close(go.read); FileIO.close(go.write); FileIO.close(found.read) }
        let middle: pid_t
        do {
            middle = try Processes.fork()
        } catch {
            FileIO.close(found.write)
            return .error("\(error)")
        }
        if middle == 0 {
            let worker = (try? Processes.fork()) ?? -1
            if worker == 0 {
                FileIO.close(go.write)
                FileIO.close(found.read)
                FileIO.close(found.write)
                var byte: UInt8 = 0
                let released = withUnsafeMutableBytes(of: &byte) { (try? FileIO.read(go.read, into: $0)) ?? 0 }
                if released != 1 { Processes.exitNow(ExitCodes.software) }
                FileIO.close(go.read)
                FileIO.close(socket)
                warmWorkerMain(pool: pool, request: request, descriptors: fds, ownLog: ownLog, environment: environment)
            }
            var pid = Int32(worker)
            _ = withUnsafeBytes(of: &pid) { try? FileIO.writeAll(found.write, $0) }
            Processes.exitNow(0)
        }
        FileIO.close(found.write)
        var pid: Int32 = -1
        let got = withUnsafeMutableBytes(of: &pid) { (try? FileIO.read(found.read, into: $0)) ?? 0 }
        // Reaping the middle: its exit re-parented the worker to the master before this returns.
        _ = Processes.waitFor(middle)
        guard got == 4, pid > 0 else { return .error("fork failed in the middle process") }
        var byte: UInt8 = 1
        _ = withUnsafeBytes(of: &byte) { try? FileIO.writeAll(go.write, $0) }
        return .forked(pid: pid)
    }

    /// A worker forked by the template: the master's descriptors for it in place, then a
    /// worker's start from `setUp` on, as `childMain`'s.
    private func warmWorkerMain(pool: PoolRuntime, request: WarmTemplate.Request, descriptors fds: [Int32],
                                ownLog: Int32?, environment: [(String, String)]) -> Never {
        var next = 1
        var output: WorkerOutputPipes? = nil
        if request.output {
            output = WorkerOutputPipes(stdout: (read: -1, write: fds[1]), stderr: (read: -1, write: fds[2]))
            next = 3
        }
        let logPipe: (read: Int32, write: Int32)? = request.log ? (read: -1, write: fds[next]) : nil
        useWorkerLog(logPipe)
        if let ownLog { FileIO.close(ownLog) }
        useWorkerOutput(output, pool: pool)
        // Now the master's child (`WarmTemplate`): its death kills this worker, as any worker's.
        try? Processes.setParentDeathSignal(SIGKILL)
        if Processes.parentPID != pid { Processes.exitNow(ExitCodes.software) }
        ProcessTitle.set("fpm: pool \(pool.name)", name: String("fpm: \(pool.name)".prefix(15)))
        serve(pool: pool, slotIndex: Int(request.slot), control: fds[0], environment: environment)
    }

    private func reply(_ reply: WarmTemplate.Reply, on socket: Int32) {
        try? FileIO.writeAll(socket, reply.line)
    }
}
