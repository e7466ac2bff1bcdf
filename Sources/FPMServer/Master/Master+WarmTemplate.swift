import FPMConfiguration
import FPMSystem
import Glibc

/// pm.warm_template, the master's side: making a pool's template, waiting for its `warmUp`,
/// asking it for a worker, and replacing it when it dies (`WarmTemplate` has the why).
///
/// The master waits for a template's fork synchronously, as it waits for its own: a reply
/// within `warmTemplateReplyMillis` (a fork or two of the template). It waits for a warm-up
/// only at start, before any worker and before its loop (up to `PoolPreparation.deadlineNanos`);
/// a replacement template's warm-up runs beside the loop (its socket is in the master's epoll):
/// workers asked for meanwhile are held and forked when it says `ready`.
extension Master {
    /// How long a template may take to fork a worker before it is given up.
    static let warmTemplateReplyMillis = 5_000

    /// At start: a template for each pool with the directive, warmed up, before any worker.
    /// A warm-up that fails or does not finish refuses the start (a reload's new image then
    /// falls back to the running generation).
    func startWarmTemplates() throws {
        guard pools.contains(where: { $0.config.warmTemplate }) else { return }
        // Workers forked by a template are re-parented here (`WarmTemplate`).
        try Processes.becomeChildSubreaper()
        for pool in pools where pool.config.warmTemplate {
            if let failure = readyWarmTemplate(pool).failure {
                // The image exits or falls back: no template of this start may outlive it unknown.
                endWarmTemplates()
                throw StartError(failure)
            }
        }
    }

    /// The pool's template, made and warmed up if needed: its socket, or why there is none.
    func readyWarmTemplate(_ pool: PoolRuntime) -> (socket: Int32?, failure: String?) {
        if warmTemplates.byPool[pool.name] == nil {
            if let failure = startWarmTemplate(pool) { return (nil, failure) }
        }
        guard let record = warmTemplates.byPool[pool.name] else { return (nil, "[pool \(pool.name)] no warm template") }
        if record.warmUpNanos != nil { return (record.socket, nil) }
        let deadline = SystemClock.monotonicNanos() + PoolPreparation.deadlineNanos
        switch readTemplateReply(record.socket, deadline: deadline) {
        case .ready(let nanos)?:
            warmTemplates.warmedUp(pool: pool.name, nanos: nanos)
            log.notice("[pool \(pool.name)] warm template \(record.pid) ready: warmUp took \(nanos / 1_000_000) ms")
            writeState()
            return (record.socket, nil)
        case .failed(let text)?:
            giveUpWarmTemplate(pool.name)
            return (nil, "[pool \(pool.name)] warmUp failed: \(text)")
        default:
            giveUpWarmTemplate(pool.name)
            return (nil, "[pool \(pool.name)] the warm template \(record.pid) ended or did not finish its warmUp")
        }
    }

    /// Forks the pool's template (its warm-up is awaited by `readyWarmTemplate` at start, else
    /// watched from the loop by `warmTemplateReadable`); nil, or why not.
    func startWarmTemplate(_ pool: PoolRuntime) -> String? {
        let pair: (master: Int32, template: Int32)
        do {
            let fds = try FileIO.socketPair()
            pair = (fds.0, fds.1)
        } catch {
            return "[pool \(pool.name)] warm template: \(error)"
        }
        DescriptorRegistry.register(pair.master)
        DescriptorRegistry.register(pair.template)
        let output = prepareWorkerOutput(pool)
        let logPipe = prepareWorkerLog(pool)
        let childPID: pid_t
        do {
            childPID = try Processes.fork()
        } catch {
            FileIO.close(pair.master)
            FileIO.close(pair.template)
            output?.closeAll()
            if let logPipe { FileIO.close(logPipe.read); FileIO.close(logPipe.write) }
            return "[pool \(pool.name)] warm template: \(error)"
        }
        if childPID == 0 {
            warmTemplateMain(pool: pool, socket: pair, output: output, logPipe: logPipe)
        }
        FileIO.close(pair.template)
        try? epoll.add(pair.master, events: Epoll.input, data: Wakeup.warmTemplate(fd: pair.master).tag)
        adoptWorkerOutput(output, pid: childPID, pool: pool)
        adoptWorkerLog(logPipe, pid: childPID, pool: pool)
        warmTemplates.started(WarmTemplate.Record(pool: pool.name, pid: childPID, socket: pair.master))
        log.notice("[pool \(pool.name)] warm template \(childPID) started")
        return nil
    }

