import ArgumentParser
import FPMStatus
import FPMSystem

/// `fpmctl status`: the pools' status pages rendered from the scoreboards, so it answers even
/// when every worker is busy.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print the pools' status from the scoreboard (works even when every worker is busy).")
    @OptionGroup var locator: MasterLocator
    @ParentCommand var root: FPMCtl
    @Option(name: .long, help: "Only this pool.") var pool: String?
    @Flag(name: .long, help: "Add one entry per worker.") var full = false
    @Option(name: .long, help: "text, json, xml, html or openmetrics.") var format: String = "text"

    func run() throws {
        guard let fmt = StatusFormat(rawValue: format) else { throw ValidationError("unknown format \(format)") }
        let pid = try locator.or(root.locator).masterPID()
        let boards = try Scoreboards.open(pid: pid)
        defer { boards.forEach { $0.memory.unmap() } }
        var printed = 0
        // The text page is for people: say first when readiness is off (a drain or a stop).
        let state = MasterStateFile.read(pid: pid)
        if fmt == .text, let state,
           state.draining == true || state.phase == .finishing || state.phase == .terminating {
            try? FileIO.writeAll(1, "master:               \(state.phaseDescription) (readiness off: /ready answers 503)\n\n")
        }
        for board in boards {
            if let pool, board.poolName != pool { continue }
            let (status, processes) = StatusCollector.collect(board)
            let page = StatusPage.render(pool: status, processes: processes, format: fmt, full: full)
            if fmt == .text && printed > 0 { try? FileIO.writeAll(1, "\n") }
            try? FileIO.writeAll(1, page.body)
            // pm.warm_template: the process the pool's workers are forked from.
            if fmt == .text, let template = state?.templates[board.poolName] {
                try? FileIO.writeAll(1, "warm template:        \(template)\n")
            }
            printed += 1
        }
        if printed == 0 { throw ControlError("no pool named \(pool ?? "")") }
    }
}

/// The scoreboards of a master's pools, mapped read-only for one look.
enum Scoreboards {
    static func open(pid: Int32) throws -> [Scoreboard] {
        let paths = MasterStateFile.scoreboardPaths(pid: pid)
        guard !paths.isEmpty else {
            throw ControlError("no scoreboard found for master \(pid) in \(RuntimeDirectory.searchPaths().joined(separator: " or ")) (its runtime files are readable by its user and its status.group only)")
        }
        var boards: [Scoreboard] = []
        for path in paths {
            do { boards.append(try Scoreboard(open: path)) } catch {
                boards.forEach { $0.memory.unmap() }
                throw ControlError("\(error)")
            }
        }
        return boards
    }
}
