/// How the master drives process control without recursion: an event goes in, its commands are
/// carried out in order, and what a command reports back (a reaped child, a checked
/// configuration, a forked preparation) comes back as events queued behind everything already
/// waiting. Nothing a command does re-enters the state machine while another command's
/// batch is still running.
///
/// Two commands end the process or replace its image, `.execReload` and `.exit`: they are held
/// until the queue is empty, so no command or event queued after them is lost or overtaken.
/// A class: the master's commands may post events (a nested `post` only queues), and the
/// queue must be the same one the running `drain` reads.
package final class ControlQueue {
    private var events: [ProcessControl.Event] = []
    private var head = 0
    private var commands: [ProcessControl.Command] = []
    private var next = 0
    /// `.execReload` / `.exit` met while other work was queued.
    private var final: [ProcessControl.Command] = []
    private var draining = false

    package init() {}

    /// Whether a `drain` is running: a post made now is handled by it.
    package var isDraining: Bool { draining }

    package func post(_ event: ProcessControl.Event) {
        events.append(event)
    }

    /// Handles every queued event, breadth-first: `handle` turns an event into commands,
    /// `execute` carries one out and returns the events it produced. Returns the exit code
    /// once an `.exit` was carried out (it is then the last thing done). A drain started
    /// inside another one returns nil at once; the outer one handles what was posted.
    package func drain(handle: (ProcessControl.Event) -> [ProcessControl.Command],
                       execute: (ProcessControl.Command) -> [ProcessControl.Event]) -> Int32? {
        guard !draining else { return nil }
        draining = true
        defer { draining = false }
        while true {
            if next < commands.count {
                let command = commands[next]
                next += 1
                switch command {
                case .execReload, .exit:
                    final.append(command)
                default:
                    events += execute(command)
                }
            } else if head < events.count {
                let event = events[head]
                head += 1
                commands.removeAll(keepingCapacity: true)
                next = 0
                commands = handle(event)
            } else if !final.isEmpty {
                let command = final.removeFirst()
                if case .exit(let code) = command {
                    _ = execute(command)
                    reset()
                    return code
                }
                events += execute(command)
            } else {
                reset()
                return nil
            }
            if head > 64 && head == events.count { events.removeAll(keepingCapacity: true); head = 0 }
        }
    }

    private func reset() {
        events.removeAll(keepingCapacity: true)
        head = 0
        commands.removeAll(keepingCapacity: true)
        next = 0
        final.removeAll()
    }
}