    /// Asks the pool's template for a worker with these descriptors; the worker's pid.
    func forkFromWarmTemplate(_ pool: PoolRuntime, slot: Int, channel: Int32, output: WorkerOutputPipes?,
                              logPipe: (read: Int32, write: Int32)?) throws -> pid_t {
        // `spawn` held the request while the template warmed up (`holdUntilWarm`).
        guard let record = warmTemplates.byPool[pool.name], record.warmUpNanos != nil else {
            throw TemplateFailure("the warm template is not ready")
        }
        let socket = record.socket
        let request = WarmTemplate.Request(slot: Int32(slot), output: output != nil, log: logPipe != nil)
        var descriptors = [channel]
        if let output { descriptors += [output.stdout.write, output.stderr.write] }
        if let logPipe { descriptors.append(logPipe.write) }
        let sent = request.bytes.withUnsafeBytes { bytes in
            descriptors.withUnsafeBufferPointer { SocketIO.send(socket, bytes, passing: $0) }
        }
        let deadline = SystemClock.monotonicNanos() + Master.warmTemplateReplyMillis * 1_000_000
        switch sent ? readTemplateReply(socket, deadline: deadline) : nil {
        case .forked(let pid)?:
            return pid
        case .error(let text)?:
            throw TemplateFailure("warm template: \(text)")
        default:
            // Ended (its exit not reaped yet) or stuck: a new one is made, and this worker is
            // held for it rather than lost.
            giveUpWarmTemplate(pool.name)
            if let failure = startWarmTemplate(pool) { throw TemplateFailure("the warm template \(record.pid) did not answer; \(failure)") }
            heldWarmSpawns[pool.name] = WarmTemplate.heldSpawns(pending: heldWarmSpawns[pool.name] ?? 0,
                                                                running: control.current(in: pool.name).count,
                                                                maxChildren: pool.settings.maxChildren)
            throw TemplateFailure("the warm template \(record.pid) did not answer; a new one is made, the worker is forked from it")
        }
    }

    struct TemplateFailure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// Reads one reply line from a template before `deadline`; nil on timeout, end or garbage.
    /// Replies come one at a time, each answering the master's last message, so nothing
    /// follows the newline.
    func readTemplateReply(_ socket: Int32, deadline: Int) -> WarmTemplate.Reply? {
        var line: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while line.last != UInt8(ascii: "\n") {
            let left = SystemClock.millisecondsLeft(until: deadline, now: SystemClock.monotonicNanos())
            guard left > 0, SocketIO.waitReadable(socket, timeoutMillis: left) else { return nil }
            let got = buffer.withUnsafeMutableBytes { try? SocketIO.receive(socket, into: $0, wait: false) }
            switch got {
            case .bytes(let n)?: line += buffer[0..<n]
            case .wouldBlock?: continue
            default: return nil
            }
            if line.count > 64 * 1024 { return nil }
        }
        return WarmTemplate.Reply(line: String(decoding: line.dropLast(), as: UTF8.self)[...])
    }

    /// Stops using the pool's template: SIGKILL (it holds no request), its socket closed; its
    /// exit is reaped as expected.
    func giveUpWarmTemplate(_ pool: String) {
        guard let record = warmTemplates.retire(pool: pool) else { return }
        Processes.signal(record.pid, SIGKILL)
        epoll.remove(record.socket)
        FileIO.close(record.socket)
        DescriptorRegistry.unregister(record.socket)
    }

