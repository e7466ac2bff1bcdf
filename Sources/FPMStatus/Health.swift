import FPMConfiguration
import FPMSystem

/// Whether a pool is alive and whether it should get traffic: what a load balancer's or
/// Kubernetes' probes ask. Pure: a pool's figures in, a verdict out; the master's status
/// listener (`/live`, `/ready`) and `fpmctl health` both decide with it.
///
/// * **live**: the master runs (its loop stamped the scoreboard recently) and the pool can
///   serve at all: some worker is not stuck, or (ondemand) the pool has room to fork one. A
///   worker is stuck when it has been in one request longer than `stuckAfterMicros`; by
///   default that is `request_terminate_timeout` plus a grace period (the master should have
///   ended the request by then), and without a terminate timeout no worker counts as stuck,
///   since a long request is not a dead pool. A probe failing "live" means: restart it.
/// * **ready**: live, and a new request would be taken soon: a worker is idle, or (ondemand)
///   one can be forked, or the accept queue holds at most `queueLimit` connections (default
///   `pm.max_children`: each waiting connection then has a worker to take it within about one
///   request's time). A probe failing "ready" means: send traffic elsewhere for now.
///
/// * a stop or a drain withdraws readiness whatever the figures (`MasterReadiness`): a balancer
///   must stop sending while the requests in hand finish; liveness is unchanged.
/// * a pool whose workers cannot start is named with its last worker's end (`down`).
///
/// Exec pools' programs do not write their slots; the master samples their stage instead
/// (`Master.sampleExecStages`). Where no stage is known (`workersReportStage` false), workers
/// count as neither idle nor stuck, and readiness rests on the accept queue alone.
package enum Health {
    /// One worker as the scoreboard shows it.
    package struct Worker: Sendable, Equatable {
        package var active: Bool
        /// How long the current request has run (0 when idle).
        package var busyMicros: Int
        package init(active: Bool, busyMicros: Int) {
            self.active = active
            self.busyMicros = busyMicros
        }
    }

    package struct Input: Sendable, Equatable {
        /// The master's loop ran recently (always true when the master itself answers).
        package var masterRunning: Bool
        package var ondemand: Bool
        package var maxChildren: Int
        package var workers: [Worker]
        /// Whether the workers report their stage (false for exec pools).
        package var workersReportStage: Bool
        package var listenQueue: Int
        /// nil: no worker counts as stuck.
        package var stuckAfterMicros: Int?
        /// The most waiting connections a ready pool may have.
        package var queueLimit: Int
        /// Whether the master asks for work (a stop or a drain withdraws readiness).
        package var master: MasterReadiness = .ready
        /// Why the pool is down, when its workers cannot start (its last worker's end).
        package var down: String? = nil
        /// A job pool's link to gearmand as the master's last backlog query found it; nil for a
        /// FastCGI pool. Disconnected: live (its workers reconnect by themselves), not ready.
        package var gearman: Scoreboard.GearmanState? = nil

        package init(masterRunning: Bool, ondemand: Bool, maxChildren: Int, workers: [Worker], workersReportStage: Bool = true,
                     listenQueue: Int, stuckAfterMicros: Int?, queueLimit: Int? = nil) {
            self.masterRunning = masterRunning
            self.ondemand = ondemand
            self.maxChildren = maxChildren
            self.workers = workers
            self.workersReportStage = workersReportStage
            self.listenQueue = listenQueue
            self.stuckAfterMicros = stuckAfterMicros
            self.queueLimit = queueLimit ?? max(1, maxChildren)
        }
    }

    package struct Verdict: Sendable, Equatable {
        package var live: Bool
        package var ready: Bool
        /// One line saying why, for the probe's body and `fpmctl health`'s output.
        package var reason: String
        /// The figures the verdict rests on (workers, idle, stuck, queue).
        package var summary: String = ""

        /// The line for a liveness probe.
        package var liveReason: String { live ? "live (\(summary))" : reason }

        /// `fpmctl health`'s exit status: 0 ready, 1 live but not ready, 2 not live.
        package var exitCode: Int32 { ready ? 0 : (live ? 1 : 2) }
    }

    /// The grace `request_terminate_timeout` gets before a worker still in its request counts
    /// as stuck.
    package static let stuckGraceMicros = 10_000_000

    /// The default `stuckAfterMicros` for a pool's `request_terminate_timeout` (seconds).
    package static func stuckAfter(terminateTimeoutSeconds: Int) -> Int? {
        terminateTimeoutSeconds > 0 ? terminateTimeoutSeconds * 1_000_000 + stuckGraceMicros : nil
    }

    /// The heartbeat age past which the master counts as not running (its loop wakes at least
    /// once a second).
    package static let masterStaleNanos = 5_000_000_000

    package static func decide(_ input: Input) -> Verdict {
        guard input.masterRunning else {
            return Verdict(live: false, ready: false, reason: "the master is not running")
        }
        let running = input.workers.count
        let canFork = input.ondemand && running < input.maxChildren
        let idle = input.workersReportStage ? input.workers.filter { !$0.active }.count : 0
        let stuck = input.workersReportStage
            ? input.workers.filter { w in w.active && input.stuckAfterMicros.map { w.busyMicros > $0 } ?? false }.count
            : 0
        let summary = "\(running) workers, \(idle) idle, \(stuck) stuck, listen queue \(input.listenQueue)"
        if !canFork && (running == 0 || stuck == running) {
            var why = running == 0 ? "no worker is running" : "every worker is stuck in a request"
            if running == 0, let down = input.down { why = down }
            return Verdict(live: false, ready: false, reason: "not live: \(why) (\(summary))", summary: summary)
        }
        if let withdrawn = input.master.withdrawnBecause {
            return Verdict(live: true, ready: false, reason: "not ready: \(withdrawn) (\(summary))", summary: summary)
        }
        if input.gearman == .disconnected {
            return Verdict(live: true, ready: false, reason: "not ready: disconnected from gearmand (\(summary))", summary: summary)
        }
        if idle > 0 || canFork || input.listenQueue <= input.queueLimit {
            return Verdict(live: true, ready: true, reason: "ready (\(summary))", summary: summary)
        }
        return Verdict(live: true, ready: false,
                       reason: "not ready: no idle worker and \(input.listenQueue) connections wait (more than \(input.queueLimit)) (\(summary))",
                       summary: summary)
    }

    /// The input for a pool as its scoreboard shows it now.
    package static func input(_ scoreboard: Scoreboard, masterRunning: Bool, listenQueue: Int? = nil,
                              workersReportStage: Bool = true, stuckAfterMicros: Int?? = nil, down: String? = nil,
                              nowMono: Int = SystemClock.monotonicNanos()) -> Input {
        let workers = scoreboard.snapshots().filter { $0.pid > 0 }.map { s in
            Worker(active: s.isActive, busyMicros: s.isActive ? max(0, (nowMono - s.acceptedMono) / 1000) : 0)
        }
        var input = Input(masterRunning: masterRunning,
                          ondemand: ProcessManagerStyle(rawIndex: scoreboard.processManager) == .ondemand,
                          maxChildren: scoreboard.maxChildren, workers: workers,
                          workersReportStage: workersReportStage,
                          listenQueue: listenQueue ?? scoreboard.listenQueue,
                          stuckAfterMicros: stuckAfterMicros ?? stuckAfter(terminateTimeoutSeconds: scoreboard.limits.terminateTimeout))
        input.master = scoreboard.masterReadiness
        input.down = down
        if scoreboard.isJobPool {
            // No connection waits on a job pool: its backlog waits in gearmand, whatever this
            // master's readiness, so only the link to gearmand decides.
            input.gearman = scoreboard.gearmanState
            input.listenQueue = 0
        }
        return input
    }
}
