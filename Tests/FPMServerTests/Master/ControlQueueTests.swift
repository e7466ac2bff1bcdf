import FPMConfiguration
@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// The master's driver of process control (`ControlQueue`): commands run in order, what they
/// report comes back as events behind what is already queued, nothing recurses, and an exec or
/// an exit runs after everything else.
@Suite struct ControlQueueTests {
    typealias PC = ProcessControl
    let sec = 1_000_000_000

    /// A running generation-1 machine with workers 10 and 11 in pool www.
    func running() -> PC {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10),
                   emergencyRestart: .init(threshold: 0, intervalSeconds: 0))
        for pid: Int32 in [10, 11] {
            _ = m.handle(.spawned(PC.Child(pid: pid, pool: "www", generation: 1, slot: Int(pid % 10), control: nil, startedMono: 0)))
        }
        _ = m.handle(.started(now: 0))
        return m
    }

    /// Drains `queue` against `machine`, answering commands as a master would (a reload's
    /// check, binding and a failing exec; a reap that finds `reaped`), recording each command.
    func drive(_ queue: ControlQueue, _ machine: inout PC, reaped: [Int32] = [],
               execFails: Bool = true) -> (commands: [PC.Command], code: Int32?) {
        var m = machine
        var done: [PC.Command] = []
        var depth = 0, deepest = 0
        let code = queue.drain(handle: { m.handle($0) }, execute: { command in
            depth += 1
            deepest = max(deepest, depth)
            defer { depth -= 1 }
            done.append(command)
            // A nested drain (a command that posts and drains) only queues.
            #expect(queue.drain(handle: { _ in [] }, execute: { _ in [] }) == nil)
            switch command {
            case .validateReload: return [.reloadChecked(candidate: FPMConfiguration(), preparing: [])]
            case .bindNewListeners: return [.listenersBound([])]
            case .execReload: return execFails ? [.execFailed(reason: "execv: ENOENT")] : []
            case .reapChildren: return reaped.map { .childExited(pid: $0, status: .exited(code: 0), now: sec) }
            default: return []
            }
        })
        #expect(deepest <= 1, "commands never run inside one another")
        machine = m
        return (done, code)
    }

    @Test func commandsQueuedAfterAnExecBoundCommandRunBeforeTheExec() {
        var m = running()
        let queue = ControlQueue()
        // SIGUSR2 then SIGCHLD in one wake-up: the reload reaches its exec while the exit of
        // worker 10 is still queued. The exit is handled and its commands (a respawn, the
        // state file) carried out before the exec, in the order they were asked for.
        queue.post(.signal(SIGUSR2, now: 0))
        queue.post(.signal(SIGCHLD, now: 0))
        let run = drive(queue, &m, reaped: [10])
        let names = run.commands.map { command -> String in
            switch command {
            case .validateReload: return "validate"
            case .reapChildren: return "reap"
            case .bindNewListeners: return "bind"
            case .execReload: return "exec"
            case .release(let child): return "release \(child.pid)"
            case .spawn: return "spawn"
            case .writeState: return "state"
            case .log(let severity, _): return "log \(severity)"
            default: return "\(command)"
            }
        }
        #expect(names == ["validate", "reap", "bind", "release 10", "log notice", "spawn", "state",
                          "exec", "log error", "state"])
        #expect(run.code == nil)
        #expect(m.children.keys.sorted() == [11])
        #expect(m.reload.step == .idle)
        #expect(m.reload.failures == 1)
    }

    @Test func anExitIsTheLastThingDoneAndReturnsItsCode() {
        var m = running()
        let queue = ControlQueue()
        queue.post(.signal(SIGTERM, now: 0))
        queue.post(.signal(SIGCHLD, now: 0))
        let run = drive(queue, &m, reaped: [10, 11])
        #expect(run.code == ExitCodes.ok)
        #expect(run.commands.last == .exit(code: ExitCodes.ok))
        #expect(run.commands.filter { if case .exit = $0 { true } else { false } }.count == 1)
        // Nothing is left for the next drain.
        #expect(drive(queue, &m).commands.isEmpty)
    }

    @Test func eventsAreHandledInTheOrderTheyArrive() {
        var m = running()
        let queue = ControlQueue()
        queue.post(.retire(pid: 10, now: 0))
        queue.post(.retire(pid: 11, now: 0))
        let asked = drive(queue, &m).commands.compactMap { if case .askToQuit(let pid) = $0 { pid } else { nil } }
        #expect(asked == [10, 11])
    }
}