    /// Before a reload's exec (and a start that fails): the templates run the old code, so
    /// they go; each is killed and waited for here (it holds no request, SIGKILL ends it at
    /// once), so the next image inherits no child it does not know. The new image makes its
    /// own from the new code (and if the exec fails, the next worker asked for makes a new one).
    func endWarmTemplates() {
        let (running, retired) = warmTemplates.takeAll()
        for record in running {
            Processes.signal(record.pid, SIGKILL)
            epoll.remove(record.socket)
            FileIO.close(record.socket)
            DescriptorRegistry.unregister(record.socket)
        }
        heldWarmSpawns = [:]
        for pid in running.map(\.pid) + retired {
            _ = Processes.waitFor(pid)
            drainWorkerOutput(pid: pid)
        }
    }

    /// A reaped child that was a template: true when it was one (it is then no worker to
    /// process control). A running template that died is replaced at once (its warm-up runs
    /// beside the loop, `warmTemplateReadable`); the workers it forked go on.
    func warmTemplateExited(_ pid: pid_t, status: ExitStatus) -> Bool {
        guard let exit = warmTemplates.exited(pid) else { return false }
        guard case .running(let record) = exit else { return true }
        epoll.remove(record.socket)
        FileIO.close(record.socket)
        DescriptorRegistry.unregister(record.socket)
        let pool = poolsByName[record.pool]
        let remake = WarmTemplate.Registry.remake(after: exit, serving: control.phase.isServing,
                                                  poolWantsTemplate: pool?.config.warmTemplate == true)
        log.warning("[pool \(record.pool)] warm template \(pid) \(status)\(remake ? "; a new one is made" : "")")
        if remake, let pool, let failure = startWarmTemplate(pool) { log.error(failure) }
        writeState()
        return true
    }

    /// `spawn` for a pool with a template: true when the worker is held (the template is being
    /// made or still warms up), to be forked when it is ready.
    func holdUntilWarm(_ pool: PoolRuntime) -> Bool {
        if warmTemplates.byPool[pool.name] == nil, let failure = startWarmTemplate(pool) { log.error(failure) }
        guard warmTemplates.byPool[pool.name]?.warmUpNanos == nil else { return false }
        let running = control.current(in: pool.name).count
        heldWarmSpawns[pool.name] = WarmTemplate.heldSpawns(pending: heldWarmSpawns[pool.name] ?? 0, running: running,
                                                            maxChildren: pool.settings.maxChildren)
        return true
    }

    /// A template's socket is readable: its warm-up's outcome, or its end (the reaping then
    /// replaces it). Replies to fork requests never get here: `forkFromWarmTemplate` reads them.
    func warmTemplateReadable(_ fd: Int32) {
        guard let record = warmTemplates.byPool.values.first(where: { $0.socket == fd }), record.warmUpNanos == nil else {
            epoll.remove(fd)
            return
        }
        guard let pool = poolsByName[record.pool] else { return }
        switch readTemplateReply(fd, deadline: SystemClock.monotonicNanos() + 1_000_000_000) {
        case .ready(let nanos)?:
            warmTemplates.warmedUp(pool: pool.name, nanos: nanos)
            log.notice("[pool \(pool.name)] warm template \(record.pid) ready: warmUp took \(nanos / 1_000_000) ms")
            writeState()
            let held = heldWarmSpawns.removeValue(forKey: pool.name) ?? 0
            guard control.phase.isServing else { return }
            let count = WarmTemplate.spawnsOnReady(pending: held, running: control.current(in: pool.name).count,
                                                   maxChildren: pool.settings.maxChildren,
                                                   ondemand: pool.settings.style == .ondemand)
            for _ in 0..<count { spawn(pool) }
            if pool.settings.style == .ondemand && SocketIO.waitReadable(pool.listenFD, timeoutMillis: 0) {
                onPendingConnection(pool)
            }
        case .failed(let text)?:
            log.error("[pool \(pool.name)] warmUp failed: \(text); held workers wait for the next attempt")
            giveUpWarmTemplate(pool.name)
        default:
            epoll.remove(fd)
        }
    }

    /// At the tick: a pool with held workers and no template (its warm-up failed) tries again.
    func retryHeldWarmSpawns() {
        for (name, held) in heldWarmSpawns where held > 0 && warmTemplates.byPool[name] == nil {
            guard let pool = poolsByName[name], let failure = startWarmTemplate(pool) else { continue }
            log.error(failure)
        }
    }
}
