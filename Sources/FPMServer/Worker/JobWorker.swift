import FPMConfiguration
import FPMStatus
import FPMSystem
import Gearman
import GearmanClient
import Glibc

/// One worker process of a job pool: a Gearman worker with one connection per job server,
/// taking one job at a time and running the pool's job handler on it.
///
/// Between jobs it grabs from each connected server in turn; when none has work it sends
/// PRE_SLEEP on every connection and sleeps in poll(2) on their sockets, its control channel
/// and its SIGQUIT self-pipe (no busy loop; a NOOP, a quit or the next reconnect attempt wakes
/// it). A job is acknowledged (WORK_COMPLETE / WORK_FAIL / WORK_EXCEPTION) only after the
/// handler returned: a worker killed meanwhile leaves the job with gearmand, which hands it to
/// another worker when this connection drops. A lost or refused server is retried on
/// `ReconnectBackoff`'s schedule, one log line per change of state.
final class JobWorker {
    let pool: PoolRuntime
    let runner: any JobRunner
    let slot: Scoreboard.Slot
    let controlChannel: OwnedDescriptor
    var control: Int32 { controlChannel.rawValue }
    let quitSignal: OwnedDescriptor
    let log: ErrorLog
    let requestLimit: Int
    let functions: [String]
    let pid: Int32
    let masterPID: Int32
    /// One per `gearman.servers` entry, grabbed from in turn.
    var servers: [ServerLink]
    /// Where the next round of grabs starts, so no server is always asked first.
    var nextServer = 0
    var served = 0
    var quitting = false
    /// The connection the job in hand came from (its reports go there).
    var current: ServerLink?
    var lastCPU = (user: 0, system: 0)
    /// Peak RSS after the last job (bytes, from its getrusage): pm.max_memory reads the costlier
    /// private figure only once this passed the limit.
    var peakMemory = 0
    /// poll(2)'s descriptors, kept across waits.
    var pollSet: [pollfd] = []

    /// Connect, send and receive deadline on a job server, seconds: gearmand answers a grab at
    /// once; a server that does not is treated as lost.
    static let ioTimeout = 5.0

    init(pool: PoolRuntime, runner: any JobRunner, slotIndex: Int, control: Int32, log: ErrorLog, requestLimit: Int) throws {
        self.pool = pool
        self.runner = runner
        self.slot = pool.scoreboard.slot(slotIndex)
        self.controlChannel = OwnedDescriptor(owning: control)
        self.log = log
        self.requestLimit = requestLimit
        self.functions = pool.config.effectiveGearmanFunctions
        self.pid = Processes.pid
        self.masterPID = Processes.parentPID
        let seed = SystemRandom.seed()
        servers = (pool.config.gearmanServers ?? []).enumerated().map { index, address in
            ServerLink(address: address, seed: seed &+ UInt64(index))
        }
        quitSignal = OwnedDescriptor(owning: try QuitSignal.install())
        lastCPU = Processes.cpuTime()
    }

    /// Whether the worker leaves before its next job.
    var leaving: Bool { quitting || QuitSignal.requested || (requestLimit > 0 && served >= requestLimit) }

    var prefix: String { "[pool \(pool.name)] child \(pid)" }

    func run() -> Int32 {
        slot.flags = slot.flags | Scoreboard.readyFlag
        slot.markIdle(now: SystemClock.monotonicNanos())
        while !leaving {
            connectDue()
            if let (link, job) = grabRound() {
                serve(job, from: link)
                if pool.config.maxMemory > 0 && overMemory() { break }
                continue
            }
            if leaving { break }
            sleepUntilWork()
        }
        // The last job's report, if no grab carried it: sent before the connection closes.
        for link in servers {
            if let worker = link.worker, worker.hasPendingReport {
                do { try worker.flush() } catch { log.warning("\(prefix): gearmand \(link.address): \(error)") }
            }
            link.disconnect()
        }
        runner.tearDown()
        return 0
    }

    // MARK: grabbing

