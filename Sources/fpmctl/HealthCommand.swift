import ArgumentParser
import FPMStatus
import FPMSystem
import Glibc

/// `fpmctl health`: a probe for load balancers, Kubernetes `exec` probes and scripts, by exit
/// status: 0 ready, 1 live but not ready, 2 not live or the master unreachable.
///
/// It reads the pools' scoreboards, as `fpmctl status` does, rather than asking a
/// `pm.status_listen` socket: it then works for every pool whether or not it has a status
/// listener, needs no FastCGI round trip (nor a timeout to tune), and still catches a master
/// that is stuck, through the heartbeat the master's loop stamps on each scoreboard. The
/// verdict is ``Health``'s, the same the status listener's `/live` and `/ready` give; only the
/// accept queue is the one the master's tick last stored (at most a second old) instead of the
/// kernel's figure of the moment.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that the pools are live and ready (exit 0 ready, 1 not ready, 2 not live or no master).")
    @OptionGroup var locator: MasterLocator
    @ParentCommand var root: FPMCtl
    @Option(name: .long, help: "Only this pool (default: every pool; the worst verdict wins).") var pool: String?
    @Flag(name: .long, help: "Check liveness only: exit 0 when live, 2 when not.") var live = false
    @Option(name: .long, help: "Seconds in one request after which a worker counts as stuck (default: request_terminate_timeout + 10; none without it).")
    var stuckAfter: Double?
    @Option(name: .long, help: "The most waiting connections a ready pool may have (default: pm.max_children).")
    var queueLimit: Int?
    @Flag(name: .shortAndLong, help: "Print nothing; only the exit status tells.") var quiet = false

    func run() throws {
        let pid: pid_t
        do {
            pid = try locator.or(root.locator).masterPID()
        } catch {
            say(2, "not live: \(error)")
            throw ExitCode(2)
        }
        let paths = MasterStateFile.scoreboardPaths(pid: pid)
        let failing = MasterStateFile.read(pid: pid)?.failing ?? [:]
        var worst: Int32 = -1
        for path in paths {
            guard let board = try? Scoreboard(open: path) else { continue }
            defer { board.memory.unmap() }
            if let pool, board.poolName != pool { continue }
            let now = SystemClock.monotonicNanos()
            let running = Processes.isAlive(pid) && now - board.masterHeartbeat < Health.masterStaleNanos
            var input = Health.input(board, masterRunning: running,
                                     stuckAfterMicros: stuckAfter.map { Optional(Int($0 * 1e6)) },
                                     down: failing[board.poolName].map { "pool \(board.poolName) is down: its workers exit at start (last: \($0))" },
                                     nowMono: now)
            if let queueLimit { input.queueLimit = queueLimit }
            let verdict = Health.decide(input)
            let code: Int32 = live ? (verdict.live ? 0 : 2) : verdict.exitCode
            say(code, "[pool \(board.poolName)] \(live ? verdict.liveReason : verdict.reason)")
            worst = max(worst, code)
        }
        guard worst >= 0 else {
            say(2, "not live: \(pool.map { "no pool named \($0)" } ?? "no scoreboard") for master \(pid)")
            throw ExitCode(2)
        }
        if worst != 0 { throw ExitCode(worst) }
    }

    private func say(_ code: Int32, _ line: String) {
        guard !quiet else { return }
        try? FileIO.writeAll(code == 0 ? 1 : 2, line + "\n")
    }
}
