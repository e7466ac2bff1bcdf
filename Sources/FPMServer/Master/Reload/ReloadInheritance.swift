import FPMSystem

/// What a master hands to the image it re-executes into on reload, as one typed, versioned
/// value: the validated configuration (as `-tt` text, which reads back to an equal
/// configuration), the generation, the open listeners and hand-off sockets, and the running
/// children. It travels in an unlinked file whose descriptor number is the one environment
/// variable `SWIFT_FPM_INHERITANCE`, so the new image applies exactly what the old one validated
/// and never reads the configuration files again.
///
/// The encoding is line-based text — `swift-fpm-inheritance <version>`, then one record per
/// line, then `configuration <byte count>` followed by the raw configuration text — so a
/// mismatched binary fails loudly (`UnsupportedVersion`) instead of misreading it.
package struct ReloadInheritance: Equatable, Sendable {
    package static let environmentName = "SWIFT_FPM_INHERITANCE"
    package static let version = 1

    package struct Listener: Equatable, Sendable {
        package var fd: Int32
        /// The listen address as written (`127.0.0.1:9000`, `/run/fpm.sock`).
        package var key: String
    }

    /// A pool's hand-off socket: `read == write` for a self-connected one (one descriptor).
    package struct Handoff: Equatable, Sendable {
        package var pool: String
        package var read: Int32
        package var write: Int32
    }

    package struct Child: Equatable, Sendable {
        package var pid: Int32
        package var pool: String
        package var generation: Int
        /// The master's end of its control channel; nil for `exec` workers.
        package var control: Int32?
        /// Already asked to finish (a previous generation, a retired worker).
        package var quitting: Bool
        /// When it was forked (the monotonic clock is system-wide, so it survives exec).
        package var startedMono: Int
    }

    /// A running worker's stdout or stderr pipe (catch_workers_output): the read end the master
    /// holds, so what the previous generation says after the exec is still logged.
    package struct Output: Equatable, Sendable {
        package var pid: Int32
        package var fd: Int32
        /// `stdout` or `stderr`.
        package var stream: String
        package var decorated: Bool
        package var pool: String
    }

    /// The configuration the previous image ran, for a new image that cannot start with the
    /// new one: it restarts with this instead of exiting under its inherited workers.
    package struct Fallback: Equatable, Sendable {
        package var configurationPath: String?
        package var configuration: String
    }

    /// The generation the new image serves (the old one's plus one).
    package var generation: Int
    package var reloadFailures: Int
    package var lastReloadError: String
    /// The configuration file it came from (nil: the embedded default).
    package var configurationPath: String?
    /// The validated configuration, rendered.
    package var configuration: String
    package var fallback: Fallback?
    package var listeners: [Listener]
    package var handoffs: [Handoff]
    package var children: [Child]
    package var outputs: [Output]
    /// Listen addresses whose socket systemd passed (socket activation): systemd owns them, so
    /// no image removes a unix socket's path at exit.
    package var activated: [String] = []
    /// `fpmctl drain` was in force: the new image stays drained (written only then, so an
    /// older image that does not know the record is only refused while draining).
    package var draining = false

    package init(generation: Int, reloadFailures: Int, lastReloadError: String = "", configurationPath: String?,
                 configuration: String, fallback: Fallback? = nil, listeners: [Listener], handoffs: [Handoff],
                 children: [Child], outputs: [Output] = []) {
        self.generation = generation
        self.reloadFailures = reloadFailures
        self.lastReloadError = lastReloadError
        self.configurationPath = configurationPath
        self.configuration = configuration
        self.fallback = fallback
        self.listeners = listeners
        self.handoffs = handoffs
        self.children = children
        self.outputs = outputs
    }

    /// Every descriptor that must survive the exec.
    package var descriptors: [Int32] {
        listeners.map(\.fd) + handoffs.flatMap { $0.read == $0.write ? [$0.read] : [$0.read, $0.write] } + children.compactMap(\.control) + outputs.map(\.fd)
    }

    package struct DecodingError: Error, CustomStringConvertible, Equatable {
        package var description: String
    }

    package func encode() -> [UInt8] {
        var text = "swift-fpm-inheritance \(Self.version)\n"
        text += "generation \(generation)\n"
        text += "reload_failures \(reloadFailures)\n"
        if !lastReloadError.isEmpty { text += "last_reload_error \(String(lastReloadError.map { $0 == "\n" ? " " : $0 }))\n" }
        if let path = fallback?.configurationPath { text += "fallback_path \(path)\n" }
        if let configurationPath { text += "path \(configurationPath)\n" }
        for l in listeners { text += "listener \(l.fd) \(l.key)\n" }
        for h in handoffs { text += "handoff \(h.read) \(h.write) \(h.pool)\n" }
        for key in activated { text += "activated \(key)\n" }
        if draining { text += "draining 1\n" }
        for c in children {
            text += "child \(c.pid) \(c.control.map(String.init) ?? "-") \(c.generation) \(c.quitting ? 1 : 0) \(c.startedMono) \(c.pool)\n"
        }
        for o in outputs { text += "output \(o.pid) \(o.fd) \(o.stream) \(o.decorated ? 1 : 0) \(o.pool)\n" }
        var bytes = Array(text.utf8)
        if let fallback {
            let previous = Array(fallback.configuration.utf8)
            bytes += Array("fallback \(previous.count)\n".utf8) + previous
        }
        let body = Array(configuration.utf8)
        bytes += Array("configuration \(body.count)\n".utf8)
        bytes += body
        return bytes
    }

    package static func decode(_ bytes: [UInt8]) throws(DecodingError) -> ReloadInheritance {
        var value = ReloadInheritance(generation: 0, reloadFailures: 0, configurationPath: nil, configuration: "",
                                      listeners: [], handoffs: [], children: [])
        var offset = 0
        var sawHeader = false
        var fallbackPath: String? = nil
        func fail(_ why: String) -> DecodingError { DecodingError(description: "reload inheritance: \(why)") }
        while offset < bytes.count {
            guard let newline = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) else { throw fail("truncated line") }
            let line = String(decoding: bytes[offset..<newline], as: UTF8.self)
            offset = newline + 1
            let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard let key = fields.first else { throw fail("empty line") }
            let rest = fields.count > 1 ? fields[1] : ""
            if !sawHeader {
                guard key == "swift-fpm-inheritance" else { throw fail("not an inheritance record") }
                guard Int(rest) == version else { throw fail("version \(rest), this binary reads \(version)") }
                sawHeader = true
                continue
            }
            let parts = rest.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            switch key {
            case "generation":
                guard let g = Int(rest) else { throw fail("bad generation '\(rest)'") }
                value.generation = g
            case "reload_failures":
                value.reloadFailures = Int(rest) ?? 0
            case "path":
                value.configurationPath = rest
            case "last_reload_error":
                value.lastReloadError = rest
            case "fallback_path":
                fallbackPath = rest
            case "fallback":
                guard let count = Int(rest), count >= 0, offset + count <= bytes.count else { throw fail("bad fallback length '\(rest)'") }
                value.fallback = Fallback(configurationPath: fallbackPath,
                                          configuration: String(decoding: bytes[offset..<(offset + count)], as: UTF8.self))
                offset += count
            case "listener":
                guard parts.count >= 2, let fd = Int32(parts[0]) else { throw fail("bad listener '\(rest)'") }
                value.listeners.append(Listener(fd: fd, key: parts[1...].joined(separator: " ")))
            case "activated":
                value.activated.append(rest)
            case "draining":
                value.draining = rest == "1"
            case "handoff":
                guard parts.count >= 3, let r = Int32(parts[0]), let w = Int32(parts[1]) else { throw fail("bad handoff '\(rest)'") }
                value.handoffs.append(Handoff(pool: parts[2...].joined(separator: " "), read: r, write: w))
            case "child":
                guard parts.count >= 6, let pid = Int32(parts[0]), let g = Int(parts[2]), let started = Int(parts[4]) else {
                    throw fail("bad child '\(rest)'")
                }
                let control: Int32? = parts[1] == "-" ? nil : Int32(parts[1])
                value.children.append(Child(pid: pid, pool: parts[5...].joined(separator: " "), generation: g,
                                            control: control, quitting: parts[3] == "1", startedMono: started))
            case "output":
                guard parts.count >= 5, let pid = Int32(parts[0]), let fd = Int32(parts[1]) else { throw fail("bad output '\(rest)'") }
                value.outputs.append(Output(pid: pid, fd: fd, stream: parts[2], decorated: parts[3] == "1",
                                            pool: parts[4...].joined(separator: " ")))
            case "configuration":
                guard let count = Int(rest), count >= 0, offset + count == bytes.count else { throw fail("bad configuration length '\(rest)'") }
                value.configuration = String(decoding: bytes[offset...], as: UTF8.self)
                return value
            default:
                throw fail("unknown record '\(key)'")
            }
        }
        throw fail("no configuration")
    }

    /// Writes the value to an unlinked file whose descriptor survives `exec`, and names it in
    /// the environment. Returns the descriptor so a failed exec can close it.
    package func publish(runtimeDirectory: String) throws(SystemError) -> Int32 {
        let fd = try InheritedFile.create(in: runtimeDirectory, contents: encode())
        do throws(SystemError) {
            try FileIO.setCloseOnExec(fd, false)
        } catch {
            FileIO.close(fd)
            throw error
        }
        Processes.setEnvironment(Self.environmentName, String(fd))
        return fd
    }

    /// In a re-executed master: the value the previous image published, or nil on a first
    /// start. Clears the variable so workers never see it.
    package static func receive() throws -> ReloadInheritance? {
        guard let text = ProcessEnvironment.value(environmentName) else { return nil }
        Processes.unsetEnvironment(environmentName)
        guard let fd = Int32(text) else { throw DecodingError(description: "reload inheritance: bad descriptor '\(text)'") }
        return try decode(InheritedFile.consume(fd))
    }
}