    /// One GRAB_JOB_UNIQ on each connected server, starting after the last one asked; the
    /// first job found, or nil when every server said NO_JOB. The last job's report (left
    /// unsent by `serve`) rides with this round's first grab when it is for that server, and
    /// is flushed alone first otherwise: no job is taken while another's report waits.
    func grabRound() -> (ServerLink, GearmanJob)? {
        let count = servers.count
        for step in 1..<max(count, 1) {
            let link = servers[(nextServer + step) % count]
            guard let worker = link.worker, worker.hasPendingReport else { continue }
            do { try worker.flush() } catch { lost(link, error) }
        }
        for step in 0..<count {
            let link = servers[(nextServer + step) % count]
            guard let worker = link.worker else { continue }
            do {
                if let job = try worker.grab() {
                    nextServer = (nextServer + step + 1) % count
                    return (link, job)
                }
            } catch {
                lost(link, error)
            }
            if leaving { return nil }
        }
        return nil
    }

    /// Nothing to do: PRE_SLEEP on every connection, then wait for a NOOP, the master, a quit
    /// or the next reconnect attempt, whichever comes first.
    func sleepUntilWork() {
        pollSet.removeAll(keepingCapacity: true)
        pollSet.append(pollfd(fd: control, events: Poll.readable, revents: 0))
        pollSet.append(pollfd(fd: quitSignal.rawValue, events: Poll.readable, revents: 0))
        var woken = false
        for link in servers {
            guard let worker = link.worker else { continue }
            do {
                if !worker.isSleeping { try worker.sleep() }
                if worker.connection.hasBufferedResponse { woken = true }
                pollSet.append(pollfd(fd: worker.fileDescriptor, events: Poll.readable, revents: 0))
            } catch {
                lost(link, error)
            }
        }
        if woken { return }
        let timeout = reconnectWaitMillis()
        do {
            _ = try Poll.wait(&pollSet, timeoutMillis: timeout)
        } catch {
            log.error("\(prefix): \(error)")
            quitting = true
            return
        }
        if pollSet[0].revents != 0 { receiveControl() }
        if pollSet[1].revents != 0 { quitting = true }
        // A readable server connection: its NOOP (or its end) is read by the next grab.
    }

    /// How long a sleep may last before a server is due for another connection attempt (-1:
    /// none is).
    func reconnectWaitMillis() -> Int32 {
        let now = SystemClock.monotonicNanos()
        var soonest: Int?
        for link in servers where link.worker == nil {
            soonest = min(soonest ?? link.nextAttempt, link.nextAttempt)
        }
        guard let soonest else { return -1 }
        return SystemClock.millisecondsLeft(until: soonest, now: now)
    }

    // MARK: the master

    /// Applies what the master sent: quit, finish (the same for a job worker: there is no
    /// listener backlog to serve), a reopened access log.
    func receiveControl() {
        while true {
            switch ControlMessage.receive(from: control) {
            case .none:
                return
            case .closed, .message(.quit), .message(.finish):
                quitting = true
            case .message(.reopenAccessLog(let accessLog)):
                if let current = pool.accessLogFD { try? FileIO.dup2(accessLog, current) }
                FileIO.close(accessLog)
            }
        }
    }

    /// pm.max_memory, after a job: over the limit, the worker leaves (it holds no job now, so
    /// leaving costs nothing) and the master starts another in its place. Peak RSS (free with
    /// the job's getrusage) is below the limit for most jobs, so /proc/self/smaps_rollup is
    /// read only near it, as the FastCGI worker does. Private memory never exceeds peak RSS.
    func overMemory() -> Bool {
        guard peakMemory >= pool.config.maxMemory, let used = Processes.privateMemory(), used >= pool.config.maxMemory else {
            return false
        }
        pool.scoreboard.memoryReplacements += 1
        log.notice("\(prefix): private memory \(used / 1024) KiB passed pm.max_memory (\(pool.config.maxMemory / 1024) KiB); it leaves after this job and is replaced")
        return true
    }
}
