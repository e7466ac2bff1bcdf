import Glibc

/// The small state file a master keeps beside its scoreboards, so `fpmctl` can tell which
/// generation serves and how the last reload went.
public struct MasterStateFile: Sendable, Equatable {
    public var pid: Int32
    public var generation: Int
    /// running, handover, finishing or terminating.
    public var state: String
    public var config: String
    public var pools: [String]
    public var reloadFailures: Int
    public var lastReloadError: String

    /// Where the runtime files of masters live (scoreboards, state).
    public static func runtimeDirectory() -> String {
        Master.findRuntimeDirectory()
    }

    public static func path(pid: Int32) -> String {
        "\(runtimeDirectory())/swift-fpm.\(pid).state"
    }

    public static func read(pid: Int32) -> MasterStateFile? {
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
    public static func scoreboardPaths(pid: Int32) -> [String] {
        guard let state = read(pid: pid) else { return [] }
        return state.pools.map { Scoreboard.path(directory: runtimeDirectory(), masterPID: pid, pool: $0) }
    }
}
