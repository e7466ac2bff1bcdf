import FPMSystem
import Glibc

/// The small state file a master keeps beside its scoreboards, so `fpmctl` can tell which
/// generation serves and how the last reload went. One type for the master that writes it and
/// `fpmctl` that reads it: `render` and `parse` are each other's inverse.
package struct MasterStateFile: Sendable, Equatable {
    /// What the master is doing, as `fpmctl` needs to know it.
    package enum Phase: String, Sendable, Equatable {
        case starting, running, handover, finishing, terminating
    }

    package var pid: Int32
    package var generation: Int
    package var phase: Phase
    package var config: String
    package var pools: [String]
    package var reloadFailures: Int
    package var lastReloadError: String
    /// SIGUSR1s handled (log reopens attempted) by this image, and what failed in the last one
    /// (empty: every log reopened): how `fpmctl reopen` learns the outcome.
    package var reopens: Int
    package var lastReopenError: String
    /// The pool whose once-per-pool preparation a reload is running (empty when none): a slow
    /// migration shows as such in `fpmctl top` and in a reload's timeout, not as a hang.
    package var preparing: String
    /// `fpmctl drain`: readiness is off while the master keeps serving. Parsed as nil from a
    /// master that predates drains (no such key), which `fpmctl drain` must not signal.
    package var draining: Bool?
    /// Pools whose workers exit at start, each with its last worker's end ("exited with code
    /// 1 after 0.004 seconds from start"): respawns back off, and readiness says why.
    package var failing: [String: String]
    /// pm.warm_template: each such pool's template as `fpmctl status` shows it ("pid 1234,
    /// warmUp 37 ms", or "pid 1234, warming up").
    package var templates: [String: String] = [:]

    package init(pid: Int32, generation: Int, phase: Phase, config: String, pools: [String], reloadFailures: Int,
                 lastReloadError: String, reopens: Int = 0, lastReopenError: String = "", preparing: String = "",
                 draining: Bool? = false, failing: [String: String] = [:]) {
        self.preparing = preparing
        self.draining = draining
        self.failing = failing
        self.reopens = reopens
        self.lastReopenError = lastReopenError
        self.pid = pid
        self.generation = generation
        self.phase = phase
        self.config = config
        self.pools = pools
        self.reloadFailures = reloadFailures
        self.lastReloadError = lastReloadError
    }

    /// Where the runtime files of masters live: see `RuntimeDirectory`.
    package static func runtimeDirectory() -> String { RuntimeDirectory.path() }

    package static func path(directory: String = runtimeDirectory(), pid: Int32) -> String {
        "\(directory)/swift-fpm.\(pid).state"
    }

    /// `key=value` lines; values never contain a newline.
    package func render() -> String {
        func flat(_ s: String) -> String { String(s.map { $0 == "\n" ? " " : $0 }) }
        return """
        pid=\(pid)
        generation=\(generation)
        state=\(phase.rawValue)
        config=\(flat(config))
        pools=\(pools.joined(separator: ","))
        reload_failures=\(reloadFailures)
        last_reload_error=\(flat(lastReloadError))
        reopens=\(reopens)
        last_reopen_error=\(flat(lastReopenError))
        preparing=\(flat(preparing))
        draining=\(draining == true ? 1 : 0)
        \(failing.keys.sorted().map { "failing.\($0)=\(flat(failing[$0]!))\n" }.joined())\
        \(templates.keys.sorted().map { "warm_template.\($0)=\(flat(templates[$0]!))\n" }.joined())
        """
    }

    package static func parse(_ text: String) -> MasterStateFile? {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        guard let pid = values["pid"].flatMap({ Int32($0) }), let generation = values["generation"].flatMap({ Int($0) }),
              let phase = values["state"].flatMap({ Phase(rawValue: $0) }) else { return nil }
        var state = MasterStateFile(pid: pid, generation: generation, phase: phase, config: values["config"] ?? "",
                               pools: (values["pools"] ?? "").split(separator: ",").map(String.init),
                               reloadFailures: values["reload_failures"].flatMap { Int($0) } ?? 0,
                               lastReloadError: values["last_reload_error"] ?? "",
                               reopens: values["reopens"].flatMap { Int($0) } ?? 0,
                               lastReopenError: values["last_reopen_error"] ?? "",
                               preparing: values["preparing"] ?? "",
                               draining: values["draining"].map { $0 == "1" },
                               failing: Dictionary(uniqueKeysWithValues: values.compactMap { key, value in
                                   key.hasPrefix("failing.") ? (String(key.dropFirst("failing.".count)), value) : nil
                               }))
        state.templates = Dictionary(uniqueKeysWithValues: values.compactMap { key, value in
            key.hasPrefix("warm_template.") ? (String(key.dropFirst("warm_template.".count)), value) : nil
        })
        return state
    }

    /// Written as a new file and renamed into place, readable by the master's user and `group`.
    package func write(directory: String, group: gid_t? = nil) throws(SystemError) {
        try PrivateFiles.writeAtomically(Self.path(directory: directory, pid: pid), render(), mode: 0o640, group: group)
    }

    /// The phase as an operator reads it: `running, preparing pool www` during a reload's preparation.
    package var phaseDescription: String {
        var text = preparing.isEmpty ? phase.rawValue : "\(phase.rawValue), preparing pool \(preparing)"
        if draining == true && phase != .finishing && phase != .terminating { text += ", draining" }
        return text
    }

    /// The folder that holds the state file of master `pid`, among those `fpmctl` searches.
    package static func directory(of pid: Int32) -> String? {
        RuntimeDirectory.searchPaths().first { FileSystem.canAccess(path(directory: $0, pid: pid), .read) }
    }

    package static func read(pid: Int32) -> MasterStateFile? {
        guard let directory = directory(of: pid), let bytes = FileIO.readFile(path(directory: directory, pid: pid)) else { return nil }
        return parse(String(decoding: bytes, as: UTF8.self))
    }

    /// The scoreboard files of a master's pools.
    package static func scoreboardPaths(pid: Int32) -> [String] {
        guard let directory = directory(of: pid), let state = read(pid: pid) else { return [] }
        return state.pools.map { Scoreboard.path(directory: directory, masterPID: pid, pool: $0) }
    }
}
