import FPMSystem
import Glibc

/// The small state file a master keeps beside its scoreboards, so `fpmctl` can tell which
/// generation serves and how the last reload went.
package struct MasterStateFile: Sendable, Equatable {
    package var pid: Int32
    package var generation: Int
    /// running, handover, finishing or terminating.
    package var state: String
    package var config: String
    package var pools: [String]
    package var reloadFailures: Int
    package var lastReloadError: String

    /// Where the runtime files of masters live (scoreboards, state).
    package static func runtimeDirectory() -> String {
        Master.findRuntimeDirectory()
    }

    package static func path(pid: Int32) -> String {
        "\(runtimeDirectory())/swift-fpm.\(pid).state"
    }

    package static func read(pid: Int32) -> MasterStateFile? {
        guard let bytes = FileIO.readFile(path(pid: pid)) else { return nil }
        var values: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        guard let p = values["pid"].flatMap({ Int32($0) }), let g = values["generation"].flatMap({ Int($0) }) else { return nil }
        return MasterStateFile(pid: p, generation: g, state: values["state"] ?? "", config: values["config"] ?? "",
                               pools: (values["pools"] ?? "").split(separator: ",").map(String.init),
                               reloadFailures: values["reload_failures"].flatMap { Int($0) } ?? 0,
                               lastReloadError: values["last_reload_error"] ?? "")
    }

    /// The scoreboard files of a master's pools.
    package static func scoreboardPaths(pid: Int32) -> [String] {
        guard let state = read(pid: pid) else { return [] }
        return state.pools.map { Scoreboard.path(directory: runtimeDirectory(), masterPID: pid, pool: $0) }
    }
}
